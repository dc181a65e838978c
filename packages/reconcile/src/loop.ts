// The level-triggered loop over one source (DESIGN §7): the public face and its wiring.
// The machinery is private and lives beside it: when passes run (schedule.ts), one
// pass (pass.ts), what is held back (convergence.ts), what is counted (stats.ts).
//
//   pending work ──► one pass at a time ──► result ──► schedule the next
//   (hints merge,     observe → diff →        events,    (resync timer always;
//    timer, retry,     reconcile              status      retry with backoff)
//    desired, manual)
import { type Clock, systemClock } from "./clock.ts"
import { ConvergenceTracker } from "./convergence.ts"
import { validate } from "./desired.ts"
import { EventFeed } from "./events.ts"
import { watchProcessExit } from "./lifetime/exit.ts"
import { emptyPass, runPass } from "./pass.ts"
import type { LoopStatus, PassResult } from "./result.ts"
import { type Job, Scheduler } from "./schedule.ts"
import { type Hint, isNamespaceGone, type Source } from "./source.ts"
import { isDrift, LoopStatistics, trimmedPass } from "./stats.ts"

export type { ContestOptions } from "./convergence.ts"
export type { BackoffOptions } from "./backoff.ts"
import type { Logger, LoopEvents, Reconciler, ReconcilerOptions } from "./api.ts"

export type { Logger, LoopEvents, Reconciler, ReconcilerOptions } from "./api.ts"

type EventName = keyof LoopEvents

export function createReconciler<D, O, Op, Own>(options: ReconcilerOptions<D, O, Op, Own>): Reconciler<D, Op> {
  return new Loop(options)
}

/** The loop behind createReconciler; not exported: its fields are the loop's private state. */
class Loop<D, O, Op, Own> implements Reconciler<D, Op> {
  readonly name: string
  readonly #options: ReconcilerOptions<D, O, Op, Own>
  readonly #source: Source<D, O, Op, Own>
  readonly #clock: Clock
  readonly #resyncMs: number
  readonly #log: Logger | undefined
  readonly #listeners = new Map<EventName, Set<(arg: never) => void>>()
  readonly #stats = new LoopStatistics()
  readonly #tracker: ConvergenceTracker
  readonly #scheduler: Scheduler
  #desired: D | undefined
  /** ownership as the source's ownershipSchema made it (set by start, fixed from then on) */
  #ownership: Own
  #started: Promise<PassResult> | undefined
  #stopping = false
  #stopped: Promise<void> | undefined
  #state: LoopStatus["state"] = "idle"
  readonly #events: EventFeed
  #passSeq = 0
  #stopReason: string | undefined
  #lifetime: Disposable | undefined
  readonly #onAbort = () => void this.stop()

  constructor(options: ReconcilerOptions<D, O, Op, Own>) {
    // a copy: the desired state given is let go once validated (a million routes are not kept twice)
    this.#options = { ...options }
    this.#source = options.source
    this.name = options.name ?? options.source.kind
    this.#clock = options.clock ?? systemClock
    this.#resyncMs = options.resyncMs ?? 30_000
    this.#log = options.logger
    this.#ownership = options.ownership
    this.#tracker = new ConvergenceTracker(options.contest ?? {}, (op, reason) => {
      if (reason !== "not-converging") this.#stats.counters.conflicts++
      this.#emit("conflict", { op, reason })
      this.#log?.warn({ loop: this.name, msg: reason === "conflict" ? "conflict" : reason.replace("-", " "), op })
    })
    const tracker = this.#tracker
    this.#events = new EventFeed({
      subscribe: options.source.subscribe?.bind(options.source),
      onHint: (h) => this.#onHint(h),
      onLost: (reason) => {
        this.#log?.warn({ loop: this.name, msg: "event stream lost; subscribing again", reason })
        if (this.#started && !this.#stopping) this.#scheduler.queue("overrun", undefined, true, this.#clock.now())
      },
      clock: this.#clock,
      initialBackoffMs: options.backoff?.initialMs ?? 100,
      maxBackoffMs: Math.min(options.backoff?.maxMs ?? this.#resyncMs, this.#resyncMs),
    })
    this.#scheduler = new Scheduler({
      clock: this.#clock,
      random: options.random ?? Math.random,
      resyncMs: this.#resyncMs,
      jitter: options.jitter ?? 0.1,
      initialBackoffMs: options.backoff?.initialMs ?? 100,
      maxBackoffMs: Math.min(options.backoff?.maxMs ?? this.#resyncMs, this.#resyncMs),
      runPass: (job) => this.#pass(job),
      throttleMs: () =>
        tracker.anyContested ? this.#stats.lastPassEndAt + tracker.minIntervalMs - this.#clock.now() : 0,
    })
  }

  #emit(event: EventName, arg?: unknown): void {
    for (const l of this.#listeners.get(event) ?? []) {
      try {
        ;(l as (a: unknown) => void)(arg)
      } catch (e) {
        this.#log?.error({ loop: this.name, msg: "listener threw", event, error: String(e) })
      }
    }
  }

  async #validOwnership(): Promise<Own> {
    const schema = this.#source.ownershipSchema
    const own = this.#options.ownership
    return schema && own !== undefined ? await validate(schema, own, "ownership") : own
  }

  readonly #onHint = (hint: Hint) => {
    if (this.#stopping || !this.#started) return
    this.#stats.counters.hints++
    const now = this.#clock.now()
    if (hint.overrun) {
      this.#stats.counters.overruns++
      this.#scheduler.queue("overrun", undefined, true, now)
    } else {
      this.#scheduler.queue("hint", hint.scope, !hint.scope, now)
    }
  }

  async #pass(job: Job): Promise<void> {
    const full = job.full || !job.scope
    const { result, error, terminal } = await runPass({
      source: this.#source,
      desired: this.#desired as D,
      ownership: this.#ownership,
      seq: ++this.#passSeq,
      trigger: job.trigger,
      scope: full ? undefined : job.scope,
      tracker: this.#tracker,
      clock: this.#clock,
      stopping: () => this.#stopping,
    })
    this.#finish(job, result, error, terminal, full)
  }

  #finish(job: Job, result: PassResult, error: Error | undefined, terminal: boolean, full: boolean): void {
    const now = this.#clock.now()
    const drift = isDrift(result)
    const latency = drift && job.firstHintAt !== undefined ? now - job.firstHintAt : undefined
    // a contested object's heal waits for its rate limit on purpose: kept apart from heal latency
    const throttled = latency !== undefined && this.#tracker.throttledAny(result.applied, result.startedAt)
    this.#stats.record(result, !error, full, now, latency, throttled)
    if (error) {
      this.#emit("error", { error, pass: result })
      this.#log?.error({
        loop: this.name,
        msg: "pass failed",
        seq: result.seq,
        trigger: result.trigger,
        error: error.message,
        failed: result.failed,
      })
      this.#scheduler.failed(this.#stats.consecutiveFailures, terminal)
      // the namespace is gone and only this loop kept it alive: let it go
      if (isNamespaceGone(error)) void this.#stopFor(error.message)
      if (!this.#stopping) this.#state = "backoff"
    } else {
      this.#scheduler.succeeded()
      if (!this.#stopping) this.#state = "running"
    }
    if (full) this.#scheduler.armResync()
    // a contested op held back is tried again the moment its interval is over
    const release = this.#tracker.releaseAt(result.deferred)
    if (release !== undefined && !this.#stopping) this.#scheduler.wakeAt(release)
    // a pass that found nothing to do is the common case (echoes of our own writes,
    // events about what we do not own): debug, so a storm does not flood the log
    const entry = {
      loop: this.name,
      msg: "pass",
      seq: result.seq,
      trigger: result.trigger,
      ops: result.ops.length,
      applied: result.applied.length,
      failed: result.failed.length,
      converged: result.converged,
      ms: Math.round(result.timings.totalMs * 100) / 100,
    }
    if (result.ops.length || error) this.#log?.info(entry)
    else this.#log?.debug?.(entry)
    this.#emit("pass", result)
    if (drift) this.#emit("drift", { ops: result.applied, pass: result })
    for (const w of job.waiters) w(result)
  }

  start(): Promise<PassResult> {
    if (this.#started) return this.#started
    const first = (async () => {
      if (this.#stopping) throw new Error(`loop ${this.name} is stopped`)
      const { source, signal } = this.#options
      this.#desired = await validate(source.schema, this.#options.desired)
      this.#options.desired = undefined // the validated copy is the one kept
      this.#ownership = await this.#validOwnership()
      if (signal?.aborted) throw new Error(`loop ${this.name}: signal already aborted`)
      signal?.addEventListener("abort", this.#onAbort, { once: true })
      const pid = this.#options.lifetime?.pid
      if (pid !== undefined)
        this.#lifetime = watchProcessExit(pid, () => void this.#stopFor(`its workload (pid ${pid}) exited`))
      this.#state = "running"
      // subscribe first, then observe: no change can fall between the two
      this.#events.start()
      return this.#scheduler.request("start", undefined, true)
    })()
    this.#started = first
    // the caller has the whole result; the loop keeps it trimmed (a first pass over a
    // million routes lists a million ops and as many applied)
    first.then(
      (r) => {
        if (this.#started === first) this.#started = Promise.resolve(trimmedPass(r))
      },
      () => {},
    )
    return first
  }

  async setDesired(next: unknown): Promise<PassResult> {
    const valid = await validate(this.#source.schema, next)
    if (this.#stopping) throw new Error(`loop ${this.name} is stopped`)
    this.#desired = valid
    this.#tracker.forgetNonConvergence()
    if (!this.#started) {
      this.#options.desired = next
      return this.start()
    }
    return this.#scheduler.request("desired", undefined, true)
  }

  desired(): D {
    if (this.#desired === undefined) throw new Error(`loop ${this.name} has not started`)
    return this.#desired
  }

  async plan(): Promise<{ ops: Op[]; described: string[] }> {
    const source = this.#source
    const d = this.#desired ?? (await validate(source.schema, this.#options.desired))
    const own = this.#started ? this.#ownership : await this.#validOwnership()
    const observed = await source.observe({ desired: d, ownership: own })
    const ops = source.diff(d, observed, own)
    return { ops, described: ops.map((op) => source.describe(op)) }
  }

  resync(): void {
    if (!this.#started || this.#stopping) return
    this.#scheduler.queue("manual", undefined, true)
  }

  status(): LoopStatus {
    const stats = this.#stats
    const tracker = this.#tracker
    const scheduler = this.#scheduler
    const last = stats.lastPass
    const s: LoopStatus = {
      name: this.name,
      source: this.#source.kind,
      state: this.#state,
      converged: last?.converged ?? false,
      ready: last !== undefined,
      busy: scheduler.busy,
      consecutiveFailures: stats.consecutiveFailures,
      counters: stats.snapshotCounters(),
      contested: tracker.contested,
      notConverging: tracker.notConverging,
      conflicts: tracker.conflicts,
      resyncMs: this.#resyncMs,
      healLatenciesMs: [...stats.latencies],
      recentPasses: [...stats.recent],
      events: this.#events.status(),
    }
    if (this.#stopReason !== undefined) s.stopReason = this.#stopReason
    if (last) s.lastPass = last
    if (stats.lastSuccessAt !== undefined) s.lastSuccessAt = stats.lastSuccessAt
    if (stats.lastFullPassAt !== undefined) s.lastFullPassAt = stats.lastFullPassAt
    if (scheduler.nextResyncAt !== undefined && this.#state !== "stopped") s.nextResyncAt = scheduler.nextResyncAt
    if (scheduler.nextRetryAt !== undefined && this.#state === "backoff") s.nextRetryAt = scheduler.nextRetryAt
    return s
  }

  on<E extends keyof LoopEvents>(event: E, listener: (e: LoopEvents[E]) => void): () => void {
    let set = this.#listeners.get(event)
    if (!set) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    const l = listener as (arg: never) => void
    set.add(l)
    return () => void set.delete(l)
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop()
    return this.#stopped
  }

  /** Stops by itself, saying why (a workload exited, a namespace gone). */
  #stopFor(reason: string): Promise<void> {
    if (!this.#stopped) {
      this.#stopReason = reason
      this.#log?.warn({ loop: this.name, msg: "stopping", reason })
    }
    return this.stop()
  }

  async #stop(): Promise<void> {
    this.#stopping = true
    this.#options.signal?.removeEventListener("abort", this.#onAbort)
    this.#events.stop()
    this.#lifetime?.[Symbol.dispose]()
    this.#lifetime = undefined
    // the running pass finishes; it applies nothing more once stopping is set
    const waiting = await this.#scheduler.stop()
    const source = this.#source
    if ((this.#options.closeSource ?? true) && typeof source.close === "function") {
      try {
        await source.close()
      } catch (e) {
        this.#log?.error({ loop: this.name, msg: "closing the source failed", error: String(e) })
      }
    }
    this.#state = "stopped"
    if (waiting) {
      const r = emptyPass(this.#passSeq, waiting.trigger, this.#clock.now())
      r.error = "the loop stopped before this pass ran"
      for (const w of waiting.waiters) w(r)
    }
    this.#emit("stopped", this.#stopReason === undefined ? {} : { reason: this.#stopReason })
    this.#log?.info({ loop: this.name, msg: "stopped" })
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }
}
