// Address ops → kernel requests (ip addr add / del), names resolved just before.
import { parseIp, parsePrefix } from "@linx/netlink/ip"
import type { RtnlRequest } from "../kernel.ts"
import { type IndexOf, missing } from "../request.ts"
import { type AddressOp, wantedFlags } from "./diff.ts"
import { lifetimeSeconds } from "./schema.ts"

export type AddressCreate = Extract<AddressOp, { kind: "create" }>
export type AddressDelete = Extract<AddressOp, { kind: "delete" }>

/** Equivalent to: ip addr add ADDRESS [peer P] dev LINK [label L] [noprefixroute] [nodad] proto N. */
export function addressCreate(op: AddressCreate, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const a = op.spec
  const link = indexOf(a.link)
  if (link === undefined) return missing(a.link, "link", label)
  const p = parsePrefix(a.address)!
  const flags = wantedFlags(a)
  const request: RtnlRequest & { object: "address" } = {
    object: "address",
    label,
    request: {
      op: "create",
      family: p.family,
      index: link,
      prefixLen: p.prefixLen,
      local: p.bytes,
      flags,
      proto: op.proto,
    },
  }
  if (a.peer) request.request.peer = parseIp(a.peer)!.bytes
  if (a.label) request.request.label = a.label
  if (a.validLft !== undefined || a.preferredLft !== undefined) {
    const valid = lifetimeSeconds(a.validLft)
    request.request.lifetimes = { valid, preferred: lifetimeSeconds(a.preferredLft ?? a.validLft) }
  }
  return [request]
}

/** Equivalent to: ip addr del ADDRESS [peer P] dev LINK. */
export function addressDelete(op: AddressDelete, label: string): RtnlRequest[] {
  const p = parsePrefix(op.address)!
  const request: RtnlRequest & { object: "address" } = {
    object: "address",
    label,
    request: { op: "delete", family: p.family, index: op.index, prefixLen: p.prefixLen, local: p.bytes },
  }
  if (op.peer) request.request.peer = parseIp(op.peer)!.bytes
  return [request]
}
