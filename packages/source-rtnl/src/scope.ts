// What an rtnl hint says changed (a Scope of @linx/reconcile, in rtnl's words), and how
// a scoped observe reads it: the entries in arrival order, the last event per route last.
import type { Route } from "./wire/route.ts"

/** The entry kinds an rtnl scope holds. */
export const RTNL_SCOPE = {
  /** a link changed: links are dumped whole, with addresses */
  link: "link",
  /** addresses changed: one address dump */
  addresses: "addresses",
  /** the routes through a link (name, or "#ifindex"), dumped with the kernel's oif filter */
  routesOnLink: "routesOnLink",
  /** one route (key = its kernel key); `event` = the route after the change, or null once deleted */
  route: "route",
  /** policy rules changed: one rule dump */
  rules: "rules",
  /** a static neighbour entry changed: one neighbour dump */
  neighbors: "neighbors",
  /** a static forwarding entry changed: one fdb dump */
  fdb: "fdb",
  /** a nexthop object changed: one nexthop dump */
  nexthops: "nexthops",
} as const

export type RtnlScopeEntry =
  | { readonly kind: "link"; readonly key: string }
  | { readonly kind: "addresses" }
  | { readonly kind: "routesOnLink"; readonly key: string }
  | { readonly kind: "route"; readonly key: string; readonly event?: Route | null }
  | { readonly kind: "rules" }
  | { readonly kind: "neighbors" }
  | { readonly kind: "fdb" }
  | { readonly kind: "nexthops" }

export type RtnlScope = readonly RtnlScopeEntry[]

/** A scope as the loop hands it back (entries of any source's shape; rtnl reads its own kinds). */
export type ScopeEntries = readonly { readonly kind: string; readonly key?: string; readonly event?: unknown }[]

export interface RtnlHint {
  scope?: RtnlScope
  overrun?: true
  /** the event subscription ended: the loop subscribes again */
  ended?: Error
}

/** A scope, sorted by kind. Later route events for a key replace earlier ones. */
export interface ScopeParts {
  links: boolean
  addresses: boolean
  rules: boolean
  neighbors: boolean
  fdb: boolean
  nexthops: boolean
  routesOnLinks: Set<string>
  /** route key → the last event for it; undefined = the scope has no event for a key (dump) */
  routes: Map<string, Route | null> | undefined
  /** a route entry came without an event: only a full route dump can answer */
  routesNeedDump: boolean
}

export function splitScope(scope: ScopeEntries): ScopeParts {
  const parts: ScopeParts = {
    links: false,
    addresses: false,
    rules: false,
    neighbors: false,
    fdb: false,
    nexthops: false,
    routesOnLinks: new Set(),
    routes: undefined,
    routesNeedDump: false,
  }
  // the loop hands back what our monitor (or the fake) made: entries of RtnlScopeEntry's shape
  for (const e of scope as RtnlScope) {
    switch (e.kind) {
      case "link":
        parts.links = true
        parts.addresses = true
        break
      case "addresses":
        parts.addresses = true
        break
      case "rules":
        parts.rules = true
        break
      case "neighbors":
        parts.neighbors = true
        break
      case "fdb":
        parts.fdb = true
        break
      case "nexthops":
        // the kernel drops the routes through a deleted nexthop without a route event
        parts.nexthops = true
        parts.routesNeedDump = true
        break
      case "routesOnLink":
        parts.routesOnLinks.add(e.key)
        break
      case "route":
        if (e.event === undefined) parts.routesNeedDump = true
        else {
          parts.routes ??= new Map()
          parts.routes.set(e.key, e.event)
        }
        break
    }
  }
  return parts
}
