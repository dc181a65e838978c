// Applies rtnl ops to a kernel in dependency order (order.ts): each phase is one
// pipelined batch; names are resolved to ifindexes just before the phase that needs
// them; a failure is reported for its op with the kernel's error as cause while the
// other ops still apply. A delete that finds nothing has nothing left to do.
import { type ApplyReport, isNotFound, NetlinkError, reportFailure } from "@linx/netlink"
import { errno } from "@linx/netlink/wire"
import type { RtnlKernel, RtnlRequest } from "./kernel.ts"
import { runStepsAsync, STEP_ITEMS, type Steps } from "./steps.ts"
import { describeRtnlOp, type RtnlOp } from "./ops.ts"
import * as address from "./address/request.ts"
import * as link from "./link/request.ts"
import type { IndexOf } from "./request.ts"
import * as route from "./route/request.ts"
import * as rule from "./rule/request.ts"
import * as neighbor from "./neighbor/request.ts"
import * as fdb from "./fdb/request.ts"
import * as nexthop from "./nexthop/request.ts"

/** One step of the apply: which ops it takes, and the requests each op needs. */
interface Phase<T extends RtnlOp> {
  name: string
  takes(op: RtnlOp): op is T
  build(op: T, label: string, ctx: Context): RtnlRequest[] | Error
  /** the phase changed which links exist: names must be resolved again */
  changesLinks?: true
}

interface Context {
  kernel: RtnlKernel
  indexOf: IndexOf
}

/** A phase with its op type closed over: runs on whatever ops it takes. */
interface Step {
  run(ops: readonly RtnlOp[], ctx: Context, failed: Map<RtnlOp, Error>): Promise<void>
  changesLinks: boolean
}

function phase<T extends RtnlOp>(p: Phase<T>): Step {
  return {
    changesLinks: p.changesLinks ?? false,
    async run(ops, ctx, failed) {
      const list = ops.filter((op): op is T => p.takes(op) && !failed.has(op))
      if (list.length) await runPhase(list, (op, label) => p.build(op, label, ctx), ctx.kernel, failed)
    },
  }
}

const isLinkCreate = (op: RtnlOp): op is link.LinkCreate => op.kind === "create" && op.object === "link"
const PHASES: readonly Step[] = [
  phase({
    name: "deleteRules",
    takes: (op): op is rule.RuleDelete => op.kind === "delete" && op.object === "rule",
    build: (op, l) => rule.ruleDelete(op, l),
  }),
  phase({
    name: "deleteFdb",
    takes: (op): op is fdb.FdbDelete => op.kind === "delete" && op.object === "fdb",
    build: (op, l) => fdb.fdbDelete(op, l),
  }),
  phase({
    name: "deleteNeighbors",
    takes: (op): op is neighbor.NeighborDelete => op.kind === "delete" && op.object === "neighbor",
    build: (op, l) => neighbor.neighborDelete(op, l),
  }),
  phase({
    name: "deleteRoutes",
    takes: (op): op is route.RouteDelete => op.kind === "delete" && op.object === "route",
    build: (op, l) => route.routeDelete(op, l),
  }),
  phase({
    name: "deleteNexthops",
    takes: (op): op is nexthop.NexthopDelete => op.kind === "delete" && op.object === "nexthop",
    build: (op, l) => nexthop.nexthopDelete(op, l),
  }),
  phase({
    name: "deleteAddresses",
    takes: (op): op is address.AddressDelete => op.kind === "delete" && op.object === "address",
    build: (op, l) => address.addressDelete(op, l),
  }),
  phase({
    name: "deleteLinks",
    takes: (op): op is link.LinkDelete => op.kind === "delete" && op.object === "link",
    build: (op, l) => link.linkDelete(op, l),
    changesLinks: true,
  }),
  // links without a parent first: a vlan/macvlan may sit on a link created just before
  phase({
    name: "createLinks",
    takes: (op): op is link.LinkCreate => isLinkCreate(op) && !link.hasParent(op.spec),
    build: (op, l, x) => link.linkCreate(x.kernel, op, l, x.indexOf),
    changesLinks: true,
  }),
  phase({
    name: "createChildLinks",
    takes: (op): op is link.LinkCreate => isLinkCreate(op) && link.hasParent(op.spec),
    build: (op, l, x) => link.linkCreate(x.kernel, op, l, x.indexOf),
    changesLinks: true,
  }),
  // then what creation cannot set: master, alias, up (and the peer's)
  phase({
    name: "settleLinks",
    takes: (op): op is link.LinkCreate => isLinkCreate(op) && link.needsSettling(op.spec),
    build: (op, l, x) => link.linkSettle(op, l, x.indexOf, x.kernel),
  }),
  phase({
    name: "updateLinks",
    takes: (op): op is link.LinkUpdate => op.kind === "update" && op.object === "link",
    build: (op, l, x) => link.linkUpdate(op, l, x.indexOf, x.kernel),
  }),
  phase({
    name: "createAddresses",
    takes: (op): op is address.AddressCreate => op.kind === "create" && op.object === "address",
    build: (op, l, x) => address.addressCreate(op, l, x.indexOf),
  }),
  phase({
    name: "setNexthops",
    takes: (op): op is nexthop.NexthopSet => (op.kind === "create" || op.kind === "replace") && op.object === "nexthop",
    build: (op, l, x) => nexthop.nexthopSet(op, l, x.indexOf),
  }),
  phase({
    name: "createRoutes",
    takes: (op): op is route.RouteCreate => (op.kind === "create" || op.kind === "update") && op.object === "route",
    build: (op, l, x) => route.routeCreate(op, l, x.indexOf),
  }),
  phase({
    name: "setNeighbors",
    takes: (op): op is neighbor.NeighborSet =>
      op.kind !== "delete" && op.kind !== "conflict" && op.object === "neighbor",
    build: (op, l, x) => neighbor.neighborSet(op, l, x.indexOf),
  }),
  phase({
    name: "createFdb",
    takes: (op): op is fdb.FdbCreate => op.kind === "create" && op.object === "fdb",
    build: (op, l, x) => fdb.fdbCreate(op, l, x.indexOf),
  }),
  phase({
    name: "createRules",
    takes: (op): op is rule.RuleCreate => op.kind === "create" && op.object === "rule",
    build: (op, l) => rule.ruleCreate(op, l),
  }),
]

/**
 * A create of something observed absent finds it there: another agent made it between
 * the look and the apply. Exclusive creates leave it alone; the error says so (the next
 * pass sees it and reports a conflict unless it carries this loop's marker).
 */
function appearedMeanwhile(e: NetlinkError): NetlinkError {
  return new NetlinkError(e.errno, {
    context: "it appeared after the look (another agent made it) and was left alone",
    extAck: e.extAck,
    ...(e.request ? { request: e.request } : {}),
  })
}

/** A delete that finds nothing (the object is already gone) has nothing left to do. */
function isGone(op: RtnlOp, e: NetlinkError): boolean {
  return op.kind === "delete" && (isNotFound(e) || e.errno === errno.EADDRNOTAVAIL)
}

export async function applyRtnlOps(kernel: RtnlKernel, ops: readonly RtnlOp[]): Promise<ApplyReport<RtnlOp>> {
  let index: Map<string, number> | undefined
  const ctx: Context = {
    kernel,
    indexOf: (name) => {
      index ??= new Map(kernel.links().map((l) => [l.name, l.index]))
      return index.get(name)
    },
  }
  /** ops that failed in any phase: they take no further step and are never "applied" */
  const failed = new Map<RtnlOp, Error>()
  for (const p of PHASES) {
    await p.run(ops, ctx, failed)
    if (p.changesLinks) index = undefined
  }
  const report: ApplyReport<RtnlOp> = { applied: [], failed: [] }
  for (const op of ops) {
    if (op.kind === "conflict") continue
    const e = failed.get(op)
    if (e) reportFailure(report, op, describeRtnlOp(op), e)
    else report.applied.push(op)
  }
  return report
}

/** The requests of a phase's ops, and the op each belongs to; ops that cannot be built fail. */
function* buildRequests<T extends RtnlOp>(
  list: readonly T[],
  build: (op: T, label: string) => RtnlRequest[] | Error,
  failed: Map<RtnlOp, Error>,
): Steps<{ requests: RtnlRequest[]; owner: T[] }> {
  const requests: RtnlRequest[] = []
  const owner: T[] = []
  let n = 0
  for (const op of list) {
    if (++n % STEP_ITEMS === 0) yield
    const built = build(op, describeRtnlOp(op))
    if (built instanceof Error) {
      failed.set(op, built)
      continue
    }
    for (const req of built) {
      requests.push(req)
      owner.push(op)
    }
  }
  return { requests, owner }
}

/**
 * How many ops' requests are built and sent at once: a phase of a million routes is sent
 * as batches of this many (one barrier each), so that a million requests, their labels
 * and address bytes never live at the same time (the first pass of a full table held
 * ~0.5 kB per route in them). The kernel takes the batches in order, as one.
 */
export const PHASE_CHUNK = 16_384

/** Builds the requests of one phase and sends them in batches of PHASE_CHUNK ops; records failures by op. */
async function runPhase<T extends RtnlOp>(
  list: readonly T[],
  build: (op: T, label: string) => RtnlRequest[] | Error,
  kernel: RtnlKernel,
  failed: Map<RtnlOp, Error>,
): Promise<void> {
  for (let at = 0; at < list.length; at += PHASE_CHUNK) {
    const chunk = list.length <= PHASE_CHUNK ? list : list.slice(at, at + PHASE_CHUNK)
    // a million ops take seconds to build: in steps, with the event loop let in meanwhile
    const { requests, owner } = await runStepsAsync(buildRequests(chunk, build, failed))
    if (!requests.length) continue
    for (const [i, e] of await kernel.send(requests)) {
      const op = owner[i]!
      if (isGone(op, e) || failed.has(op)) continue
      failed.set(op, op.kind === "create" && e.errno === errno.EEXIST ? appearedMeanwhile(e) : e)
    }
  }
}
