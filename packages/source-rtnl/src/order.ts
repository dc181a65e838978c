// Dependency order of ops (PLATFORM "kernel behaviour" 7): deletes first, in reverse
// (routes, addresses, links), then links are created, then changed (master, up), then
// addresses, then routes. Within a phase the diff's order is kept, so the same inputs
// give the same order.
import type { RtnlOp } from "./ops.ts"

export type Phase =
  | "deleteRoutes"
  | "deleteAddresses"
  | "deleteLinks"
  | "createLinks"
  | "updateLinks"
  | "createAddresses"
  | "createRoutes"
  | "none"

export const PHASES: readonly Phase[] = [
  "deleteRoutes",
  "deleteAddresses",
  "deleteLinks",
  "createLinks",
  "updateLinks",
  "createAddresses",
  "createRoutes",
]

export function phaseOf(op: RtnlOp): Phase {
  if (op.kind === "conflict") return "none"
  switch (op.object) {
    case "route":
      return op.kind === "delete" ? "deleteRoutes" : "createRoutes"
    case "address":
      return op.kind === "delete" ? "deleteAddresses" : "createAddresses"
    case "link":
      return op.kind === "delete" ? "deleteLinks" : op.kind === "create" ? "createLinks" : "updateLinks"
    case "linkGroup":
      return "deleteLinks"
  }
}

/** Stable sort of ops into dependency order; conflicts last (they are not applied). */
export function orderOps<T extends RtnlOp>(ops: readonly T[]): T[] {
  const rank = (op: T) => {
    const p = phaseOf(op)
    return p === "none" ? PHASES.length : PHASES.indexOf(p)
  }
  return ops.map((op, i) => ({ op, i, r: rank(op) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.op)
}
