// The `ip addr` text of address ops.
import type { AddressOp } from "./diff.ts"

/** The `ip addr` command equivalent to an address op. */
export function describeAddressOp(op: AddressOp): string {
  if (op.kind === "delete") return `ip addr del ${op.address}${op.peer ? ` peer ${op.peer}` : ""} dev ${op.link}`
  const a = op.spec
  const parts = [`ip addr add ${a.address}`]
  if (a.peer) parts.push(`peer ${a.peer}`)
  parts.push(`dev ${a.link}`)
  if (a.label) parts.push(`label ${a.label}`)
  if (a.noPrefixRoute) parts.push("noprefixroute")
  if (a.nodad) parts.push("nodad")
  if (a.home) parts.push("home")
  if (a.mngtmpaddr) parts.push("mngtmpaddr")
  if (a.autojoin) parts.push("autojoin")
  if (a.validLft !== undefined) parts.push(`valid_lft ${a.validLft}`)
  if (a.preferredLft !== undefined) parts.push(`preferred_lft ${a.preferredLft}`)
  parts.push(`proto ${op.proto}`)
  return parts.join(" ")
}
