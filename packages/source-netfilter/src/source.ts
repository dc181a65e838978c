// createNftSource: wiring only. Observe (a consistent look at the owned tables), diff
// (pure), reconcile (one atomic, generation-guarded transaction), check (the same,
// never committed), subscribe (the nftables group), describe (`nft` text).
import { type NetnsRef, nl, subscribe as subscribeNetlink, SubscriptionSet } from "@linx/netlink"
import type { StandardSchemaV1 } from "@standard-schema/spec"
import { NFNLGRP_NFTABLES } from "./constants.ts"
import { diffRuleset } from "./diff.ts"
import { createNftKernel, type NftKernel } from "./kernel.ts"
import type { NftObserved } from "./model.ts"
import { describeNftOp, type NftOp } from "./ops.ts"
import { hintFor } from "./monitor.ts"
import { type NftDesired, NftDesiredSchema, type NftOwnership, NftOwnershipSchema } from "./schema.ts"

export interface NftSourceOptions {
  netns?: NetnsRef
  /** an in-memory kernel (tests) */
  kernel?: NftKernel
}

export interface NftApplyReport {
  applied: NftOp[]
  failed: { op: NftOp; error: Error }[]
}

export interface NftSource {
  readonly kind: "netfilter"
  readonly schema: StandardSchemaV1<unknown, NftDesired>
  readonly ownershipSchema: StandardSchemaV1<unknown, NftOwnership>
  /** a look at the owned tables; with a scope ({ tables: ["inet edge"] }), at those only */
  observe(scope?: { tables?: true | readonly string[] }): Promise<NftObserved>
  diff(desired: NftDesired, observed: NftObserved, ownership: NftOwnership): NftOp[]
  reconcile(ops: readonly NftOp[]): Promise<NftApplyReport>
  /** sends the transaction without committing it (nft --check): the kernel's verdict, nothing changed */
  check(ops: readonly NftOp[]): Promise<NftApplyReport>
  subscribe(onHint: (hint: { scope?: { tables: string[] }; overrun?: true }) => void): Disposable
  describe(op: NftOp): string
  close(): Promise<void>
}

export function createNftSource(options: NftSourceOptions = {}): NftSource {
  const kernel = options.kernel ?? createNftKernel(options.netns)
  /** tables whose chains and rules observe reads: the desired and owned ones of the last diff */
  let interest: Set<string> | undefined
  const subscriptions = new SubscriptionSet()
  let closed = false

  const run = async (ops: readonly NftOp[], check: boolean): Promise<NftApplyReport> => {
    if (closed) throw new Error("netfilter source is closed")
    const real = ops.filter((op) => op.kind !== "conflict")
    if (!real.length) return { applied: [], failed: [] }
    const genId = (real[0] as { genId: number }).genId
    const failures = kernel.apply(real, { genId, check })
    return {
      applied: real.filter((_, i) => !failures.has(i)),
      failed: real.flatMap((op, i) => (failures.has(i) ? [{ op, error: failures.get(i)! }] : [])),
    }
  }

  return {
    kind: "netfilter",
    schema: NftDesiredSchema,
    ownershipSchema: NftOwnershipSchema,
    async observe(scope) {
      if (closed) throw new Error("netfilter source is closed")
      const only = scope?.tables && scope.tables !== true ? new Set(scope.tables) : undefined
      if (!only || !interest) return kernel.observe(interest)
      const look = new Set([...only].filter((k) => interest!.has(k)))
      const o = kernel.observe(look)
      o.scope = look
      return o
    },
    diff(desired, observed, ownership) {
      interest = new Set([...desired.tables.map((t) => `${t.family} ${t.name}`), ...(ownership?.tables ?? []).map((t) => `${t.family} ${t.name}`)])
      // a first look made before the source knew its tables read every table whole
      return diffRuleset(desired, observed, ownership)
    },
    reconcile: (ops) => run(ops, false),
    check: (ops) => run(ops, true),
    subscribe(onHint) {
      if (options.kernel) return { [Symbol.dispose]() {} }
      const sub = subscribeNetlink(nl.NETLINK_NETFILTER, {
        netns: options.netns,
        groups: [NFNLGRP_NFTABLES],
        onMessages: (messages) => {
          const h = hintFor(messages)
          if (h) onHint(h)
        },
        onOverrun: () => onHint({ overrun: true }),
        onError: () => onHint({ overrun: true }),
      })
      return subscriptions.add(sub)
    },
    describe: describeNftOp,
    async close() {
      if (closed) return
      closed = true
      await subscriptions.close()
      kernel.close()
    },
  }
}
