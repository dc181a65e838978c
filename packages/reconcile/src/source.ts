// The Source contract (DESIGN §4). Every Linx source satisfies it structurally; so can
// yours. The loop (loop.ts) drives exactly one source and knows nothing else about it.
import type { StandardSchemaV1 } from "@standard-schema/spec"

/**
 * What a hint says changed, to narrow the next look: object kind → `true` (all of that
 * kind) or a list of keys. Sources define their own kinds (rtnl: "links", "addresses",
 * "routes"; netfilter: "tables"). The loop merges scopes by union; a source may ignore
 * a scope and observe everything.
 */
export type Scope = Readonly<Record<string, true | readonly string[]>>

/** "Look now." `overrun` means events were lost: only a full pass is safe. */
export interface Hint {
  scope?: Scope
  overrun?: true
}

export interface ApplyReport<Op> {
  applied: Op[]
  failed: { op: Op; error: Error }[]
}

export interface Source<Desired, Observed, Op, Ownership> {
  /** "rtnl" | "netfilter" | "sysctl" | … */
  readonly kind: string
  /** validates and normalises desired state (a valibot schema, or any Standard Schema) */
  readonly schema: StandardSchemaV1<unknown, Desired>
  /** optional: validates and normalises ownership; the loop passes its output to diff */
  readonly ownershipSchema?: StandardSchemaV1<unknown, Ownership>
  /** reads the kernel: what ownership needs, narrowed by `scope` when the source can */
  observe(scope?: Scope): Promise<Observed>
  /**
   * Pure and deterministic: the ops that take `observed` to `desired`, touching only
   * what `ownership` allows. An op whose `kind` is `"conflict"` is a desired object that
   * collides with a foreign one: it is never applied and the loop reports it.
   */
  diff(desired: Desired, observed: Observed, ownership: Ownership): Op[]
  /** applies the ops in dependency order, as many as it can, and reports each failure */
  reconcile(ops: readonly Op[]): Promise<ApplyReport<Op>>
  /** optional: change hints (events); the returned Disposable stops them */
  subscribe?(onHint: (hint: Hint) => void): Disposable
  /** the `ip …` / `nft …` / `sysctl …` line equivalent to an op */
  describe(op: Op): string
  close(): Promise<void>
}

/** A source of any types, for code that handles many. */
// biome-ignore lint: the loop is generic over every source
export type AnySource = Source<any, any, any, any>

/** True for ops the loop reports as conflicts instead of applying. */
export function isConflictOp(op: unknown): boolean {
  return typeof op === "object" && op !== null && (op as { kind?: unknown }).kind === "conflict"
}
