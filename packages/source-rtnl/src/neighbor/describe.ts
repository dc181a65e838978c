// Neighbour ops as the `ip neigh` line that does the same.
import type { NeighborOp } from "./model.ts"
import { stateName } from "./model.ts"
import * as c from "../wire/constants.ts"

export function describeNeighborOp(op: NeighborOp): string {
  if (op.kind === "delete") {
    const n = op.neighbor
    return `ip neigh del ${n.address} dev ${op.link}`
  }
  const n = op.neighbor
  const ll = n.lladdr ? ` lladdr ${n.lladdr}` : ""
  const router = n.flags & c.NTF_ROUTER ? " router" : ""
  const verb = op.kind === "create" ? "add" : "replace"
  return `ip neigh ${verb} ${n.address} dev ${n.link}${ll}${router} nud ${stateName(n.state)} proto ${op.protocol}${op.reason ? `  # ${op.reason}` : ""}`
}
