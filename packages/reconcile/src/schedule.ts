// When passes run: single flight, coalescing, and the three timers (resync, retry,
// contest wake-up). Private to the loop. Knows nothing of sources: it runs `runPass`
// for one pending job at a time, like client-go's workqueue runs an item once more
// when it was added while being processed.
import { backoffDelay, resyncDelay } from "./backoff.ts"
import type { Clock } from "./clock.ts"
import type { PassResult, Trigger } from "./result.ts"
import { appendScope } from "./scope.ts"
import type { Scope, ScopeEntry } from "./source.ts"

/** Work waiting for the next pass: what asked for it, what to look at, who waits. */
export interface Job {
  trigger: Trigger
  /** undefined = a full pass */
  scope: ScopeEntry[] | undefined
  full: boolean
  /** when the first hint of this job arrived (heal latency runs from there) */
  firstHintAt: number | undefined
  waiters: ((r: PassResult) => void)[]
}

/** Which trigger names a merged job: the most significant one wins. */
const PRIORITY: Trigger[] = ["overrun", "desired", "start", "manual", "timer", "retry", "hint"]

/**
 * Hint passes: this many at once, then one per REFILL_MS (≤ 1000 passes/s in a storm).
 * Sized so that healing stays sub-millisecond while drift comes every millisecond or two,
 * and a storm of 100k events costs about a thousand passes, not 100k.
 */
const BURST = 32
const REFILL_MS = 1

/**
 * A pending scope longer than this is a full look instead: its entries (each event's
 * decoded object) would outweigh what a full look reads, and a source looks at
 * everything past a few thousand keys anyway.
 */
export const MAX_SCOPE_ENTRIES = 16_384

export interface SchedulerOptions {
  clock: Clock
  random: () => number
  resyncMs: number
  jitter: number
  initialBackoffMs: number
  maxBackoffMs: number
  runPass(job: Job): Promise<void>
  /** ms to wait before a non-urgent pass (the contest throttle); 0 = now */
  throttleMs(): number
  /**
   * Hint passes run at once while a bucket of this many allows (default 32); in a storm
   * they come at most one per `refillMs` (default 1), each covering every hint since the
   * last: kube-proxy's bounded-frequency runner, sized for millisecond heals.
   */
  burst?: number
  refillMs?: number
}

export class Scheduler {
  #pending: Job | undefined
  #running: Promise<void> | undefined
  #stopping = false
  /** a retryable failure: non-urgent work waits for the retry timer */
  #backingOff = false
  #resyncTimer: unknown
  #retryTimer: unknown
  #wakeTimer: unknown
  #contestTimer: unknown
  nextResyncAt: number | undefined
  nextRetryAt: number | undefined

  #tokens: number
  #tokensAt: number

  constructor(private readonly o: SchedulerOptions) {
    this.#tokens = o.burst ?? BURST
    this.#tokensAt = o.clock.now()
  }

  /** ms until the bucket allows a hint pass (0: now). */
  #bucketWait(): number {
    const burst = this.o.burst ?? BURST
    const refill = this.o.refillMs ?? REFILL_MS
    const now = this.o.clock.now()
    this.#tokens = Math.min(burst, this.#tokens + (now - this.#tokensAt) / refill)
    this.#tokensAt = now
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) * refill)
  }

  get busy(): boolean {
    return this.#running !== undefined || this.#pending !== undefined
  }

  get backingOff(): boolean {
    return this.#backingOff
  }

  /** Queues work; resolves with the result of the pass that covers it. */
  request(trigger: Trigger, scope: Scope | undefined, full: boolean, hintAt?: number): Promise<PassResult> {
    return new Promise((resolve) => this.queue(trigger, scope, full, hintAt, resolve))
  }

  /**
   * Queues work nobody waits for (hints, timers): no promise per call (a million route
   * events are a million hints). A scope past MAX_SCOPE_ENTRIES becomes a full look.
   */
  queue(trigger: Trigger, scope: Scope | undefined, full: boolean, hintAt?: number, waiter?: (r: PassResult) => void) {
    const p = this.#pending
    // the pending job's scope is its own array, appended to: 100k events during one
    // pass cost 100k pushes, not 100k copies of a growing list
    if (!p) this.#pending = { trigger, scope: scope && [...scope], full, firstHintAt: hintAt, waiters: [] }
    else {
      if (PRIORITY.indexOf(trigger) < PRIORITY.indexOf(p.trigger)) p.trigger = trigger
      p.full ||= full
      p.scope = p.full ? undefined : appendScope(p.scope, scope)
      if (hintAt !== undefined && p.firstHintAt === undefined) p.firstHintAt = hintAt
    }
    const job = this.#pending!
    if (job.scope && job.scope.length > MAX_SCOPE_ENTRIES) {
      job.scope = undefined
      job.full = true
    }
    if (waiter) job.waiters.push(waiter)
    this.#kick()
  }

  /** Starts the next pass now, unless one is running, we are backing off, or throttled. */
  #kick(): void {
    const job = this.#pending
    if (this.#running || !job || this.#stopping) return
    const urgent = job.trigger !== "hint" && job.trigger !== "retry"
    if (!urgent && this.#backingOff) return // the retry timer (or the resync) runs it
    if (!urgent) {
      const wait = Math.max(this.o.throttleMs(), job.trigger === "hint" ? this.#bucketWait() : 0)
      if (wait > 0) {
        this.#wakeTimer ??= this.o.clock.setTimeout(() => {
          this.#wakeTimer = undefined
          this.#kick()
        }, wait)
        return
      }
    }
    this.#pending = undefined
    if (job.trigger === "hint") this.#tokens -= 1
    this.#running = this.o.runPass(job).finally(() => {
      this.#running = undefined
      if (this.#pending) this.#kick()
    })
  }

  /**
   * A pass at `at` (the moment a contested op may be healed again): when the other side
   * has gone quiet, the op is healed then, not at the next resync.
   */
  wakeAt(at: number): void {
    if (this.#stopping) return
    const { clock } = this.o
    if (this.#contestTimer !== undefined) clock.clearTimeout(this.#contestTimer)
    this.#contestTimer = clock.setTimeout(
      () => {
        this.#contestTimer = undefined
        this.queue("retry", undefined, true)
      },
      Math.max(0, at - clock.now()),
    )
  }

  /** A full pass at least every resyncMs (±jitter), whatever the hints do. */
  armResync(): void {
    if (this.#stopping) return
    const { clock } = this.o
    if (this.#resyncTimer !== undefined) clock.clearTimeout(this.#resyncTimer)
    const delay = resyncDelay(this.o.resyncMs, this.o.jitter, this.o.random)
    this.nextResyncAt = clock.now() + delay
    this.#resyncTimer = clock.setTimeout(() => {
      this.#resyncTimer = undefined
      this.queue("timer", undefined, true)
    }, delay)
  }

  /** After a failure: retry with exponential backoff (full jitter); terminal = resync pace only. */
  failed(consecutiveFailures: number, terminal: boolean): void {
    this.#backingOff = true
    if (this.#stopping) return
    if (terminal) {
      this.nextRetryAt = undefined
      return
    }
    const { clock } = this.o
    if (this.#retryTimer !== undefined) clock.clearTimeout(this.#retryTimer)
    const delay = backoffDelay(consecutiveFailures, this.o.initialBackoffMs, this.o.maxBackoffMs, this.o.random)
    this.nextRetryAt = clock.now() + delay
    this.#retryTimer = clock.setTimeout(() => {
      this.#retryTimer = undefined
      this.nextRetryAt = undefined
      this.#backingOff = false
      this.queue("retry", undefined, true)
    }, delay)
  }

  succeeded(): void {
    this.#backingOff = false
    if (this.#retryTimer !== undefined) this.o.clock.clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    this.nextRetryAt = undefined
  }

  /** Stops every timer; waits for the running pass; returns the job that never ran. */
  async stop(): Promise<Job | undefined> {
    this.#stopping = true
    for (const t of [this.#resyncTimer, this.#retryTimer, this.#wakeTimer, this.#contestTimer])
      if (t !== undefined) this.o.clock.clearTimeout(t)
    this.#resyncTimer = this.#retryTimer = this.#wakeTimer = this.#contestTimer = undefined
    this.nextResyncAt = this.nextRetryAt = undefined
    try {
      await this.#running
    } catch {
      // a pass never throws; be safe anyway
    }
    const waiting = this.#pending
    this.#pending = undefined
    return waiting
  }
}
