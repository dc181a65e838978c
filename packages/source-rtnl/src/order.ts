// Dependency order of ops (PLATFORM "kernel behaviour" 7): deletes first, in reverse
// (routes and rules, addresses, links), then links are created, then changed (master,
// up), then addresses, then routes and rules. Within a step the diff's order is kept, so the same inputs
// give the same order. apply.ts runs the same steps as batches.
import type { RtnlOp } from "./ops.ts"

export function rank(op: RtnlOp): number {
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

/**
 * Stable sort of ops into dependency order; conflicts last (they are not applied). A
 * counting sort over the few ranks: a million route ops cost two walks, not a comparison
 * sort of a million wrapper objects. Ops already in order come back as they are (the same
 * array: a million-op copy costs more than the walk that finds it needless).
 */
export function orderOps<T extends RtnlOp>(ops: T[]): T[] {
  const seen = new Set<number>()
  let sorted = true
  let last = -1
  for (const op of ops) {
    const r = rank(op)
    if (r < last) sorted = false
    last = r
    seen.add(r)
  }
  if (sorted) return ops
  const ranks = [...seen].sort((a, b) => a - b)
  const out: T[] = []
  for (const r of ranks) for (const op of ops) if (rank(op) === r) out.push(op)
  return out
}
