// FDB ops → kernel requests, link names resolved just before.
import { macBytes, parseIp } from "@linx/netlink/ip"
import type { RtnlRequest } from "../kernel.ts"
import { type IndexOf, missing } from "../request.ts"
import type { FdbOp } from "./model.ts"

export type FdbCreate = Extract<FdbOp, { kind: "create" }>
export type FdbDelete = Extract<FdbOp, { kind: "delete" }>

export function fdbCreate(op: FdbCreate, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const e = op.entry
  const index = indexOf(e.link)
  if (index === undefined) return missing(e.link, "link", label)
  const request = {
    op: "create" as const,
    index,
    lladdr: macBytes(e.lladdr),
    flags: e.flags,
    state: e.state,
    ...(e.dst ? { dst: parseIp(e.dst)!.bytes } : {}),
    ...(e.vni !== undefined ? { vni: e.vni } : {}),
    ...(e.vlan !== undefined ? { vlan: e.vlan } : {}),
  }
  return [{ object: "fdb", request, label }]
}

export function fdbDelete(op: FdbDelete, label: string): RtnlRequest[] {
  const e = op.entry
  const request = {
    op: "delete" as const,
    index: e.index,
    lladdr: macBytes(e.lladdr),
    flags: e.flags,
    state: 0,
    ...(e.dst ? { dst: parseIp(e.dst)!.bytes } : {}),
    ...(e.vni !== undefined ? { vni: e.vni } : {}),
    ...(e.vlan !== undefined ? { vlan: e.vlan } : {}),
  }
  return [{ object: "fdb", request, label }]
}
