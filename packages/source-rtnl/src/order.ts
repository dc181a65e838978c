// Dependency order of ops (PLATFORM "kernel behaviour" 7): deletes first, in reverse
// (routes and rules, addresses, links), then links are created, then changed (master,
// up), then addresses, then routes and rules. Within a step the diff's order is kept, so the same inputs
// give the same order. apply.ts runs the same steps as batches.
import type { RtnlOp } from "./ops.ts"

function rank(op: RtnlOp): number {
  if (op.kind === "conflict") return 7
  switch (op.object) {
    case "route":
      return op.kind === "delete" ? 0 : 6
    case "nexthop":
      // after the routes that use them go, before the routes that use them come (their gateways need addresses)
      return op.kind === "delete" ? 0.5 : 5.5
    case "rule":
    case "neighbor":
    case "fdb":
      return op.kind === "delete" ? 0 : 6
    case "address":
      return op.kind === "delete" ? 1 : 5
    case "link":
      return op.kind === "delete" ? 2 : op.kind === "create" ? 3 : 4
  }
}

/** Stable sort of ops into dependency order; conflicts last (they are not applied). */
export function orderOps<T extends RtnlOp>(ops: readonly T[]): T[] {
  return ops
    .map((op, i) => ({ op, i, r: rank(op) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.op)
}
