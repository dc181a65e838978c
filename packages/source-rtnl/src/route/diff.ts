// The diff of desired routes against the kernel's: a full diff walks every observed
// route once against a packed index of the desired ones (desired-index.ts); a scoped diff (after events) looks
// only at the routes the events name, and those through the links they name.
import { formatPrefix, networkOf, parseIp, parsePrefix, type TextBytes } from "@linx/netlink/ip"
import type { ConflictOp } from "../conflict.ts"
import { type Owner, ownsRoute } from "../ownership.ts"
import { isComparableType, type Route, type RouteOp, RouteMemo, type RouteScope, wantedRouteKey } from "./model.ts"
import type { RouteSpec } from "../schema.ts"
import { runSteps, STEP_ITEMS, type Steps } from "../steps.ts"
import { R_KIND, R_PROTOCOL, R_TABLE, RouteTable } from "../wire/route-table.ts"
import { DesiredRoutes } from "./desired-index.ts"
import { packedRoutes } from "./packed-list.ts"
import { describeRouteOp } from "./describe.ts"
import type { WantedRoute } from "./model.ts"

/** The route memo plus the packed index of each desired route list (one per source). */
export class RouteDiffMemo extends RouteMemo {
  readonly index = new WeakMap<readonly RouteSpec[], DesiredRoutes>()
}

function* indexDesired(desired: readonly RouteSpec[], memo: RouteDiffMemo): Steps<DesiredRoutes> {
  // (only DesiredRoutes are ever packed into a list: route/json-list.ts)
  const cached = memo.index.get(desired) ?? (packedRoutes(desired) as DesiredRoutes | undefined)
  if (cached) return cached
  const idx = yield* DesiredRoutes.build(desired)
  memo.index.set(desired, idx)
  return idx
}

function inPrefix(ip: string, prefix: string): boolean {
  const a = parseIp(ip)
  const p = parsePrefix(prefix)
  if (!a || !p || a.family !== p.family) return false
  return formatPrefix(networkOf({ ...a, prefixLen: p.prefixLen })) === formatPrefix(networkOf(p))
}

/**
 * The positions (in desired order) of the desired routes a scoped observation covers: an
 * event's route key and an observed route go to the hash directly; a link scope to the
 * positions grouped by device and gateway (made once, on the first link event).
 */
function desiredInScope(index: DesiredRoutes, scope: RouteScope, matched: ReadonlyMap<number, number>): number[] {
  const out = new Set<number>(matched.keys())
  for (const k of scope.keys ?? []) {
    const i = index.findKey(k)
    if (i >= 0) out.add(i)
  }
  if (scope.links?.size) {
    const prefixes = [...scope.links].flatMap((link) => scope.linkPrefixes?.get(link) ?? [])
    for (const i of index.onLinks(scope.links, prefixes, inPrefix)) out.add(i)
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
  observed: RouteTable | readonly Route[],
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
  observed: RouteTable | readonly Route[],
  linkName: (index: number) => string | undefined,
  owner: Owner,
  scope?: RouteScope,
  memo: RouteDiffMemo = new RouteDiffMemo(),
): Steps<{ ops: RouteOp[]; conflicts: ConflictOp[] }> {
  const table = observed instanceof RouteTable ? observed : RouteTable.of(observed)
  const ops: RouteOp[] = []
  const conflicts: ConflictOp[] = []
  const protocol = owner.routeProtocol
  const idx = yield* indexDesired(desired, memo)
  const deletes: RouteOp[] = []
  const packed = packedRoutes(desired) !== undefined
  const words = table.words
  const compare = (i: number, j: number) => {
    if (j < 0) {
      ops.push(
        packed
          ? new PackedRouteCreate(idx, i, protocol)
          : { kind: "create", object: "route", route: idx.wanted(i), protocol },
      )
      return
    }
    const theirs = words[table.at(j) + R_PROTOCOL]!
    if (theirs !== protocol && !owner.adopt && !owner.former.routeProtocols.has(theirs)) {
      const w = idx.wanted(i)
      conflicts.push({
        kind: "conflict",
        object: "route",
        key: wantedRouteKey(w),
        reason: `route ${w.dst} table ${w.table} metric ${w.priority} exists with proto ${theirs}, not ${protocol} (set ownership.adopt to take it over)`,
      })
      return
    }
    const why = theirs !== protocol ? "protocol" : idx.differs(i, table, j, linkName)
    if (why) ops.push({ kind: "update", object: "route", route: idx.wanted(i), protocol, reason: why })
  }
  const deleteIfOwned = (j: number) => {
    const at = table.at(j)
    if (!ownsRoute(owner, { protocol: words[at + R_PROTOCOL]!, table: words[at + R_TABLE]! }, false)) return
    const o = table.route(j)
    const op: RouteOp = { kind: "delete", object: "route", route: o }
    const dev = linkName(o.oif)
    if (dev) op.dev = dev
    deletes.push(op)
  }
  const comparable = (j: number) => {
    const at = table.at(j)
    return isComparableType((words[at + R_KIND]! >>> 8) & 0xff, words[at + R_TABLE]!)
  }
  if (!scope) {
    // Full diff, observed-driven: one lookup per observed route in the (cached) desired
    // hash, then the desired routes nobody matched are created.
    const matched = new Int32Array(idx.length).fill(-1)
    for (let j = 0; j < table.length; j++) {
      if (j % STEP_ITEMS === STEP_ITEMS - 1) yield
      if (!comparable(j)) continue
      const i = idx.find(words, table.at(j))
      if (i < 0) deleteIfOwned(j)
      else matched[i] = j
    }
    for (let i = 0; i < idx.length; i++) {
      if (i % STEP_ITEMS === STEP_ITEMS - 1) yield
      compare(i, matched[i]!)
    }
  } else {
    // the last observed route of a key is the one (events arrive in order)
    const matched = new Map<number, number>()
    const unmatched = new Map<string, number>()
    for (let j = 0; j < table.length; j++) {
      if (!comparable(j)) continue
      const i = idx.find(words, table.at(j))
      if (i < 0) unmatched.set(table.id(j), j)
      else matched.set(i, j)
    }
    for (const i of desiredInScope(idx, scope, matched)) compare(i, matched.get(i) ?? -1)
    for (const j of unmatched.values()) deleteIfOwned(j)
  }
  for (const d of deletes) ops.push(d) // no spread: a million arguments overflow the stack
  return { ops, conflicts }
}

/**
 * The create op of a packed list's route: its route read from the record when asked, a
 * new object each time (a million creates are one small object each, not three with a
 * string; what reads `op.route` is unchanged; JSON says it whole).
 */
export class PackedRouteCreate {
  readonly kind = "create"
  readonly object = "route"
  readonly #routes: DesiredRoutes
  readonly #i: number

  constructor(
    routes: DesiredRoutes,
    i: number,
    readonly protocol: number,
  ) {
    this.#routes = routes
    this.#i = i
  }

  get route(): WantedRoute {
    return this.#routes.wanted(this.#i)
  }

  /** Writes what describeRouteOp says of this op, as bytes (without making the route when it can). */
  describeInto(out: TextBytes): void {
    if (!this.#routes.describeCreate(out, this.#i, this.protocol)) out.text(describeRouteOp(this))
  }

  toJSON(): { kind: "create"; object: "route"; route: WantedRoute; protocol: number } {
    return { kind: this.kind, object: this.object, route: this.route, protocol: this.protocol }
  }
}
