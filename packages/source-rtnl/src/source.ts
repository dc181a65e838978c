// createRtnlSource: wiring only. Observe (dumps, or a hint's scope), diff (pure),
// reconcile (phased batches), subscribe (events → hints), describe (`ip` lines), close.
import { type ApplyReport, type NetnsRef, SubscriptionSet } from "@linx/netlink"
import type { StandardSchemaV1 } from "@standard-schema/spec"
import { diffAddresses } from "./address/diff.ts"
import { applyRtnlOps } from "./apply.ts"
import type { ConflictOp } from "./conflict.ts"
import { createNetlinkKernel, type RtnlKernel } from "./kernel.ts"
import { diffLinks } from "./link/diff.ts"
import { diffFarEnds } from "./link/far.ts"
import { type FarLinkEvents, sharedFarLinkEvents } from "./far-events.ts"
import { observeFarEnds, observeRtnl, type RtnlObserved } from "./observe.ts"
import { describeRtnlOp, type RtnlOp } from "./ops.ts"
import { orderOps } from "./order.ts"
import { type Owner, type OwnerMemo, resolveOwnership } from "./ownership.ts"
import { tableNumber } from "./route/schema.ts"
import { diffRoutesSteps, gatewayPrefixes, RouteDiffMemo } from "./route/diff.ts"
import { runSteps, runStepsAsync, type Steps } from "./steps.ts"
import { diffRules } from "./rule/diff.ts"
import { diffNeighbors } from "./neighbor/diff.ts"
import { diffFdb } from "./fdb/model.ts"
import { diffNexthops } from "./nexthop/model.ts"
import {
  type LinkSpec,
  type RtnlDesired,
  RtnlDesiredSchema,
  type RtnlOwnership,
  RtnlOwnershipSchema,
} from "./schema.ts"
import type { RtnlHint, ScopeEntries } from "./scope.ts"

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
  /** where far-end link events come from (default: one subscription per namespace for the whole process) */
  farLinkEvents?: FarLinkEvents
}

/**
 * What observe() needs: the hint's scope (undefined: a full look). Desired state and
 * ownership are accepted as the loop passes them; rtnl reads every link and route of
 * its tables whatever they say, so they do not narrow the look.
 */
export interface RtnlWant {
  desired?: RtnlDesired
  ownership?: RtnlOwnership | undefined
  scope?: ScopeEntries | undefined
}

export interface RtnlSource extends AsyncDisposable {
  readonly kind: "rtnl"
  readonly schema: StandardSchemaV1<unknown, RtnlDesired>
  readonly ownershipSchema: StandardSchemaV1<unknown, RtnlOwnership>
  observe(want?: RtnlWant): Promise<RtnlObserved>
  diff(desired: RtnlDesired, observed: RtnlObserved, ownership?: RtnlOwnership): RtnlOp[]
  /** diff() that lets the event loop run every few milliseconds (a million routes): the same ops */
  diffAsync(desired: RtnlDesired, observed: RtnlObserved, ownership?: RtnlOwnership): Promise<RtnlOp[]>
  reconcile(ops: readonly RtnlOp[], observed?: RtnlObserved): Promise<ApplyReport<RtnlOp>>
  subscribe(onHint: (hint: RtnlHint) => void): Disposable
  describe(op: RtnlOp): string
  close(): Promise<void>
}

/** One pass's diff: every kind against what was observed of it (a scoped look leaves some kinds out). */
function* diffRtnl(
  desired: RtnlDesired,
  observed: RtnlObserved,
  owner: Owner,
  routeMemo: RouteDiffMemo,
): Steps<RtnlOp[]> {
  const names = new Map(observed.links.map((l) => [l.index, l.name]))
  const linkName = (i: number) => names.get(i)
  let ops: RtnlOp[] = []
  const conflicts: ConflictOp[] = []
  const add = (r: { ops: RtnlOp[]; conflicts: ConflictOp[] }) => {
    // no spread: a million desired routes are a million arguments
    pushAll(ops, r.ops)
    pushAll(conflicts, r.conflicts)
  }
  const links = diffLinks(desired.links, observed.links, owner, observed.far)
  const far = diffFarEnds(desired.links, observed.links, observed.far)
  if (far.blocked.size) links.ops = links.ops.filter((op) => !(op.kind === "create" && far.blocked.has(op.spec.name)))
  add(links)
  add(far)
  if (observed.addresses) add(diffAddresses(desired.addresses, observed.addresses, linkName, owner))
  if (observed.rules) add(diffRules(desired.rules, observed.rules, owner))
  // entries on a link this pass deletes (or replaces) go with it: they are not there for the diff
  const gone = new Set(links.ops.flatMap((op) => (op.kind === "delete" ? [op.index] : [])))
  const stays = <T extends { index: number }>(x: readonly T[]) => (gone.size ? x.filter((e) => !gone.has(e.index)) : x)
  if (observed.neighbors) add(diffNeighbors(desired.neighbors, stays(observed.neighbors), linkName, owner))
  if (observed.nexthops) add(diffNexthops(desired.nexthops, observed.nexthops, linkName, owner))
  if (observed.fdb) {
    const remote = new Map(observed.links.map((l) => [l.index, l.vxlan?.remote]))
    add(diffFdb(desired.fdb, stays(observed.fdb), linkName, owner, (i) => remote.get(i)))
  }
  if (observed.routes) {
    let scope = observed.routeScope
    // which gateways sit on the scoped links: the prefixes of their addresses, observed and desired
    if (scope?.links)
      scope = {
        ...scope,
        linkPrefixes: gatewayPrefixes(scope.links, observed.addresses ?? [], desired.addresses, linkName),
      }
    const routes = yield* diffRoutesSteps(desired.routes, observed.routes, linkName, owner, scope, routeMemo)
    // a million route ops (a fresh array) are taken as they are, or joined to the few before
    // them by one native copy: not pushed one by one (~0.2 s per million)
    ops = ops.length ? ops.concat(routes.ops) : routes.ops
    pushAll(conflicts, routes.conflicts)
  }
  // (in order already, the ops come back as they are: pushed onto, not copied)
  return pushAll(orderOps(ops), conflicts)
}

function pushAll<T>(to: T[], from: readonly T[]): T[] {
  for (const x of from) to.push(x)
  return to
}

export function createRtnlSource(options: RtnlSourceOptions = {}): RtnlSource {
  const kernel = options.kernel ?? createNetlinkKernel(options.netns)
  const subscriptions = new SubscriptionSet()
  const tables = options.tables?.map(tableNumber)
  // caches of pure functions of the (immutable) desired state and ownership
  const routeMemo = new RouteDiffMemo()
  const ownerMemo: OwnerMemo = new WeakMap()
  let closed = false

  const check = () => {
    if (closed) throw new Error("rtnl source is closed")
  }

  // Events of the namespaces where desired veths' far ends live (shared by every source
  // of the process): a far end changed there hints its pair. Registered when a look
  // first finds such a veth.
  let hint: ((h: RtnlHint) => void) | undefined
  const farEvents = options.farLinkEvents ?? (options.kernel ? undefined : sharedFarLinkEvents)
  const farWatches = new Map<string, Disposable>()
  const watchFarEnds = (links: readonly LinkSpec[]) => {
    const onHint = hint
    if (!onHint || !farEvents || closed) return
    for (const l of links) {
      if (l.kind !== "veth" || !l.peer.netns) continue
      const key = `${l.peer.netns}\0${l.peer.name}\0${l.name}`
      if (farWatches.has(key)) continue
      const pair = l.name
      farWatches.set(
        key,
        farEvents.watch(l.peer.netns, l.peer.name, (overrun) =>
          onHint(overrun ? { overrun: true } : { scope: [{ kind: "link", key: pair }] }),
        ),
      )
    }
  }

  return {
    kind: "rtnl",
    schema: RtnlDesiredSchema,
    ownershipSchema: RtnlOwnershipSchema,

    async observe(want) {
      check()
      kernel.assertThere?.() // a namespace only this source keeps alive: the loop lets it go
      const d = want?.desired
      const wants = d
        ? {
            neighbors: !!d.neighbors?.length,
            fdb: !!d.fdb?.length,
            nexthops: !!d.nexthops?.length,
            routes: d.routes.length,
          }
        : undefined
      const observed = await observeRtnl(kernel, tables, want?.scope, wants)
      const far = observeFarEnds(kernel, want?.desired?.links)
      if (far) {
        observed.far = far
        watchFarEnds(want?.desired?.links ?? [])
      }
      return observed
    },

    diff(desired, observed, ownership) {
      return runSteps(diffRtnl(desired, observed, resolveOwnership(ownership, ownerMemo), routeMemo))
    },

    diffAsync(desired, observed, ownership) {
      return runStepsAsync(diffRtnl(desired, observed, resolveOwnership(ownership, ownerMemo), routeMemo))
    },

    async reconcile(ops) {
      check()
      return applyRtnlOps(kernel, ops)
    },

    subscribe(onHint) {
      check()
      hint = onHint
      return subscriptions.add(kernel.subscribe(onHint))
    },

    describe: describeRtnlOp,

    async close() {
      if (closed) return
      closed = true
      for (const w of farWatches.values()) w[Symbol.dispose]()
      farWatches.clear()
      await subscriptions.close()
      kernel.close()
    },
    [Symbol.asyncDispose]() {
      return this.close()
    },
  }
}
