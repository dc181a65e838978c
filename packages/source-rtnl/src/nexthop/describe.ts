// Nexthop ops as the `ip nexthop` line that does the same.
import type { NexthopOp } from "./model.ts"

export function describeNexthopOp(op: NexthopOp): string {
  if (op.kind === "delete") return `ip nexthop del id ${op.nexthop.id}`
  const s = op.spec
  const parts = [`ip nexthop ${op.kind === "create" ? "add" : "replace"} id ${s.id}`]
  if (s.group)
    parts.push(`group ${s.group.map((g) => ((g.weight ?? 1) > 1 ? `${g.id},${g.weight}` : `${g.id}`)).join("/")}`)
  else if (s.blackhole) parts.push("blackhole")
  else {
    if (s.via) parts.push(`via ${s.via}`)
    if (s.dev) parts.push(`dev ${s.dev}`)
    if (s.onlink) parts.push("onlink")
  }
  parts.push(`proto ${op.protocol}`)
  return parts.join(" ") + (op.kind === "replace" && op.reason ? `  # ${op.reason}` : "")
}
