// The Source contract (DESIGN §4). Every Linx source satisfies it structurally; so can
// yours. The loop drives exactly one source and knows nothing else about it.
//
// Everything a verb needs arrives as an argument: observe learns what to read from
// `want`, reconcile gets the observation its ops were computed from. A source keeps no
// state between verbs beyond its sockets.
import type { StandardSchemaV1 } from "@standard-schema/spec"

/**
 * One thing a hint says changed: an object kind the source defines ("route", "link",
 * "table", …), optionally its key, and optionally what the kernel's event said about it
 * (a scoped observe may use that instead of a dump).
 */
export interface ScopeEntry {
  readonly kind: string
  readonly key?: string
  readonly event?: unknown
}

/** What changed, in arrival order. The loop merges scopes by concatenation. */
export type Scope = readonly ScopeEntry[]

/** "Look now." `overrun` means events were lost: only a full pass is safe. */
export interface Hint {
  scope?: Scope
  overrun?: true
  /** the subscription ended (it delivers nothing more): the loop looks at everything and subscribes again */
  ended?: Error
}

/** What observe needs: the desired state and ownership in force, and the hint's scope. */
export interface Want<Desired, Ownership> {
  desired: Desired
  ownership: Ownership
  /** undefined: a full look */
  scope?: Scope
}

/** One type for every source. A failure's error keeps the kernel's error as `cause`. */
export interface ApplyReport<Op> {
  applied: Op[]
  failed: { op: Op; error: Error }[]
}

export interface Source<Desired, Observed, Op, Ownership> {
  /** "rtnl" | "netfilter" | "sysctl" | … */
  readonly kind: string
  /** validates and normalises desired state (a valibot schema, or any Standard Schema) */
  readonly schema: StandardSchemaV1<unknown, Desired>
  /** optional: validates and normalises ownership; the loop passes its output to the verbs */
  readonly ownershipSchema?: StandardSchemaV1<unknown, Ownership>
  /** reads the kernel: what `want` needs, narrowed by `want.scope` when the source can */
  observe(want: Want<Desired, Ownership>): Promise<Observed>
  /**
   * Pure and deterministic: the ops that take `observed` to `desired`, touching only
   * what `ownership` allows. An op whose `kind` is `"conflict"` is a desired object that
   * collides with a foreign one: it is never applied and the loop reports it.
   */
  diff(desired: Desired, observed: Observed, ownership: Ownership): Op[]
  /**
   * optional: the same diff, letting the event loop run while it works (a source whose
   * desired state can be huge: a million routes). The loop uses it when there is one, so
   * one loop's big diff does not hold back another loop's heal.
   */
  diffAsync?(desired: Desired, observed: Observed, ownership: Ownership): Promise<Op[]>
  /** applies the ops (computed from `observed`) in dependency order, and reports each failure */
  reconcile(ops: readonly Op[], observed: Observed): Promise<ApplyReport<Op>>
  /** optional: change hints (events); the returned Disposable stops them */
  subscribe?(onHint: (hint: Hint) => void): Disposable
  /** the `ip …` / `nft …` / `sysctl …` line equivalent to an op */
  describe(op: Op): string
  close(): Promise<void>
}

/** A source of any types, for code that handles many. */
// biome-ignore lint/suspicious/noExplicitAny: the loop is generic over every source
export type AnySource = Source<any, any, any, any>

/** True for ops the loop reports as conflicts instead of applying. */
export function isConflictOp(op: unknown): boolean {
  return typeof op === "object" && op !== null && (op as { kind?: unknown }).kind === "conflict"
}

/**
 * True for an error that retrying cannot fix: it (or an error in its `cause` chain) says
 * `terminal: true`. Sources mark their errors so (NetlinkError for EPERM/EACCES/EINVAL/
 * EOPNOTSUPP, SysctlError, DesiredStateError); the loop retries those at resync pace.
 */
/**
 * The source's namespace is gone (deleted, its process exited) and only the source kept
 * it alive: `namespaceGone: true` anywhere in the cause chain. The loop stops.
 */
export function isNamespaceGone(e: unknown): boolean {
  for (let x = e, depth = 0; typeof x === "object" && x !== null && depth < 8; depth++) {
    if ((x as { namespaceGone?: unknown }).namespaceGone === true) return true
    x = (x as { cause?: unknown }).cause
  }
  return false
}

export function isTerminalError(e: unknown): boolean {
  for (let x = e, depth = 0; typeof x === "object" && x !== null && depth < 8; depth++) {
    if ((x as { terminal?: unknown }).terminal === true) return true
    x = (x as { cause?: unknown }).cause
  }
  return false
}
