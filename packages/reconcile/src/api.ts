// The loop's public face: its options, its events and what createReconciler returns.
import type { BackoffOptions } from "./backoff.ts"
import type { Clock } from "./clock.ts"
import type { ConflictReason, ContestOptions } from "./convergence.ts"
import type { LoopStatus, PassResult } from "./result.ts"
import type { Source } from "./source.ts"

export interface Logger {
  debug?(event: Record<string, unknown>): void
  info(event: Record<string, unknown>): void
  warn(event: Record<string, unknown>): void
  error(event: Record<string, unknown>): void
}

export interface ReconcilerOptions<D, O, Op, Own> {
  source: Source<D, O, Op, Own>
  /** desired state as written (validated with source.schema) */
  desired: unknown
  /** what the loop may touch (validated with source.ownershipSchema); fixed for the loop's life */
  ownership: Own
  /** a name for logs and the status endpoint. Default: the source's kind */
  name?: string
  /** full pass at least this often (±jitter). Default 30 000 ms */
  resyncMs?: number
  /** fraction of resyncMs. Default 0.1 */
  jitter?: number
  backoff?: BackoffOptions
  contest?: ContestOptions
  /** aborting it stops the loop */
  signal?: AbortSignal
  /**
   * Bound to a workload: the loop stops by itself when process `pid` exits (event-driven,
   * a pidfd; within milliseconds), with `status().stopReason` and a `stopped` event. A
   * loop whose namespace is gone any other way stops at its next pass.
   */
  lifetime?: { pid: number }
  /** close the source on stop (its sockets and namespace). Default true */
  closeSource?: boolean
  logger?: Logger
  clock?: Clock
  random?: () => number
}

/** What each loop event hands its listeners. */
export type LoopEvents = {
  pass: PassResult
  drift: { ops: string[]; pass: PassResult }
  conflict: { op: string; reason: ConflictReason }
  error: { error: Error; pass?: PassResult }
  /** why it stopped: undefined when stop() was called */
  stopped: { reason?: string }
}

export interface Reconciler<D, Op> extends AsyncDisposable {
  readonly name: string
  /** subscribes to hints, then runs the first full pass; resolves with its result */
  start(): Promise<PassResult>
  /** validates, then runs a pass; rejects (DesiredStateError) and keeps the old state on invalid input */
  setDesired(next: unknown): Promise<PassResult>
  /** the desired state in force (validated) */
  desired(): D
  /** observe + diff only: nothing is applied */
  plan(): Promise<{ ops: Op[]; described: string[] }>
  /** asks for a full pass now */
  resync(): void
  status(): LoopStatus
  on<E extends keyof LoopEvents>(event: E, listener: (e: LoopEvents[E]) => void): () => void
  /** idempotent: the running op finishes, nothing is applied afterwards */
  stop(): Promise<void>
}
