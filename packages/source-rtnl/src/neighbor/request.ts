// Neighbour ops → kernel requests, link names resolved just before.
import { macBytes, parseIp } from "@linx/netlink/ip"
import type { RtnlRequest } from "../kernel.ts"
import { type IndexOf, missing } from "../request.ts"
import type { NeighborOp } from "./model.ts"

export type NeighborSet = Extract<NeighborOp, { kind: "create" | "replace" }>
export type NeighborDelete = Extract<NeighborOp, { kind: "delete" }>

export function neighborSet(op: NeighborSet, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const n = op.neighbor
  const index = indexOf(n.link)
  if (index === undefined) return missing(n.link, "link", label)
  const request = {
    op: op.kind,
    family: n.family,
    index,
    address: parseIp(n.address)!.bytes,
    state: n.state,
    flags: n.flags,
    protocol: op.protocol,
    ...(n.lladdr ? { lladdr: macBytes(n.lladdr) } : {}),
  }
  return [{ object: "neighbor", request, label }]
}

export function neighborDelete(op: NeighborDelete, label: string): RtnlRequest[] {
  const n = op.neighbor
  const request = {
    op: "delete" as const,
    family: n.family,
    index: n.index,
    address: parseIp(n.address)!.bytes,
    state: 0,
    flags: 0,
  }
  return [{ object: "neighbor", request, label }]
}
