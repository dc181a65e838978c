// The level-triggered loop over one source (DESIGN §7): the public face and its wiring.
// The machinery is private and lives beside it: when passes run (schedule.ts), one
// pass (pass.ts), what is held back (convergence.ts), what is counted (stats.ts).
//
//   pending work ──► one pass at a time ──► result ──► schedule the next
//   (hints merge,     observe → diff →        events,    (resync timer always;
//    timer, retry,     reconcile              status      retry with backoff)
//    desired, manual)
import type { BackoffOptions } from "./backoff.ts"
import { type Clock, systemClock } from "./clock.ts"
import { type ConflictReason, type ContestOptions, ConvergenceTracker } from "./convergence.ts"
import { validate } from "./desired.ts"
import { emptyPass, runPass } from "./pass.ts"
import type { LoopStatus, PassResult } from "./result.ts"
import { type Job, Scheduler } from "./schedule.ts"
import type { Hint, Source } from "./source.ts"
import { isDrift, LoopStatistics } from "./stats.ts"

export type { ContestOptions } from "./convergence.ts"
export type { BackoffOptions } from "./backoff.ts"

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
  stopped: undefined
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

type EventName = keyof LoopEvents

export function createReconciler<D, O, Op, Own>(options: ReconcilerOptions<D, O, Op, Own>): Reconciler<D, Op> {
  const { source } = options
  const name = options.name ?? source.kind
  const clock = options.clock ?? systemClock
  const resyncMs = options.resyncMs ?? 30_000
  const log = options.logger
  const listeners = new Map<EventName, Set<(arg: never) => void>>()
  const emit = (event: EventName, arg?: unknown) => {
    for (const l of listeners.get(event) ?? []) {
      try {
        ;(l as (a: unknown) => void)(arg)
      } catch (e) {
        log?.error({ loop: name, msg: "listener threw", event, error: String(e) })
      }
    }
  }

  const stats = new LoopStatistics()
  const tracker = new ConvergenceTracker(options.contest ?? {}, (op, reason) => {
    if (reason !== "not-converging") stats.counters.conflicts++
    emit("conflict", { op, reason })
    log?.warn({ loop: name, msg: reason === "conflict" ? "conflict" : reason.replace("-", " "), op })
  })
  const scheduler = new Scheduler({
    clock,
    random: options.random ?? Math.random,
    resyncMs,
    jitter: options.jitter ?? 0.1,
    initialBackoffMs: options.backoff?.initialMs ?? 100,
    maxBackoffMs: Math.min(options.backoff?.maxMs ?? resyncMs, resyncMs),
    runPass: (job) => pass(job),
    throttleMs: () => (tracker.anyContested ? stats.lastPassEndAt + tracker.minIntervalMs - clock.now() : 0),
  })

  let desired: D | undefined
  /** ownership as the source's ownershipSchema made it (set by start, fixed from then on) */
  let ownership: Own = options.ownership
  let started: Promise<PassResult> | undefined
  let stopping = false
  let stopped: Promise<void> | undefined
  let state: LoopStatus["state"] = "idle"
  let subscription: Disposable | undefined
  let passSeq = 0

  const validOwnership = async (): Promise<Own> =>
    source.ownershipSchema && options.ownership !== undefined
      ? await validate(source.ownershipSchema, options.ownership, "ownership")
      : options.ownership

  const onHint = (hint: Hint) => {
    if (stopping || !started) return
    stats.counters.hints++
    if (hint.overrun) {
      stats.counters.overruns++
      void scheduler.request("overrun", undefined, true, clock.now())
    } else {
      void scheduler.request("hint", hint.scope, !hint.scope, clock.now())
    }
  }

  const pass = async (job: Job): Promise<void> => {
    const full = job.full || !job.scope
    const { result, error, terminal } = await runPass({
      source,
      desired: desired as D,
      ownership,
      seq: ++passSeq,
      trigger: job.trigger,
      scope: full ? undefined : job.scope,
      tracker,
      clock,
      stopping: () => stopping,
    })
    finish(job, result, error, terminal, full)
  }

  const finish = (job: Job, result: PassResult, error: Error | undefined, terminal: boolean, full: boolean) => {
    const now = clock.now()
    const drift = isDrift(result)
    const latency = drift && job.firstHintAt !== undefined ? now - job.firstHintAt : undefined
    stats.record(result, !error, full, now, latency)
    if (error) {
      emit("error", { error, pass: result })
      log?.error({
        loop: name,
        msg: "pass failed",
        seq: result.seq,
        trigger: result.trigger,
        error: error.message,
        failed: result.failed,
      })
      scheduler.failed(stats.consecutiveFailures, terminal)
      if (!stopping) state = "backoff"
    } else {
      scheduler.succeeded()
      if (!stopping) state = "running"
    }
    if (full) scheduler.armResync()
    const ms = Math.round(result.timings.totalMs * 100) / 100
    log?.info({
      loop: name,
      msg: "pass",
      seq: result.seq,
      trigger: result.trigger,
      ops: result.ops.length,
      applied: result.applied.length,
      failed: result.failed.length,
      converged: result.converged,
      ms,
    })
    emit("pass", result)
    if (drift) emit("drift", { ops: result.applied, pass: result })
    for (const w of job.waiters) w(result)
  }

  const onAbort = () => void loop.stop()

  const loop: Reconciler<D, Op> = {
    name,

    start() {
      started ??= (async () => {
        if (stopping) throw new Error(`loop ${name} is stopped`)
        desired = await validate(source.schema, options.desired)
        ownership = await validOwnership()
        if (options.signal?.aborted) throw new Error(`loop ${name}: signal already aborted`)
        options.signal?.addEventListener("abort", onAbort, { once: true })
        state = "running"
        // subscribe first, then observe: no change can fall between the two
        subscription = source.subscribe?.(onHint)
        return scheduler.request("start", undefined, true)
      })()
      return started
    },

    async setDesired(next) {
      const valid = await validate(source.schema, next)
      if (stopping) throw new Error(`loop ${name} is stopped`)
      desired = valid
      tracker.forgetNonConvergence()
      if (!started) {
        options.desired = next
        return loop.start()
      }
      return scheduler.request("desired", undefined, true)
    },

    desired() {
      if (desired === undefined) throw new Error(`loop ${name} has not started`)
      return desired
    },

    async plan() {
      const d = desired ?? (await validate(source.schema, options.desired))
      const own = started ? ownership : await validOwnership()
      const observed = await source.observe({ desired: d, ownership: own })
      const ops = source.diff(d, observed, own)
      return { ops, described: ops.map((op) => source.describe(op)) }
    },

    resync() {
      if (!started || stopping) return
      void scheduler.request("manual", undefined, true)
    },

    status() {
      const last = stats.lastPass
      const s: LoopStatus = {
        name,
        source: source.kind,
        state,
        converged: last?.converged ?? false,
        ready: last !== undefined,
        busy: scheduler.busy,
        consecutiveFailures: stats.consecutiveFailures,
        counters: stats.snapshotCounters(),
        contested: tracker.contested,
        notConverging: tracker.notConverging,
        conflicts: tracker.conflicts,
        resyncMs,
        healLatenciesMs: [...stats.latencies],
        recentPasses: [...stats.recent],
      }
      if (last) s.lastPass = last
      if (stats.lastSuccessAt !== undefined) s.lastSuccessAt = stats.lastSuccessAt
      if (stats.lastFullPassAt !== undefined) s.lastFullPassAt = stats.lastFullPassAt
      if (scheduler.nextResyncAt !== undefined && state !== "stopped") s.nextResyncAt = scheduler.nextResyncAt
      if (scheduler.nextRetryAt !== undefined && state === "backoff") s.nextRetryAt = scheduler.nextRetryAt
      return s
    },

    on(event, listener) {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(listener as (arg: never) => void)
      return () => void set.delete(listener as (arg: never) => void)
    },

    stop() {
      stopped ??= (async () => {
        stopping = true
        options.signal?.removeEventListener("abort", onAbort)
        subscription?.[Symbol.dispose]()
        subscription = undefined
        // the running pass finishes; it applies nothing more once stopping is set
        const waiting = await scheduler.stop()
        if ((options.closeSource ?? true) && typeof source.close === "function") {
          try {
            await source.close()
          } catch (e) {
            log?.error({ loop: name, msg: "closing the source failed", error: String(e) })
          }
        }
        state = "stopped"
        if (waiting) {
          const r = emptyPass(passSeq, waiting.trigger, clock.now())
          r.error = "the loop stopped before this pass ran"
          for (const w of waiting.waiters) w(r)
        }
        emit("stopped")
        log?.info({ loop: name, msg: "stopped" })
      })()
      return stopped
    },

    [Symbol.asyncDispose]() {
      return loop.stop()
    },
  }
  return loop
}
