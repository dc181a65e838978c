// FDB ops as the `bridge fdb` line that does the same.
import * as c from "../wire/constants.ts"
import type { FdbOp } from "./model.ts"

export function describeFdbOp(op: FdbOp): string {
  const e = op.entry
  const link = op.kind === "create" ? op.entry.link : op.link
  const parts = [e.lladdr, "dev", link]
  if (e.dst) parts.push("dst", e.dst)
  if (e.vni !== undefined) parts.push("vni", String(e.vni))
  if (e.vlan !== undefined) parts.push("vlan", String(e.vlan))
  parts.push(e.flags & c.NTF_MASTER ? "master" : "self")
  if (op.kind === "create") parts.push(e.flags & c.NTF_MASTER ? "static" : "permanent")
  const verb = op.kind === "delete" ? "del" : e.dst ? "append" : "add"
  return `bridge fdb ${verb} ${parts.join(" ")}`
}
