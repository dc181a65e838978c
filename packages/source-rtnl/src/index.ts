// @linx/source-rtnl: links, addresses and routes as a reconcilable source.
export { createRtnlSource, type RtnlSource, type RtnlSourceOptions, type RtnlWant } from "./source.ts"
export type { RtnlObserved } from "./observe.ts"
/** what `RtnlObserved.routes` is: the routes packed, read with route(i), toArray() or iteration */
export type { RouteTable } from "./wire/route-table.ts"
export {
  RtnlDesiredSchema,
  RtnlOwnershipSchema,
  DEFAULT_ROUTE_PROTOCOL,
  type RtnlDesired,
  type RtnlOwnership,
  type LinkSpec,
  type AddressSpec,
  type RouteSpec,
} from "./schema.ts"
export { rtnlAsDesired } from "./as-desired.ts"
/** a desired route list read packed from a JSON file's bytes (the CLI's fast read of a full table) */
export { scanRouteList as scanRouteListJson } from "./route/json-list.ts"
export { isPackedRouteList } from "./route/packed-list.ts"
export { showRtnl } from "./show.ts"
export { carryOwnership } from "./ownership.ts"
export { FarLinkEvents } from "./far-events.ts"
export type { Link, Address, Route, RtnlOp } from "./ops.ts"
export type { RtnlHint, RtnlScope, RtnlScopeEntry } from "./scope.ts"
