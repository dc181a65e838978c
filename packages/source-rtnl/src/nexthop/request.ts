// Nexthop ops → kernel requests, link names resolved just before.
import { parseIp } from "@linx/netlink/ip"
import type { RtnlRequest } from "../kernel.ts"
import { type IndexOf, missing } from "../request.ts"
import type { NexthopRequest } from "../wire/nexthop.ts"
import { type NexthopOp, nexthopFamily } from "./model.ts"

export type NexthopSet = Extract<NexthopOp, { kind: "create" | "replace" }>
export type NexthopDelete = Extract<NexthopOp, { kind: "delete" }>

export function nexthopSet(op: NexthopSet, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const s = op.spec
  const request: NexthopRequest = { op: op.kind, id: s.id, family: nexthopFamily(s), protocol: op.protocol }
  if (s.group) request.group = s.group.map((g) => ({ id: g.id, weight: g.weight ?? 1 }))
  else if (s.blackhole) request.blackhole = true
  else {
    if (s.dev) {
      const oif = indexOf(s.dev)
      if (oif === undefined) return missing(s.dev, "link", label)
      request.oif = oif
    }
    if (s.via) request.gateway = parseIp(s.via)!.bytes
    if (s.onlink) request.onlink = true
  }
  return [{ object: "nexthop", request, label }]
}

export function nexthopDelete(op: NexthopDelete, label: string): RtnlRequest[] {
  return [{ object: "nexthop", request: { op: "delete", id: op.nexthop.id, family: "unspec" }, label }]
}
