// @linx/source-rtnl: links, addresses and routes as a reconcilable source.
export { createRtnlSource, type RtnlSource, type RtnlSourceOptions, type RtnlObserved, type RtnlApplyReport } from "./source.ts"
export {
  RtnlDesiredSchema,
  RtnlOwnershipSchema,
  DEFAULT_ROUTE_PROTOCOL,
  DEFAULT_LINK_GROUP,
  type RtnlDesired,
  type RtnlDesiredInput,
  type RtnlOwnership,
  type LinkSpec,
  type AddressSpec,
  type RouteSpec,
} from "./schema.ts"
export type { Link, LinkChanges } from "./link.ts"
export type { Address } from "./addr.ts"
export type { Route, Nexthop } from "./route.ts"
export type { RtnlOp, ConflictOp } from "./ops.ts"
export type { RtnlHint, RtnlScope } from "./monitor.ts"
export type { RtnlKernel } from "./kernel.ts"
