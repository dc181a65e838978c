// Addresses: the observed type, and the diff of desired addresses against the kernel.
// Owned addresses carry IFA_PROTO = the owner's protocol; nothing else is ever deleted.
// Kernel-made addresses (IPv6 link-local, loopback) are never desired and never owned,
// so they never produce ops.
import { type Family, familyOf } from "@linx/netlink/ip"
import type { ConflictOp } from "../conflict.ts"
import type { Address } from "../wire/addr.ts"
import type { Owner } from "../ownership.ts"
import type { AddressSpec } from "../schema.ts"
import {
  IFA_F_HOMEADDRESS,
  IFA_F_MANAGETEMPADDR,
  IFA_F_MCAUTOJOIN,
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
} from "../wire/constants.ts"

export type { Address }

export type AddressOp =
  | { kind: "create"; object: "address"; spec: AddressSpec; proto: number }
  | { kind: "delete"; object: "address"; link: string; index: number; address: string; peer?: string; family: Family }

const MANAGED_FLAGS = IFA_F_NOPREFIXROUTE | IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN

export function wantedFlags(a: AddressSpec): number {
  let f = 0
  const six = familyOf(a.address) === "inet6"
  if (a.noPrefixRoute) f |= IFA_F_NOPREFIXROUTE
  if (a.nodad && six) f |= IFA_F_NODAD
  if (a.home && six) f |= IFA_F_HOMEADDRESS
  if (a.mngtmpaddr && six) f |= IFA_F_MANAGETEMPADDR
  if (a.autojoin) f |= IFA_F_MCAUTOJOIN
  return f
}

function differs(a: AddressSpec, o: Address, link: string): string | undefined {
  if ((a.peer ?? undefined) !== o.peer) return "peer"
  const label = a.label ?? (o.family === "inet" ? link : undefined)
  if (o.family === "inet" && label !== (o.label ?? link)) return "label"
  const mask = o.family === "inet6" ? MANAGED_FLAGS : IFA_F_NOPREFIXROUTE | IFA_F_MCAUTOJOIN
  if ((wantedFlags(a) & mask) !== (o.flags & mask)) return "flags"
  // lifetimes count down: a finite one is what was asked while it runs; forever and finite differ
  if ((a.validLft === undefined || a.validLft === "forever") !== (o.validLft === undefined)) return "lifetime"
  return undefined
}

/**
 * Diffs addresses: adds missing ones stamped with the owner's IFA_PROTO, replaces
 * changed ones (delete and add: the kernel does not update label or flags in place for
 * IPv4), deletes owned ones that left desired state. An existing address made by
 * someone else is a conflict unless adoption is allowed.
 */
export function diffAddresses(
  desired: readonly AddressSpec[],
  observed: readonly Address[],
  linkName: (index: number) => string | undefined,
  owner: Owner,
): { ops: AddressOp[]; conflicts: ConflictOp[] } {
  const ops: AddressOp[] = []
  const conflicts: ConflictOp[] = []
  const byKey = new Map<string, Address>()
  for (const o of observed) {
    const link = linkName(o.index)
    if (link !== undefined) byKey.set(`${link} ${o.address}`, o)
  }
  const wanted = new Set<string>()
  const proto = owner.addressProtocol
  for (const a of desired) {
    const key = `${a.link} ${a.address}`
    wanted.add(key)
    const o = byKey.get(key)
    if (!o) {
      ops.push({ kind: "create", object: "address", spec: a, proto })
      continue
    }
    const owned = o.proto === proto
    if (!owned && !owner.adopt && !owner.former.addressProtocols.has(o.proto)) {
      conflicts.push({
        kind: "conflict",
        object: "address",
        key,
        reason: `address ${a.address} on ${a.link} exists with proto ${o.proto}, not ${proto} (set ownership.adopt to take it over)`,
      })
      continue
    }
    if (!owned || differs(a, o, a.link)) {
      ops.push(deleteOp(o, a.link))
      ops.push({ kind: "create", object: "address", spec: a, proto })
    }
  }
  for (const o of observed) {
    if (o.proto !== proto && !owner.former.addressProtocols.has(o.proto)) continue
    const link = linkName(o.index)
    if (link === undefined || wanted.has(`${link} ${o.address}`)) continue
    ops.push(deleteOp(o, link))
  }
  return { ops, conflicts }
}

function deleteOp(o: Address, link: string): AddressOp {
  const op: AddressOp = {
    kind: "delete",
    object: "address",
    link,
    index: o.index,
    address: o.address,
    family: o.family,
  }
  if (o.peer) op.peer = o.peer
  return op
}
