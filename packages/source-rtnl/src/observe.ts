// What the rtnl source reads for one pass: everything (a full look), or what a hint's
// scope names. Links are always dumped whole (cheap, and every diff needs the index →
// name map); addresses when links or addresses changed; routes by the events' content
// (no dump), or through the kernel's output-interface filter after a link event.
import type { RtnlKernel } from "./kernel.ts"
import type { LinkSpec } from "./schema.ts"
import { isComparableType, type RouteScope } from "./route/model.ts"
import { RouteTable } from "./wire/route-table.ts"
import { type ScopeEntries, splitScope } from "./scope.ts"
import type { Address } from "./wire/addr.ts"
import * as c from "./wire/constants.ts"
import type { Link } from "./wire/link.ts"
import type { FibRule } from "./wire/rule.ts"
import type { Neighbor } from "./wire/neigh.ts"
import type { FdbEntry } from "./wire/fdb.ts"
import type { Nexthop } from "./wire/nexthop.ts"

/** What observe() returns: kernel truth, possibly narrowed by a scope. */
export interface RtnlObserved {
  links: Link[]
  /** undefined when the scope did not include addresses */
  addresses?: Address[]
  /** undefined when the scope did not include routes; packed (a full table: no object per route) */
  routes?: RouteTable
  /** policy rules of both families; undefined when the scope did not include them */
  rules?: FibRule[]
  /** IPv4 and IPv6 neighbour entries; undefined when the scope did not include them */
  neighbors?: Neighbor[]
  /** bridge forwarding entries; undefined when the scope did not include them */
  fdb?: FdbEntry[]
  /** nexthop objects; undefined when the scope did not include them */
  nexthops?: Nexthop[]
  /** when set, `routes` holds only what this scope covers (a scoped look) */
  routeScope?: RouteScope
  /** the far ends of desired veths whose peer is in another namespace, as found there */
  far?: FarEnd[]
}

/** A veth's far end in another namespace: the link of that name there (if any) and its master's name. */
export interface FarEnd {
  netns: string
  name: string
  link?: Link
  master?: string
}

/** Looks up the far end of every desired veth whose peer lives in another namespace. */
export function observeFarEnds(kernel: RtnlKernel, desired: readonly LinkSpec[] | undefined): FarEnd[] | undefined {
  let out: FarEnd[] | undefined
  for (const l of desired ?? []) {
    // a device to move: is it there already (under its new name)?
    if (l.kind === "device" && l.netns) {
      const name = l.rename ?? l.name
      const link = kernel.linkIn(l.netns, { name })
      out ??= []
      out.push(link ? { netns: l.netns, name, link } : { netns: l.netns, name })
      continue
    }
    if (l.kind !== "veth" || !l.peer.netns) continue
    const netns = l.peer.netns
    const link = kernel.linkIn(netns, { name: l.peer.name })
    const far: FarEnd = { netns, name: l.peer.name }
    if (link) {
      far.link = link
      const master = link.masterIndex ? kernel.linkIn(netns, { index: link.masterIndex }) : undefined
      if (master) far.master = master.name
    }
    out ??= []
    out.push(far)
  }
  return out
}

/** More scoped route keys than this and a full dump is cheaper than bookkeeping. */
const MAX_SCOPED_ROUTES = 4096

/** Every comparable route in every table but local (or in the tables asked for), packed. */
export async function observeAllRoutes(
  kernel: RtnlKernel,
  tables: readonly number[] | undefined,
  expect = 0,
): Promise<RouteTable> {
  const out = new RouteTable(expect + (expect >> 3) + 64)
  for (const family of ["inet", "inet6"] as const) {
    // kernel prefix routes stay in, so a desired route that collides with one is a conflict
    for (const table of tables ?? [undefined]) {
      const filter = table === undefined ? { family } : { family, table }
      await kernel.routes(filter, out, keepRoute)
    }
  }
  return out
}

const keepRoute = (table: number, type: number) => table !== c.RT_TABLE_LOCAL && isComparableType(type, table)

export async function observeRtnl(
  kernel: RtnlKernel,
  tables: readonly number[] | undefined,
  scope: ScopeEntries | undefined,
  /**
   * which kinds the desired state has: a link event looks again only at those (a full look
   * reads all); how many routes it has sizes a full look's table
   */
  wants: { neighbors: boolean; fdb: boolean; nexthops: boolean; routes?: number } = {
    neighbors: true,
    fdb: true,
    nexthops: true,
  },
): Promise<RtnlObserved> {
  const links = kernel.links()
  if (!scope)
    return {
      links,
      addresses: kernel.addresses(),
      routes: await observeAllRoutes(kernel, tables, wants.routes),
      rules: kernel.rules(),
      neighbors: kernel.neighbors(),
      fdb: kernel.fdb(),
      nexthops: kernel.nexthops(),
    }
  const parts = splitScope(scope)
  const observed: RtnlObserved = { links }
  if (parts.rules) observed.rules = kernel.rules()
  // a link event may take its neighbours with it
  // a link going away takes its neighbours, forwarding entries and nexthops with it: looked at
  // again when desired state has some (one of ours left without a desire goes at the next full look)
  if (parts.neighbors || (parts.links && wants.neighbors)) observed.neighbors = kernel.neighbors()
  if (parts.fdb || (parts.links && wants.fdb)) observed.fdb = kernel.fdb()
  if (parts.nexthops || (parts.links && wants.nexthops)) observed.nexthops = kernel.nexthops()
  if (parts.addresses) observed.addresses = kernel.addresses()
  if (parts.routesNeedDump || (parts.routes?.size ?? 0) > MAX_SCOPED_ROUTES) {
    observed.routes = await observeAllRoutes(kernel, tables, wants.routes)
    return observed
  }
  if (!parts.routes && !parts.routesOnLinks.size) return observed
  const routes = new RouteTable()
  const routeScope: RouteScope = {}
  if (parts.routes) {
    // the last event per key is the kernel's state for it: events on one socket arrive in order
    for (const r of parts.routes.values()) if (r && (!tables || tables.includes(r.table))) routes.push(r)
    routeScope.keys = new Set(parts.routes.keys())
  }
  if (parts.routesOnLinks.size) routeScope.links = await routesOnLinks(kernel, links, parts.routesOnLinks, routes)
  observed.routes = routes
  observed.routeScope = routeScope
  return observed
}

/** Adds the routes through the named links to `routes`; returns the link names covered. */
async function routesOnLinks(
  kernel: RtnlKernel,
  links: readonly Link[],
  wanted: ReadonlySet<string>,
  routes: RouteTable,
): Promise<Set<string>> {
  const names = new Set<string>()
  const seen = new Set<string>()
  for (let i = 0; i < routes.length; i++) seen.add(routes.id(i))
  for (const l of links) {
    if (!wanted.has(l.name) && !wanted.has(`#${l.index}`)) continue
    names.add(l.name)
    // a down link carries no IPv4 route (the kernel removed them and refuses new ones),
    // so only IPv6 needs a look: the kernel walks its whole table per dump
    for (const family of l.up ? (["inet", "inet6"] as const) : (["inet6"] as const)) {
      const found = new RouteTable()
      await kernel.routes({ family, oif: l.index }, found, keepRoute)
      for (let j = 0; j < found.length; j++) {
        const id = found.id(j)
        if (seen.has(id)) continue
        seen.add(id)
        routes.copyFrom(found, j)
      }
    }
  }
  // names of links that are gone still scope the desired routes through them
  for (const n of wanted) if (!n.startsWith("#")) names.add(n)
  return names
}
