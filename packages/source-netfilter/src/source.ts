// createNftSource: wiring only. Observe (a consistent look at the owned tables), diff
// (pure), reconcile (one atomic, generation-guarded transaction), check (the same,
// never committed), subscribe (the nftables group), describe (`nft` text).
import {
  type ApplyReport,
  type NetnsRef,
  NetlinkError,
  reportFailure,
  subscribe as subscribeNetlink,
  SubscriptionSet,
} from "@linx/netlink"
import { nl } from "@linx/netlink/wire"
import type { StandardSchemaV1 } from "@standard-schema/spec"
import { NFNLGRP_NFTABLES } from "./wire/constants.ts"
import { createRulesetDiff } from "./diff.ts"
import { learnableTables, learnFrom, type Writer } from "./learn.ts"
import { createNftKernel, type NftKernel } from "./kernel.ts"
import type { NftObserved, TableParts } from "./model.ts"
import { describeNftOp, type NftOp } from "./ops.ts"
import { type NftHint, type NftScopeEntry, transactionHints } from "./monitor.ts"
import { type NftDesired, NftDesiredSchema, type NftOwnership, NftOwnershipSchema } from "./schema.ts"

export interface NftSourceOptions {
  netns?: NetnsRef
  /** an in-memory kernel (tests) */
  kernel?: NftKernel
}

/**
 * What observe() reads: the tables desired state names and ownership lists, whole (the
 * others by name only); with a scope, only the tables the events touched. Without
 * desired state or ownership (`linx show` with no file), every table whole.
 */
export interface NftWant {
  desired?: NftDesired
  ownership?: NftOwnership | undefined
  scope?: readonly { readonly kind: string; readonly key?: string }[] | undefined
}

export interface NftSource extends AsyncDisposable {
  readonly kind: "netfilter"
  readonly schema: StandardSchemaV1<unknown, NftDesired>
  readonly ownershipSchema: StandardSchemaV1<unknown, NftOwnership>
  observe(want?: NftWant): Promise<NftObserved>
  diff(desired: NftDesired, observed: NftObserved, ownership: NftOwnership): NftOp[]
  /** one atomic transaction, guarded by the generation `observed` was taken at */
  reconcile(ops: readonly NftOp[], observed: NftObserved): Promise<ApplyReport<NftOp>>
  /** the same transaction, never committed (nft --check): the kernel's verdict, nothing changed */
  check(ops: readonly NftOp[], observed: NftObserved): Promise<ApplyReport<NftOp>>
  subscribe(onHint: (hint: NftHint) => void): Disposable
  describe(op: NftOp): string
  close(): Promise<void>
}

/** The tables a look reads whole: desired and owned ones, narrowed to a scope's. */
export function tablesOfInterest(want: NftWant | undefined): Set<string> | undefined {
  if (!want?.desired && !want?.ownership) return undefined
  const keys = new Set([...(want.desired?.tables ?? []).map(tableKey), ...(want.ownership?.tables ?? []).map(tableKey)])
  if (!want.scope) return keys
  const touched = new Set(want.scope.filter((e) => e.key !== undefined).map((e) => tableOf(e)))
  return new Set([...keys].filter((k) => touched.has(k)))
}

/** The table key of a scope entry ("inet edge" of "inet edge input"). */
const tableOf = (e: { kind: string; key?: string }) => (e.kind === "table" ? e.key! : e.key!.split(" ", 2).join(" "))

/**
 * Tables of a scoped look that only rule and element events touched: only those chains
 * (their rules, and the anonymous sets those use) and sets are looked at, not the whole table.
 */
export function partsOfInterest(want: NftWant | undefined): Map<string, TableParts> | undefined {
  if (!want?.scope) return undefined
  const whole = new Set(want.scope.filter((e) => e.kind === "table").map((e) => e.key))
  const out = new Map<string, { chains: Set<string>; sets: Set<string>; elements: Map<string, Set<string> | null> }>()
  for (const e of want.scope) {
    if ((e.kind !== "chain" && e.kind !== "set") || e.key === undefined) continue
    const table = tableOf(e)
    if (whole.has(table)) continue
    const parts = out.get(table) ?? { chains: new Set<string>(), sets: new Set<string>(), elements: new Map() }
    out.set(table, parts)
    const name = e.key.slice(table.length + 1)
    if (e.kind === "chain") parts.chains.add(name)
    else {
      parts.sets.add(name)
      // some elements, unless another entry for the set asks for all of it
      const els = (e as NftScopeEntry).elements
      const had = parts.elements.get(name)
      if (!els || had === null) parts.elements.set(name, null)
      else parts.elements.set(name, new Set([...(had ?? []), ...els]))
    }
  }
  if (!out.size) return undefined
  const result = new Map<string, TableParts>()
  for (const [table, p] of out) {
    const some = new Map([...p.elements].filter((x): x is [string, Set<string>] => x[1] !== null))
    result.set(table, { chains: p.chains, sets: p.sets, ...(some.size ? { elements: some } : {}) })
  }
  return result
}

const tableKey = (t: { family: string; name: string }) => `${t.family} ${t.name}`

/**
 * A kernel error on rules compiled without asking the kernel (text-capture.ts): nft's
 * own words for the rule it refused, with the rule and a caret, instead of an errno for
 * the whole chain.
 */
function explained(op: NftOp, e: Error): Error {
  if (op.kind !== "replace" || !(e instanceof NetlinkError)) return e
  for (const r of op.rules) {
    const why = r.wire?.explain?.()
    if (why)
      return Object.assign(new Error(`${why} (${e.message})`), { errno: e.errno, code: e.code, terminal: e.terminal })
  }
  return e
}

export function createNftSource(options: NftSourceOptions = {}): NftSource {
  const kernel = options.kernel ?? createNftKernel(options.netns)
  const subscriptions = new SubscriptionSet()
  // who writes: text rules from nft's batch learn their kernel key from this source's next steady look
  const writer: Writer = { learnable: [] }
  const diff = createRulesetDiff(writer)
  // the rules just written from nft's batch learn their kernel keys from a look right after
  // (in a moment, off the pass): the first foreign change then finds them known
  let learning: ReturnType<typeof setTimeout> | undefined
  const learnSoon = () => {
    learning = undefined
    if (closed || !writer.learnable.length) return
    const tables = learnableTables(writer)
    try {
      learnFrom(writer, kernel.observe(tables))
    } catch {
      writer.learnable.length = 0 // the next pass's look learns them, or the slow way does
    }
  }
  let closed = false

  const run = async (ops: readonly NftOp[], observed: NftObserved, check: boolean): Promise<ApplyReport<NftOp>> => {
    if (closed) throw new Error("netfilter source is closed")
    const report: ApplyReport<NftOp> = { applied: [], failed: [] }
    const real = ops.filter((op) => op.kind !== "conflict")
    if (!real.length) return report
    const failures = kernel.apply(real, { genId: observed.genId, check, writer })
    if (writer.learnable.length && !learning) {
      learning = setTimeout(learnSoon, 0)
      learning.unref?.()
    }
    real.forEach((op, i) => {
      const e = failures.get(i)
      if (e) reportFailure(report, op, describeNftOp(op), explained(op, e))
      else report.applied.push(op)
    })
    return report
  }

  return {
    kind: "netfilter",
    schema: NftDesiredSchema,
    ownershipSchema: NftOwnershipSchema,
    async observe(want) {
      if (closed) throw new Error("netfilter source is closed")
      kernel.assertThere?.() // a namespace only this source keeps alive: the loop lets it go
      const look = tablesOfInterest(want)
      const o = kernel.observe(look, look && partsOfInterest(want))
      if (want?.scope && look) o.scope = look
      return o
    },
    diff: (desired, observed, ownership) => diff(desired, observed, ownership),
    reconcile: (ops, observed) => run(ops, observed, false),
    check: (ops, observed) => run(ops, observed, true),
    subscribe(onHint) {
      // a fake kernel sends its own events
      if (options.kernel)
        return options.kernel.subscribe
          ? subscriptions.add(options.kernel.subscribe(onHint))
          : { [Symbol.dispose]() {} }
      const hints = transactionHints(() => kernel.portId, onHint)
      const sub = subscribeNetlink(nl.NETLINK_NETFILTER, {
        netns: options.netns,
        groups: [NFNLGRP_NFTABLES],
        onMessages: (messages) => hints.feed(messages),
        onOverrun: () => onHint({ overrun: true }),
        onError: (ended) => {
          hints.close()
          onHint({ ended })
        },
      })
      const close = sub.close.bind(sub)
      sub.close = () => {
        hints.close()
        return close()
      }
      return subscriptions.add(sub)
    },
    describe: describeNftOp,
    async close() {
      if (closed) return
      closed = true
      await subscriptions.close()
      kernel.close()
    },
    [Symbol.asyncDispose]() {
      return this.close()
    },
  }
}
