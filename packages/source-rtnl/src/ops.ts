// The ops a pass applies, and the `ip` command line each one is equivalent to (each
// kind describes its own: link/describe.ts, address/describe.ts, route/describe.ts).
import { describeAddressOp } from "./address/describe.ts"
import type { AddressOp } from "./address/diff.ts"
import type { ConflictOp } from "./conflict.ts"
import { describeLinkOp } from "./link/describe.ts"
import type { LinkOp } from "./link/diff.ts"
import { describeRouteOp } from "./route/describe.ts"
import type { RouteOp } from "./route/model.ts"
import { describeRuleOp } from "./rule/describe.ts"
import type { RuleOp } from "./rule/model.ts"
import { describeNeighborOp } from "./neighbor/describe.ts"
import type { NeighborOp } from "./neighbor/model.ts"
import { describeFdbOp } from "./fdb/describe.ts"
import type { FdbOp } from "./fdb/model.ts"
import { describeNexthopOp } from "./nexthop/describe.ts"
import type { NexthopOp } from "./nexthop/model.ts"

export type { ConflictOp }
export type { Link } from "./wire/link.ts"
export type { Address } from "./wire/addr.ts"
export type { Route } from "./wire/route.ts"
export type { FibRule } from "./wire/rule.ts"
export type { Neighbor } from "./wire/neigh.ts"
export type { FdbEntry } from "./wire/fdb.ts"
export type { Nexthop } from "./wire/nexthop.ts"
export type RtnlOp = LinkOp | AddressOp | RouteOp | RuleOp | NeighborOp | FdbOp | NexthopOp | ConflictOp

/** The `ip` command equivalent to an op: logs, plans, the status page and tests share it. */
export function describeRtnlOp(op: RtnlOp): string {
  if (op.kind === "conflict") return `# conflict: ${op.reason}`
  switch (op.object) {
    case "link":
      return describeLinkOp(op)
    case "address":
      return describeAddressOp(op)
    case "route":
      return describeRouteOp(op)
    case "rule":
      return describeRuleOp(op)
    case "neighbor":
      return describeNeighborOp(op)
    case "fdb":
      return describeFdbOp(op)
    case "nexthop":
      return describeNexthopOp(op)
  }
}
