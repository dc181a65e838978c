// Routes: the observed type, desired routes in kernel terms, and how two are compared.
// Identity is the kernel's route key: (family, table, dst/len, tos, priority); IPv6 has
// no tos. Owned routes carry rtm_protocol = the owner's protocol.
import { type Family, parsePrefix } from "@linx/netlink/ip"
import { defaultMetric, type RouteSpec, routeFamilyOf, tableNumber } from "./schema.ts"
import * as c from "../wire/constants.ts"
import type { RouteMetric } from "../wire/constants.ts"
import { type Nexthop, packRouteId, type Route } from "../wire/route.ts"

export type { Nexthop, Route }

/** A desired route resolved to kernel terms (names stay names until apply). */
export interface WantedRoute {
  /** IPv4 TOS: part of the key */
  tos: number
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
  metrics?: Partial<Record<RouteMetric, number>>
  /** an IPv6 route's preference (RTA_PREF), when given */
  pref?: number
  onlink: boolean
  nexthops?: { gateway?: string; dev?: string; weight: number; onlink: boolean }[]
  nhid?: number
}

export type RouteOp =
  | { kind: "create"; object: "route"; route: WantedRoute; protocol: number }
  | { kind: "update"; object: "route"; route: WantedRoute; protocol: number; reason: string }
  | { kind: "delete"; object: "route"; route: Route; dev?: string }

/** Route types a desired route may have (the others are the kernel's), by name. */
const TYPES: Record<string, number> = Object.fromEntries(
  [c.RTN_UNICAST, c.RTN_BLACKHOLE, c.RTN_UNREACHABLE, c.RTN_PROHIBIT, c.RTN_THROW, c.RTN_LOCAL].map((n) => [
    c.ROUTE_TYPE_NAMES[n]!,
    n,
  ]),
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

/**
 * The kernel's route key of a desired route, readable ("254 10.0.0.0/8 0 0"): made when
 * needed (events name routes by it), not kept per route (a million strings).
 */
export function wantedRouteKey(w: WantedRoute): string {
  return routeKey(w.family, w.table, w.dst, w.tos, w.priority)
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
}

const METRIC_KEYS = Object.keys(c.RTAX) as RouteMetric[]

/** The scope of a route that names none, as ip gives it: host for local, link for a unicast IPv4 route without a gateway. */
export function defaultScope(family: Family, type: number, hasGateway: boolean): number {
  if (type === c.RTN_LOCAL) return c.RT_SCOPE_HOST
  return family === "inet" && type === c.RTN_UNICAST && !hasGateway ? c.RT_SCOPE_LINK : c.RT_SCOPE_UNIVERSE
}

/** Resolves a desired route's defaults the way the kernel will (metric, scope, family). */
export function wantedRoute(s: RouteSpec, memo?: RouteMemo): WantedRoute {
  const cached = memo?.wanted.get(s)
  if (cached) return cached
  const family: Family = routeFamilyOf(s)
  const dst = s.dst === "default" ? (family === "inet" ? "0.0.0.0/0" : "::/0") : s.dst
  const table = tableNumber(s.table)
  const priority = s.metric ?? defaultMetric(family)
  const type = TYPES[s.type ?? "unicast"]!
  // a route through a nexthop object is universe-scoped, as ip makes it
  const hasGateway = !!s.via || !!s.nexthops?.some((n) => n.via) || s.nhid !== undefined
  const scope = s.scope !== undefined ? SCOPES[s.scope]! : defaultScope(family, type, hasGateway)
  const tos = family === "inet" ? (s.tos ?? 0) : 0
  const w: WantedRoute = {
    tos,
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
  let metrics: Partial<Record<RouteMetric, number>> | undefined
  for (const k of METRIC_KEYS) {
    const x = s[k]
    if (x === undefined) continue
    metrics ??= {}
    metrics[k] = typeof x === "boolean" ? (x ? 1 : 0) : x
  }
  if (metrics) w.metrics = metrics
  if (s.nhid !== undefined) w.nhid = s.nhid
  if (s.pref !== undefined) w.pref = c.ROUTE_PREF[s.pref]
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
  // through a nexthop object: the kernel reports the object's gateway and device too (compat
  // mode), and a blackhole object's routes as blackhole routes
  if (w.nhid !== undefined || o.nhid !== undefined) {
    if (o.nhid !== w.nhid) return "nhid"
    if ((o.prefsrc ?? undefined) !== w.prefsrc) return "src"
    return (o.mtu ?? undefined) !== w.mtu ? "mtu" : undefined
  }
  if (o.type !== w.type) return "type"
  if (o.scope !== w.scope) return "scope"
  if ((o.gateway ?? undefined) !== w.gateway) return "via"
  if (w.dev !== undefined && linkName(o.oif) !== w.dev) return "dev"
  if ((o.prefsrc ?? undefined) !== w.prefsrc) return "src"
  if ((o.mtu ?? undefined) !== w.mtu) return "mtu"
  // the kernel reports every IPv6 route's preference (medium unless set)
  if (w.pref !== undefined && (o.pref ?? 0) !== w.pref) return "pref"
  if (o.metrics || w.metrics) {
    const a = JSON.stringify(Object.entries(o.metrics ?? {}).sort())
    const b = JSON.stringify(Object.entries(w.metrics ?? {}).sort())
    if (a !== b) return "metrics"
  }
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
  return isComparableType(r.type, r.table)
}

export function isComparableType(type: number, table: number): boolean {
  return (
    type === c.RTN_UNICAST ||
    type === c.RTN_BLACKHOLE ||
    type === c.RTN_UNREACHABLE ||
    type === c.RTN_PROHIBIT ||
    type === c.RTN_THROW ||
    // local routes of the kernel's own live in table local, which is never compared
    (type === c.RTN_LOCAL && table !== c.RT_TABLE_LOCAL)
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
