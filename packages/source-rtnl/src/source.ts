// createRtnlSource: wiring only. Observe (dumps), diff (pure), reconcile (phased
// batches), subscribe (events → hints), describe (`ip` lines), close.
import { formatPrefix, type NetnsRef, networkOf, parsePrefix, SubscriptionSet } from "@linx/netlink"
import type { StandardSchemaV1 } from "@standard-schema/spec"
import { diffAddresses, type Address } from "./addr.ts"
import { applyRtnlOps } from "./apply.ts"
import { createNetlinkKernel, type RtnlKernel } from "./kernel.ts"
import { diffLinks, type Link } from "./link.ts"
import { type RouteEventView, type RtnlHint, type RtnlScope, startMonitor } from "./monitor.ts"
import { describeRtnlOp, type ConflictOp, type RtnlOp } from "./ops.ts"
import { orderOps } from "./order.ts"
import { resolveOwnership, tableNumber } from "./ownership.ts"
import { diffRoutes, isComparableRoute, observedRouteKey, type Route, type RouteScope } from "./route.ts"
import { type RtnlDesired, RtnlDesiredSchema, type RtnlOwnership, RtnlOwnershipSchema } from "./schema.ts"
import * as c from "./wire/constants.ts"

export interface RtnlSourceOptions {
  /** the namespace: a name (/run/netns/NAME), a path, { pid }, or nothing for the caller's own */
  netns?: NetnsRef
  /** a kernel to talk to instead of rtnetlink (the fake from @linx/source-rtnl/testing) */
  kernel?: RtnlKernel
  /**
   * Route tables to observe ("main" or numbers). Default: every table but local. With a
   * list, route dumps ask the kernel for those tables only (strict dump filtering).
   */
  tables?: readonly (number | "main")[]
}

/** What observe() returns: kernel truth, possibly narrowed by a scope. */
export interface RtnlObserved {
  links: Link[]
  /** undefined when the scope did not include addresses */
  addresses?: Address[]
  /** undefined when the scope did not include routes */
  routes?: Route[]
  /** when set, `routes` holds only what this scope covers (a scoped look) */
  routeScope?: RouteScope
}

export interface RtnlApplyReport {
  applied: RtnlOp[]
  failed: { op: RtnlOp; error: Error }[]
}

export interface RtnlSource {
  readonly kind: "rtnl"
  readonly schema: StandardSchemaV1<unknown, RtnlDesired>
  readonly ownershipSchema: StandardSchemaV1<unknown, RtnlOwnership>
  observe(scope?: RtnlScope): Promise<RtnlObserved>
  diff(desired: RtnlDesired, observed: RtnlObserved, ownership?: RtnlOwnership): RtnlOp[]
  reconcile(ops: readonly RtnlOp[]): Promise<RtnlApplyReport>
  subscribe(onHint: (hint: RtnlHint) => void): Disposable
  describe(op: RtnlOp): string
  close(): Promise<void>
}

/** More scoped route keys than this and a full dump is cheaper than bookkeeping. */
const MAX_SCOPED_ROUTES = 4096

export function createRtnlSource(options: RtnlSourceOptions = {}): RtnlSource {
  const kernel = options.kernel ?? createNetlinkKernel(options.netns)
  const view: RouteEventView = new Map()
  const subscriptions = new SubscriptionSet()
  let closed = false

  const check = () => {
    if (closed) throw new Error("rtnl source is closed")
  }

  const tables = options.tables?.map(tableNumber)
  const allRoutes = (): Route[] => {
    const out: Route[] = []
    for (const family of ["inet", "inet6"] as const) {
      // every table but local (or the tables asked for); kernel prefix routes stay in, so a
      // desired route that collides with one is a conflict
      for (const table of tables ?? [undefined]) {
        const filter = table === undefined ? { family } : { family, table }
        for (const r of kernel.routes(filter)) if (r.table !== c.RT_TABLE_LOCAL && isComparableRoute(r)) out.push(r)
      }
    }
    return out
  }

  return {
    kind: "rtnl",
    schema: RtnlDesiredSchema,
    ownershipSchema: RtnlOwnershipSchema,

    async observe(scope) {
      check()
      const links = kernel.links()
      const observed: RtnlObserved = { links }
      if (!scope || scope.addresses || scope.links) observed.addresses = kernel.addresses()
      if (!scope || scope.routes === true || scope.routesOnLinks === true) {
        view.clear()
        observed.routes = allRoutes()
        return observed
      }
      if (!scope.routes && !scope.routesOnLinks) return observed
      const routes: Route[] = []
      const routeScope: RouteScope = {}
      if (scope.routes) {
        const keys = scope.routes
        let complete = keys.length <= MAX_SCOPED_ROUTES
        for (const k of keys) {
          if (!complete) break
          const r = view.get(k)
          if (r === undefined) complete = false
          else if (r) routes.push(r)
          view.delete(k)
        }
        if (!complete) {
          // the event view cannot answer: look at everything
          view.clear()
          observed.routes = allRoutes()
          return observed
        }
        routeScope.keys = new Set(keys)
      }
      if (scope.routesOnLinks) {
        const wanted = new Set(scope.routesOnLinks)
        const names = new Set<string>()
        const seen = new Set(routes.map((r) => r.id))
        for (const l of links) {
          if (!wanted.has(l.name) && !wanted.has(`#${l.index}`)) continue
          names.add(l.name)
          // a down link carries no IPv4 route (the kernel removed them and refuses new
          // ones), so only IPv6 needs a look: the kernel walks its whole table per dump
          for (const family of l.up ? (["inet", "inet6"] as const) : (["inet6"] as const)) {
            for (const r of kernel.routes({ family, oif: l.index })) {
              if (r.table === c.RT_TABLE_LOCAL || !isComparableRoute(r) || seen.has(r.id)) continue
              seen.add(r.id)
              routes.push(r)
            }
          }
        }
        // names of links that are gone still scope the desired routes through them
        for (const n of wanted) if (!n.startsWith("#")) names.add(n)
        routeScope.links = names
      }
      observed.routes = routes
      observed.routeScope = routeScope
      return observed
    },

    diff(desired, observed, ownership) {
      const owner = resolveOwnership(ownership)
      const names = new Map(observed.links.map((l) => [l.index, l.name]))
      const linkName = (i: number) => names.get(i)
      const ops: RtnlOp[] = []
      const conflicts: ConflictOp[] = []
      const add = (r: { ops: RtnlOp[]; conflicts: ConflictOp[] }) => {
        ops.push(...r.ops)
        conflicts.push(...r.conflicts)
      }
      add(diffLinks(desired.links, observed.links, owner))
      if (observed.addresses) add(diffAddresses(desired.addresses, observed.addresses, linkName, owner))
      if (observed.routes) {
        let scope = observed.routeScope
        if (scope?.links) {
          // which gateways sit on those links: the prefixes of their addresses, observed and desired
          const prefixes = new Map<string, string[]>()
          const addPrefix = (link: string, address: string) => {
            if (!scope!.links!.has(link)) return
            const p = parsePrefix(address)
            if (!p) return
            const list = prefixes.get(link) ?? []
            list.push(formatPrefix(networkOf(p)))
            prefixes.set(link, list)
          }
          for (const a of observed.addresses ?? []) {
            const n = linkName(a.index)
            if (n) addPrefix(n, a.address)
          }
          for (const a of desired.addresses) addPrefix(a.link, a.address)
          scope = { ...scope, linkPrefixes: prefixes }
        }
        add(diffRoutes(desired.routes, observed.routes, linkName, owner, scope))
      }
      return [...orderOps(ops), ...conflicts]
    },

    async reconcile(ops) {
      check()
      return applyRtnlOps(kernel, ops)
    },

    subscribe(onHint) {
      check()
      if (options.kernel) {
        // a fake kernel has no event stream
        return { [Symbol.dispose]() {} }
      }
      return subscriptions.add(startMonitor(options.netns, view, onHint))
    },

    describe: describeRtnlOp,

    async close() {
      if (closed) return
      closed = true
      await subscriptions.close()
      kernel.close()
    },
  }
}

export { observedRouteKey }
