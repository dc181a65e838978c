// Routes: the observed type, desired routes in kernel terms, and their diff.
// Identity is the kernel's route key: (family, table, dst/len, tos, priority); IPv6 has
// no tos. Owned routes carry rtm_protocol = the owner's protocol.
import { familyOf, type Family, formatPrefix, networkOf, parseIp, parsePrefix } from "@linx/netlink/ip"
import type { ConflictOp } from "./conflict.ts"
import type { Owner } from "./ownership.ts"
import { ownsRoute, tableNumber } from "./ownership.ts"
import type { RouteSpec } from "./schema.ts"
import * as c from "./wire/constants.ts"
import { type Nexthop, packRouteId, type Route } from "./wire/route.ts"

export type { Nexthop, Route }

/** A desired route resolved to kernel terms (names stay names until apply). */
export interface WantedRoute {
  /** the kernel's route key, readable: "254 10.0.0.0/8 0 0" */
  key: string
  /** the same key, packed like Route.id */
  id: string
  family: Family
  dst: string
  table: number
  priority: number
  type: number
  scope: number
  gateway?: string
  dev?: string
  prefsrc?: string
  mtu?: number
  onlink: boolean
  nexthops?: { gateway?: string; dev?: string; weight: number; onlink: boolean }[]
}

export type RouteOp =
  | { kind: "create"; object: "route"; route: WantedRoute; protocol: number }
  | { kind: "update"; object: "route"; route: WantedRoute; protocol: number; reason: string }
  | { kind: "delete"; object: "route"; route: Route; dev?: string }

/** Route types a desired route may have (the others are the kernel's), by name. */
const TYPES: Record<string, number> = Object.fromEntries(
  [c.RTN_UNICAST, c.RTN_BLACKHOLE, c.RTN_UNREACHABLE, c.RTN_PROHIBIT].map((n) => [c.ROUTE_TYPE_NAMES[n]!, n]),
)
const SCOPES: Record<string, number> = {
  universe: 0,
  global: 0,
  site: c.RT_SCOPE_SITE,
  link: c.RT_SCOPE_LINK,
  host: c.RT_SCOPE_HOST,
}

export function routeKey(family: Family, table: number, dst: string, tos: number, priority: number): string {
  return family === "inet" ? `${table} ${dst} ${tos} ${priority}` : `${table} ${dst} ${priority}`
}

/** Adds the packed id to a route built by hand (fakes, tests). */
export function withRouteId(r: Omit<Route, "id">): Route {
  const p = parsePrefix(r.dst)!
  return {
    id: packRouteId(r.family === "inet" ? c.AF_INET : c.AF_INET6, r.table, r.priority, r.tos, p.prefixLen, p.bytes),
    ...r,
  }
}

export function observedRouteKey(r: Route): string {
  return routeKey(r.family, r.table, r.dst, r.tos, r.priority)
}

/**
 * Caches of a pure function of desired state (wanted routes, the desired index), keyed
 * by the immutable validated input. One per source: nothing lives at module level.
 */
export class RouteMemo {
  readonly wanted = new WeakMap<RouteSpec, WantedRoute>()
  readonly index = new WeakMap<readonly RouteSpec[], DesiredIndex>()
}

/** Resolves a desired route's defaults the way the kernel will (metric, scope, family). */
export function wantedRoute(s: RouteSpec, memo?: RouteMemo): WantedRoute {
  const cached = memo?.wanted.get(s)
  if (cached) return cached
  const family: Family =
    (s.dst !== "default" ? familyOf(s.dst) : undefined) ??
    (s.via ? familyOf(s.via) : undefined) ??
    (s.src ? familyOf(s.src) : undefined) ??
    (s.nexthops?.find((n) => n.via)?.via ? familyOf(s.nexthops.find((n) => n.via)!.via!) : undefined) ??
    s.family ??
    "inet"
  const dst = s.dst === "default" ? (family === "inet" ? "0.0.0.0/0" : "::/0") : s.dst
  const table = tableNumber(s.table)
  const priority = s.metric ?? (family === "inet6" ? 1024 : 0)
  const type = TYPES[s.type ?? "unicast"]!
  const hasGateway = !!s.via || !!s.nexthops?.some((n) => n.via)
  const scope =
    s.scope !== undefined
      ? SCOPES[s.scope]!
      : family === "inet" && type === c.RTN_UNICAST && !hasGateway
        ? c.RT_SCOPE_LINK
        : c.RT_SCOPE_UNIVERSE
  const p = parsePrefix(dst)!
  const id = packRouteId(family === "inet" ? c.AF_INET : c.AF_INET6, table, priority, 0, p.prefixLen, p.bytes)
  const w: WantedRoute = {
    key: routeKey(family, table, dst, 0, priority),
    id,
    family,
    dst,
    table,
    priority,
    type,
    scope,
    onlink: !!s.onlink,
  }
  if (s.via) w.gateway = s.via
  if (s.dev) w.dev = s.dev
  if (s.src) w.prefsrc = s.src
  if (s.mtu !== undefined) w.mtu = s.mtu
  if (s.nexthops) {
    w.nexthops = s.nexthops.map((n) => {
      const nh: { gateway?: string; dev?: string; weight: number; onlink: boolean } = {
        weight: n.weight ?? 1,
        onlink: !!n.onlink,
      }
      if (n.via) nh.gateway = n.via
      if (n.dev) nh.dev = n.dev
      return nh
    })
  }
  memo?.wanted.set(s, w)
  return w
}

/** Why the observed route differs from the wanted one, or undefined when equal. */
export function routeDiffers(
  w: WantedRoute,
  o: Route,
  linkName: (index: number) => string | undefined,
): string | undefined {
  if (o.type !== w.type) return "type"
  if (o.scope !== w.scope) return "scope"
  if ((o.gateway ?? undefined) !== w.gateway) return "via"
  if (w.dev !== undefined && linkName(o.oif) !== w.dev) return "dev"
  if ((o.prefsrc ?? undefined) !== w.prefsrc) return "src"
  if ((o.mtu ?? undefined) !== w.mtu) return "mtu"
  if (((o.flags & c.RTNH_F_ONLINK) !== 0) !== w.onlink && !w.nexthops) return "onlink"
  if (!!o.nexthops !== !!w.nexthops) return "nexthops"
  if (o.nexthops && w.nexthops) {
    const a = o.nexthops
      .map(
        (n) =>
          `${n.gateway ?? ""}|${w.nexthops!.some((x) => x.dev) ? (linkName(n.oif) ?? n.oif) : ""}|${n.weight}|${(n.flags & c.RTNH_F_ONLINK) !== 0}`,
      )
      .sort()
    const b = w.nexthops.map((n) => `${n.gateway ?? ""}|${n.dev ?? ""}|${n.weight}|${n.onlink}`).sort()
    if (a.join(",") !== b.join(",")) return "nexthops"
  }
  return undefined
}

/** Route types a reconciler compares; local/broadcast/multicast are the kernel's. */
export function isComparableRoute(r: Route): boolean {
  return (
    r.type === c.RTN_UNICAST || r.type === c.RTN_BLACKHOLE || r.type === c.RTN_UNREACHABLE || r.type === c.RTN_PROHIBIT
  )
}

/** What a scoped observation of routes looked at. */
export interface RouteScope {
  /** these route keys (from events) */
  keys?: ReadonlySet<string>
  /** every route whose output device is one of these links (after a link event) */
  links?: ReadonlySet<string>
  /** prefixes ("10.1.0.0/24") of the addresses on those links, observed and desired */
  linkPrefixes?: ReadonlyMap<string, readonly string[]>
}

interface DesiredIndex {
  wanted: WantedRoute[]
  /** packed id → position in desired */
  byId: Map<string, number>
  /** position in desired, so scoped diffs keep desired order */
  position: Map<RouteSpec, number>
  byKey: Map<string, RouteSpec>
  /** routes naming a device (dev or a nexthop dev), by device */
  byDev: Map<string, RouteSpec[]>
  /** routes with a gateway and no device, by gateway */
  byGateway: Map<string, RouteSpec[]>
}

function indexDesired(desired: readonly RouteSpec[], memo: RouteMemo): DesiredIndex {
  const cached = memo.index.get(desired)
  if (cached) return cached
  const idx: DesiredIndex = {
    wanted: [],
    byId: new Map(),
    position: new Map(),
    byKey: new Map(),
    byDev: new Map(),
    byGateway: new Map(),
  }
  const push = (m: Map<string, RouteSpec[]>, k: string, s: RouteSpec) => {
    const list = m.get(k)
    if (list) list.push(s)
    else m.set(k, [s])
  }
  for (const s of desired) {
    const w = wantedRoute(s, memo)
    idx.byId.set(w.id, idx.wanted.length)
    idx.wanted.push(w)
    idx.position.set(s, idx.position.size)
    idx.byKey.set(w.key, s)
    const devs = new Set<string>()
    if (w.dev) devs.add(w.dev)
    for (const nh of w.nexthops ?? []) if (nh.dev) devs.add(nh.dev)
    for (const d of devs) push(idx.byDev, d, s)
    if (!devs.size) {
      const gws = new Set<string>()
      if (w.gateway) gws.add(w.gateway)
      for (const nh of w.nexthops ?? []) if (nh.gateway) gws.add(nh.gateway)
      for (const g of gws) push(idx.byGateway, g, s)
    }
  }
  memo.index.set(desired, idx)
  return idx
}

function inPrefix(ip: string, prefix: string): boolean {
  const a = parseIp(ip)
  const p = parsePrefix(prefix)
  if (!a || !p || a.family !== p.family) return false
  return formatPrefix(networkOf({ ...a, prefixLen: p.prefixLen })) === formatPrefix(networkOf(p))
}

/** The desired routes a scoped observation covers. */
function desiredInScope(idx: DesiredIndex, scope: RouteScope, observed: readonly Route[]): RouteSpec[] {
  const out = new Set<RouteSpec>()
  for (const k of scope.keys ?? []) {
    const s = idx.byKey.get(k)
    if (s) out.add(s)
  }
  for (const link of scope.links ?? []) {
    for (const s of idx.byDev.get(link) ?? []) out.add(s)
    const prefixes = scope.linkPrefixes?.get(link) ?? []
    if (prefixes.length) {
      for (const [gw, specs] of idx.byGateway) {
        if (prefixes.some((p) => inPrefix(gw, p))) for (const s of specs) out.add(s)
      }
    }
  }
  for (const o of observed) {
    const s = idx.byKey.get(observedRouteKey(o))
    if (s) out.add(s)
  }
  return [...out].sort((a, b) => idx.position.get(a)! - idx.position.get(b)!)
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
  memo: RouteMemo = new RouteMemo(),
): { ops: RouteOp[]; conflicts: ConflictOp[] } {
  const ops: RouteOp[] = []
  const conflicts: ConflictOp[] = []
  const protocol = owner.routeProtocol
  const idx = indexDesired(desired, memo)
  const deletes: RouteOp[] = []
  const compare = (w: WantedRoute, o: Route | undefined) => {
    if (!o) {
      ops.push({ kind: "create", object: "route", route: w, protocol })
      return
    }
    if (o.protocol !== protocol && !owner.adopt) {
      conflicts.push({
        kind: "conflict",
        object: "route",
        key: w.key,
        reason: `route ${w.dst} table ${w.table} metric ${w.priority} exists with proto ${o.protocol}, not ${protocol} (set ownership.adopt to take it over)`,
      })
      return
    }
    const why = o.protocol !== protocol ? "adopt" : routeDiffers(w, o, linkName)
    if (why) ops.push({ kind: "update", object: "route", route: w, protocol, reason: why })
  }
  const deleteIfOwned = (o: Route) => {
    if (o.protocol !== protocol || !ownsRoute(owner, o, false)) return
    const op: RouteOp = { kind: "delete", object: "route", route: o }
    const dev = linkName(o.oif)
    if (dev) op.dev = dev
    deletes.push(op)
  }
  if (!scope) {
    // Full diff, observed-driven: one lookup per observed route in the (cached) desired
    // index, then the desired routes nobody matched are created.
    const matched: (Route | undefined)[] = new Array(idx.wanted.length)
    for (const o of observed) {
      if (!isComparableRoute(o)) continue
      const i = idx.byId.get(o.id)
      if (i === undefined) deleteIfOwned(o)
      else matched[i] = o
    }
    for (let i = 0; i < idx.wanted.length; i++) compare(idx.wanted[i]!, matched[i])
  } else {
    const byId = new Map<string, Route>()
    for (const o of observed) if (isComparableRoute(o)) byId.set(o.id, o)
    for (const s of desiredInScope(idx, scope, observed)) {
      const w = wantedRoute(s, memo)
      compare(w, byId.get(w.id))
    }
    for (const o of byId.values()) if (!idx.byId.has(o.id)) deleteIfOwned(o)
  }
  ops.push(...deletes)
  return { ops, conflicts }
}
