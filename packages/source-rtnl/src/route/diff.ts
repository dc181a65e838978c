// The diff of desired routes against the kernel's: a full diff walks every observed
// route once against an index of the desired ones; a scoped diff (after events) looks
// only at the routes the events name, and those through the links they name.
import { formatPrefix, networkOf, parseIp, parsePrefix } from "@linx/netlink/ip"
import type { ConflictOp } from "../conflict.ts"
import { type Owner, ownsRoute } from "../ownership.ts"
import {
  isComparableRoute,
  routeIdOfKey,
  type Route,
  type RouteOp,
  RouteMemo,
  type RouteScope,
  routeDiffers,
  type WantedRoute,
  wantedRoute,
  wantedRouteKey,
} from "./model.ts"
import type { RouteSpec } from "../schema.ts"
import { runSteps, STEP_ITEMS, type Steps } from "../steps.ts"

/** The route memo plus the index of each desired route list (one per source). */
export class RouteDiffMemo extends RouteMemo {
  readonly index = new WeakMap<readonly RouteSpec[], DesiredIndex>()
}

interface DesiredIndex {
  wanted: WantedRoute[]
  /** packed id → position in desired */
  byId: Map<string, number>
  /** what scoped diffs look up, built on the first one (a full diff needs none of it) */
  scoped?: ScopedIndex
}

/** What link-scoped diffs look up (a route event's key goes straight to byId): built on the first one. */
interface ScopedIndex {
  /** positions of the routes naming a device (dev or a nexthop dev), by device */
  byDev: Map<string, number[]>
  /** positions of the routes with a gateway and no device, by gateway */
  byGateway: Map<string, number[]>
}

function* indexDesired(desired: readonly RouteSpec[], memo: RouteDiffMemo): Steps<DesiredIndex> {
  const cached = memo.index.get(desired)
  if (cached) return cached
  const idx: DesiredIndex = { wanted: [], byId: new Map() }
  let n = 0
  for (const s of desired) {
    if (++n % STEP_ITEMS === 0) yield
    // no per-spec memo here: the index holds each resolved route (a million-entry WeakMap
    // is a million ephemerons for every garbage collection to trace)
    const w = wantedRoute(s)
    idx.byId.set(w.id, idx.wanted.length)
    idx.wanted.push(w)
  }
  memo.index.set(desired, idx)
  return idx
}

function scopedIndex(idx: DesiredIndex): ScopedIndex {
  if (idx.scoped) return idx.scoped
  const x: ScopedIndex = { byDev: new Map(), byGateway: new Map() }
  const push = (m: Map<string, number[]>, k: string, s: number) => {
    const list = m.get(k)
    if (list) list.push(s)
    else m.set(k, [s])
  }
  idx.wanted.forEach((w, s) => {
    if (!w.nexthops) {
      // the common case, without a Set per route
      if (w.dev) push(x.byDev, w.dev, s)
      else if (w.gateway) push(x.byGateway, w.gateway, s)
      return
    }
    const devs = new Set<string>()
    for (const nh of w.nexthops) if (nh.dev) devs.add(nh.dev)
    for (const d of devs) push(x.byDev, d, s)
    if (!devs.size) {
      const gws = new Set<string>()
      for (const nh of w.nexthops) if (nh.gateway) gws.add(nh.gateway)
      for (const g of gws) push(x.byGateway, g, s)
    }
  })
  idx.scoped = x
  return x
}

function inPrefix(ip: string, prefix: string): boolean {
  const a = parseIp(ip)
  const p = parsePrefix(prefix)
  if (!a || !p || a.family !== p.family) return false
  return formatPrefix(networkOf({ ...a, prefixLen: p.prefixLen })) === formatPrefix(networkOf(p))
}

/**
 * The positions (in desired order) of the desired routes a scoped observation covers: an
 * event's route key and an observed route go to the packed-id index directly (nothing is
 * built for them, however big the table); only a link scope needs the by-device index.
 */
function desiredInScope(index: DesiredIndex, scope: RouteScope, observed: readonly Route[]): number[] {
  const out = new Set<number>()
  for (const k of scope.keys ?? []) {
    const id = routeIdOfKey(k)
    const i = id === undefined ? undefined : index.byId.get(id)
    if (i !== undefined) out.add(i)
  }
  if (scope.links?.size) {
    const idx = scopedIndex(index)
    for (const link of scope.links) {
      for (const s of idx.byDev.get(link) ?? []) out.add(s)
      const prefixes = scope.linkPrefixes?.get(link) ?? []
      if (prefixes.length) {
        for (const [gw, specs] of idx.byGateway) {
          if (prefixes.some((p) => inPrefix(gw, p))) for (const s of specs) out.add(s)
        }
      }
    }
  }
  for (const o of observed) {
    const i = index.byId.get(o.id)
    if (i !== undefined) out.add(i)
  }
  return [...out].sort((a, b) => a - b)
}

/**
 * The prefixes ("10.1.0.0/24") of the addresses on each of `links`, observed and desired:
 * which gateways sit on those links.
 */
export function gatewayPrefixes(
  links: ReadonlySet<string>,
  observed: readonly { index: number; address: string }[],
  desired: readonly { link: string; address: string }[],
  linkName: (index: number) => string | undefined,
): Map<string, string[]> {
  const prefixes = new Map<string, string[]>()
  const add = (link: string | undefined, address: string) => {
    if (link === undefined || !links.has(link)) return
    const p = parsePrefix(address)
    if (!p) return
    const list = prefixes.get(link) ?? []
    list.push(formatPrefix(networkOf(p)))
    prefixes.set(link, list)
  }
  for (const a of observed) add(linkName(a.index), a.address)
  for (const a of desired) add(a.link, a.address)
  return prefixes
}

/**
 * Diffs routes. With a `scope` the observation covered only some routes: only the
 * desired routes it covers are compared, and an owned observed route is deleted only
 * when no desired route has its key.
 */
export function diffRoutes(
  desired: readonly RouteSpec[],
  observed: readonly Route[],
  linkName: (index: number) => string | undefined,
  owner: Owner,
  scope?: RouteScope,
  memo: RouteDiffMemo = new RouteDiffMemo(),
): { ops: RouteOp[]; conflicts: ConflictOp[] } {
  return runSteps(diffRoutesSteps(desired, observed, linkName, owner, scope, memo))
}

/** diffRoutes in steps of STEP_ITEMS routes (see steps.ts). */
export function* diffRoutesSteps(
  desired: readonly RouteSpec[],
  observed: readonly Route[],
  linkName: (index: number) => string | undefined,
  owner: Owner,
  scope?: RouteScope,
  memo: RouteDiffMemo = new RouteDiffMemo(),
): Steps<{ ops: RouteOp[]; conflicts: ConflictOp[] }> {
  const ops: RouteOp[] = []
  const conflicts: ConflictOp[] = []
  const protocol = owner.routeProtocol
  const idx = yield* indexDesired(desired, memo)
  const deletes: RouteOp[] = []
  const compare = (w: WantedRoute, o: Route | undefined) => {
    if (!o) {
      ops.push({ kind: "create", object: "route", route: w, protocol })
      return
    }
    if (o.protocol !== protocol && !owner.adopt && !owner.former.routeProtocols.has(o.protocol)) {
      conflicts.push({
        kind: "conflict",
        object: "route",
        key: wantedRouteKey(w),
        reason: `route ${w.dst} table ${w.table} metric ${w.priority} exists with proto ${o.protocol}, not ${protocol} (set ownership.adopt to take it over)`,
      })
      return
    }
    const why = o.protocol !== protocol ? "protocol" : routeDiffers(w, o, linkName)
    if (why) ops.push({ kind: "update", object: "route", route: w, protocol, reason: why })
  }
  const deleteIfOwned = (o: Route) => {
    if ((o.protocol !== protocol && !owner.former.routeProtocols.has(o.protocol)) || !ownsRoute(owner, o, false)) return
    const op: RouteOp = { kind: "delete", object: "route", route: o }
    const dev = linkName(o.oif)
    if (dev) op.dev = dev
    deletes.push(op)
  }
  if (!scope) {
    // Full diff, observed-driven: one lookup per observed route in the (cached) desired
    // index, then the desired routes nobody matched are created.
    const matched: (Route | undefined)[] = new Array(idx.wanted.length)
    let n = 0
    for (const o of observed) {
      if (++n % STEP_ITEMS === 0) yield
      if (!isComparableRoute(o)) continue
      const i = idx.byId.get(o.id)
      if (i === undefined) deleteIfOwned(o)
      else matched[i] = o
    }
    for (let i = 0; i < idx.wanted.length; i++) {
      if (i % STEP_ITEMS === STEP_ITEMS - 1) yield
      compare(idx.wanted[i]!, matched[i])
    }
  } else {
    const byId = new Map<string, Route>()
    for (const o of observed) if (isComparableRoute(o)) byId.set(o.id, o)
    for (const i of desiredInScope(idx, scope, observed)) {
      const w = idx.wanted[i]!
      compare(w, byId.get(w.id))
    }
    for (const o of byId.values()) if (!idx.byId.has(o.id)) deleteIfOwned(o)
  }
  for (const d of deletes) ops.push(d) // no spread: a million arguments overflow the stack
  return { ops, conflicts }
}
