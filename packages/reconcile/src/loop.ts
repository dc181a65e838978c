// The level-triggered loop over one source (DESIGN §7). All retry, resync, coalescing,
// backoff and contest handling lives here; sources stay stateless.
//
//   pending work ──► one pass at a time ──► result ──► schedule the next
//   (hints merge,     observe → diff →        events,    (resync timer always;
//    timer, retry,     reconcile              status      retry with backoff)
//    desired, manual)
import { backoffDelay, type BackoffOptions, resyncDelay } from "./backoff.ts"
import { type Clock, systemClock } from "./clock.ts"
import { DesiredStateError, validate } from "./desired.ts"
import type { ContestedObject, LoopCounters, LoopStatus, PassResult, Trigger } from "./result.ts"
import { mergeScopes } from "./scope.ts"
import { type ApplyReport, type Hint, isConflictOp, type Scope, type Source } from "./source.ts"

export interface Logger {
  debug?(event: Record<string, unknown>): void
  info(event: Record<string, unknown>): void
  warn(event: Record<string, unknown>): void
  error(event: Record<string, unknown>): void
}

export interface ContestOptions {
  /** heals of the same op within the window that make it contested. Default 5 */
  threshold?: number
  /** Default 10 000 ms */
  windowMs?: number
  /** a contested op is re-applied at most this often. Default 1 000 ms */
  minIntervalMs?: number
}

export interface ReconcilerOptions<D, O, Op, Own> {
  source: Source<D, O, Op, Own>
  /** desired state as written (validated with source.schema) */
  desired: unknown
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
  on(event: "pass", listener: (r: PassResult) => void): () => void
  on(event: "drift", listener: (e: { ops: string[]; pass: PassResult }) => void): () => void
  on(event: "conflict", listener: (e: { op: string; reason: "conflict" | "contested" | "not-converging" }) => void): () => void
  on(event: "error", listener: (e: { error: Error; pass?: PassResult }) => void): () => void
  on(event: "stopped", listener: () => void): () => void
  /** idempotent: the running op finishes, nothing is applied afterwards */
  stop(): Promise<void>
}

type Events = "pass" | "drift" | "conflict" | "error" | "stopped"

interface Pending {
  trigger: Trigger
  scope: Scope | undefined
  full: boolean
  firstHintAt: number | undefined
  waiters: ((r: PassResult) => void)[]
}

const PRIORITY: Trigger[] = ["overrun", "desired", "start", "manual", "timer", "retry", "hint"]
const KEEP_PASSES = 20
/** consecutive passes that find an op they just applied, before it is held back */
const NOT_CONVERGING_AFTER = 3
const KEEP_LATENCIES = 200

function isTerminalError(e: unknown): boolean {
  if (e instanceof DesiredStateError) return true
  const x = e as { terminal?: unknown; errno?: unknown } | null
  if (x?.terminal === true) return true
  // EPERM, EACCES, EINVAL, EOPNOTSUPP: the same request cannot succeed by retrying
  return x?.errno === 1 || x?.errno === 13 || x?.errno === 22 || x?.errno === 95
}

function emptyPass(seq: number, trigger: Trigger, startedAt: number): PassResult {
  return {
    seq,
    trigger,
    startedAt,
    timings: { observeMs: 0, diffMs: 0, applyMs: 0, totalMs: 0 },
    ops: [],
    applied: [],
    failed: [],
    conflicts: [],
    deferred: [],
    converged: false,
  }
}

function emptyCounters(): LoopCounters {
  return {
    passes: 0,
    passesByTrigger: { start: 0, timer: 0, hint: 0, overrun: 0, desired: 0, retry: 0, manual: 0 },
    noopPasses: 0,
    failedPasses: 0,
    opsApplied: 0,
    opsFailed: 0,
    driftHealed: 0,
    hints: 0,
    overruns: 0,
    conflicts: 0,
  }
}

export function createReconciler<D, O, Op, Own>(options: ReconcilerOptions<D, O, Op, Own>): Reconciler<D, Op> {
  const { source } = options
  const name = options.name ?? source.kind
  const clock = options.clock ?? systemClock
  const random = options.random ?? Math.random
  const resyncMs = options.resyncMs ?? 30_000
  const jitter = options.jitter ?? 0.1
  const initialBackoff = options.backoff?.initialMs ?? 100
  const maxBackoff = Math.min(options.backoff?.maxMs ?? resyncMs, resyncMs)
  const contestThreshold = options.contest?.threshold ?? 5
  const contestWindow = options.contest?.windowMs ?? 10_000
  const contestInterval = options.contest?.minIntervalMs ?? 1_000
  const log = options.logger

  let desired: D | undefined
  /** ownership as the source's ownershipSchema made it (set by start) */
  let ownership: Own = options.ownership
  const validOwnership = async (): Promise<Own> =>
    source.ownershipSchema && options.ownership !== undefined ? await validate(source.ownershipSchema, options.ownership, "ownership") : options.ownership
  let state: LoopStatus["state"] = "idle"
  let started: Promise<PassResult> | undefined
  let stopping = false
  let stopped: Promise<void> | undefined
  let subscription: Disposable | undefined
  let running: Promise<void> | undefined
  let pending: Pending | undefined
  let resyncTimer: unknown
  let retryTimer: unknown
  let wakeTimer: unknown
  let nextResyncAt: number | undefined
  let nextRetryAt: number | undefined
  let consecutiveFailures = 0
  let terminal = false
  let passSeq = 0
  let ready = false
  let lastPass: PassResult | undefined
  let lastSuccessAt: number | undefined
  let lastFullPassAt: number | undefined
  let lastPassEndAt = 0
  const counters = emptyCounters()
  const recent: PassResult[] = []
  const latencies: { at: number; ms: number }[] = []
  const heals = new Map<string, number[]>()
  const contested = new Map<string, ContestedObject>()
  /** op → consecutive passes in which it was applied and then found again */
  const reapplied = new Map<string, number>()
  const notConverging = new Set<string>()
  let lastAppliedOps = new Set<string>()
  let currentConflicts: string[] = []
  const listeners = new Map<Events, Set<(arg: never) => void>>()

  const emit = (event: Events, arg?: unknown) => {
    for (const l of listeners.get(event) ?? []) {
      try {
        ;(l as (a: unknown) => void)(arg)
      } catch (e) {
        log?.error({ loop: name, msg: "listener threw", event, error: String(e) })
      }
    }
  }

  const onAbort = () => void loop.stop()

  // ---- scheduling -------------------------------------------------------------------

  const request = (trigger: Trigger, scope: Scope | undefined, full: boolean, hintAt?: number): Promise<PassResult> => {
    return new Promise((resolve) => {
      if (!pending) pending = { trigger, scope, full, firstHintAt: hintAt, waiters: [] }
      else {
        if (PRIORITY.indexOf(trigger) < PRIORITY.indexOf(pending.trigger)) pending.trigger = trigger
        pending.full ||= full
        pending.scope = pending.full ? undefined : mergeScopes(pending.scope, scope)
        if (hintAt !== undefined && pending.firstHintAt === undefined) pending.firstHintAt = hintAt
      }
      pending.waiters.push(resolve)
      kick()
    })
  }

  /** Starts the next pass now, unless one is running, we are backing off, or rate-limited. */
  const kick = () => {
    if (running || !pending || stopping) return
    const urgent = pending.trigger !== "hint" && pending.trigger !== "retry"
    if (!urgent && state === "backoff") return // the retry timer will run it
    if (!urgent && contested.size) {
      const wait = lastPassEndAt + contestInterval - clock.now()
      if (wait > 0) {
        if (wakeTimer === undefined) {
          wakeTimer = clock.setTimeout(() => {
            wakeTimer = undefined
            kick()
          }, wait)
        }
        return
      }
    }
    const job = pending
    pending = undefined
    running = runPass(job).finally(() => {
      running = undefined
      if (pending) kick()
    })
  }

  const armResync = () => {
    if (stopping) return
    if (resyncTimer !== undefined) clock.clearTimeout(resyncTimer)
    const delay = resyncDelay(resyncMs, jitter, random)
    nextResyncAt = clock.now() + delay
    resyncTimer = clock.setTimeout(() => {
      resyncTimer = undefined
      void request("timer", undefined, true)
    }, delay)
  }

  const armRetry = () => {
    if (stopping) return
    if (retryTimer !== undefined) clock.clearTimeout(retryTimer)
    const delay = backoffDelay(consecutiveFailures, initialBackoff, maxBackoff, random)
    nextRetryAt = clock.now() + delay
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined
      nextRetryAt = undefined
      state = "running"
      void request("retry", undefined, true)
    }, delay)
  }

  const onHint = (hint: Hint) => {
    if (stopping || !started) return
    counters.hints++
    if (hint.overrun) {
      counters.overruns++
      void request("overrun", undefined, true, clock.now())
    } else {
      void request("hint", hint.scope, !hint.scope, clock.now())
    }
  }

  // ---- one pass ---------------------------------------------------------------------

  const runPass = async (job: Pending): Promise<void> => {
    const seq = ++passSeq
    const startedAt = clock.now()
    const full = job.full || !job.scope
    const result = emptyPass(seq, job.trigger, startedAt)
    if (!full && job.scope) result.scope = job.scope
    let passError: unknown
    try {
      const t0 = performance.now()
      const observed = await source.observe(full ? undefined : job.scope)
      const t1 = performance.now()
      const ops = source.diff(desired as D, observed, ownership)
      const t2 = performance.now()
      result.timings.observeMs = t1 - t0
      result.timings.diffMs = t2 - t1
      const toApply: Op[] = []
      const now = clock.now()
      const seen = new Set<string>()
      const conflicts: string[] = []
      for (const op of ops) {
        const d = source.describe(op)
        result.ops.push(d)
        seen.add(d)
        if (isConflictOp(op)) {
          conflicts.push(d)
          continue
        }
        // Not converging: applied in the previous passes and still here. Held back
        // until a full timer pass or new desired state gives it another try.
        if (notConverging.has(d) && job.trigger !== "timer" && job.trigger !== "desired" && job.trigger !== "manual") {
          result.deferred.push(d)
          continue
        }
        const c = contested.get(d)
        if (c && now - c.lastHealAt < contestInterval) {
          result.deferred.push(d)
          continue
        }
        toApply.push(op)
      }
      result.conflicts = conflicts
      for (const d of conflicts) if (!currentConflicts.includes(d)) {
        counters.conflicts++
        emit("conflict", { op: d, reason: "conflict" })
        log?.warn({ loop: name, msg: "conflict", op: d })
      }
      currentConflicts = conflicts
      if (toApply.length && !stopping) {
        const report: ApplyReport<Op> = await source.reconcile(toApply)
        result.timings.applyMs = performance.now() - t2
        for (const op of report.applied) result.applied.push(source.describe(op))
        for (const f of report.failed) {
          const e: { op: string; error: string; code?: string } = { op: source.describe(f.op), error: f.error.message }
          const code = (f.error as { code?: unknown }).code
          if (typeof code === "string") e.code = code
          result.failed.push(e)
        }
        if (report.failed.length) {
          passError = report.failed.every((f) => isTerminalError(f.error)) ? Object.assign(new Error(result.failed[0]!.error), { terminal: true }) : new Error(result.failed[0]!.error)
        }
      } else if (toApply.length) {
        result.deferred.push(...toApply.map((op) => source.describe(op)))
      }
      trackConvergence(result, seen, now)
    } catch (e) {
      passError = e
      result.error = e instanceof Error ? e.message : String(e)
    }
    result.timings.totalMs = clock.now() - startedAt
    finishPass(job, result, passError, full)
  }

  /** Non-convergence and contest bookkeeping for one pass. */
  const trackConvergence = (result: PassResult, seen: Set<string>, now: number) => {
    // an op applied last time and found again, three passes in a row: not converging.
    // (A fast undo by another agent looks the same; both end up held back, not spinning.)
    for (const d of seen) {
      if (lastAppliedOps.has(d)) {
        const n = (reapplied.get(d) ?? 0) + 1
        reapplied.set(d, n)
        if (n >= NOT_CONVERGING_AFTER && !notConverging.has(d)) {
          notConverging.add(d)
          emit("conflict", { op: d, reason: "not-converging" })
          log?.warn({ loop: name, msg: "not converging", op: d })
        }
      }
    }
    for (const d of [...reapplied.keys()]) if (!seen.has(d)) reapplied.delete(d)
    for (const d of [...notConverging]) if (!seen.has(d)) notConverging.delete(d)
    // drift heals per op: contested when the same op is healed again and again
    const drift = result.trigger !== "start" && result.trigger !== "desired"
    if (drift) {
      for (const d of result.applied) {
        const times = (heals.get(d) ?? []).filter((t) => now - t < contestWindow)
        times.push(now)
        heals.set(d, times)
        if (times.length >= contestThreshold) {
          const c = contested.get(d)
          if (!c) {
            contested.set(d, { op: d, heals: times.length, since: now, lastHealAt: now })
            counters.conflicts++
            emit("conflict", { op: d, reason: "contested" })
            log?.warn({ loop: name, msg: "contested", op: d, heals: times.length })
          } else {
            c.heals = times.length
            c.lastHealAt = now
          }
        }
      }
    }
    for (const [d, c] of contested) if (now - c.lastHealAt > contestWindow) contested.delete(d)
    for (const [d, times] of heals) if (!times.some((t) => now - t < contestWindow)) heals.delete(d)
    lastAppliedOps = new Set(result.applied)
  }

  const finishPass = (job: Pending, result: PassResult, passError: unknown, full: boolean) => {
    const now = clock.now()
    lastPassEndAt = now
    counters.passes++
    counters.passesByTrigger[result.trigger]++
    counters.opsApplied += result.applied.length
    counters.opsFailed += result.failed.length
    if (!result.ops.length && !result.error) counters.noopPasses++
    const drift = result.trigger !== "start" && result.trigger !== "desired" && result.applied.length > 0
    if (drift) counters.driftHealed += result.applied.length
    result.converged = !passError && !result.failed.length && !result.conflicts.length && !result.deferred.length
    lastPass = result
    recent.push(result)
    if (recent.length > KEEP_PASSES) recent.shift()
    ready = true
    if (drift && job.firstHintAt !== undefined) {
      latencies.push({ at: now, ms: now - job.firstHintAt })
      if (latencies.length > KEEP_LATENCIES) latencies.shift()
    }

    if (passError) {
      counters.failedPasses++
      consecutiveFailures++
      terminal = isTerminalError(passError)
      const error = passError instanceof Error ? passError : new Error(String(passError))
      emit("error", { error, pass: result })
      log?.error({ loop: name, msg: "pass failed", seq: result.seq, trigger: result.trigger, error: error.message, failed: result.failed })
      if (!stopping) {
        if (terminal) {
          // retrying cannot fix it: resync pace only
          state = "backoff"
          nextRetryAt = undefined
        } else {
          state = "backoff"
          armRetry()
        }
      }
    } else {
      consecutiveFailures = 0
      terminal = false
      lastSuccessAt = now
      if (retryTimer !== undefined) {
        clock.clearTimeout(retryTimer)
        retryTimer = undefined
        nextRetryAt = undefined
      }
      if (!stopping) state = "running"
    }
    if (full) {
      lastFullPassAt = now
      if (!stopping) armResync()
    }
    log?.info({
      loop: name,
      msg: "pass",
      seq: result.seq,
      trigger: result.trigger,
      ops: result.ops.length,
      applied: result.applied.length,
      failed: result.failed.length,
      converged: result.converged,
      ms: Math.round(result.timings.totalMs * 100) / 100,
    })
    emit("pass", result)
    if (drift) emit("drift", { ops: result.applied, pass: result })
    for (const w of job.waiters) w(result)
  }

  // ---- the public face --------------------------------------------------------------

  const loop: Reconciler<D, Op> = {
    name,

    start() {
      if (started) return started
      started = (async () => {
        if (stopping) throw new Error(`loop ${name} is stopped`)
        desired = await validate(source.schema, options.desired)
        ownership = await validOwnership()
        if (options.signal?.aborted) throw new Error(`loop ${name}: signal already aborted`)
        options.signal?.addEventListener("abort", onAbort, { once: true })
        state = "running"
        // subscribe first, then observe: no change can fall between the two
        subscription = source.subscribe?.(onHint)
        return request("start", undefined, true)
      })()
      return started
    },

    async setDesired(next) {
      const valid = await validate(source.schema, next)
      if (stopping) throw new Error(`loop ${name} is stopped`)
      desired = valid
      notConverging.clear()
      reapplied.clear()
      if (!started) {
        options.desired = next
        return loop.start()
      }
      return request("desired", undefined, true)
    },

    desired() {
      if (desired === undefined) throw new Error(`loop ${name} has not started`)
      return desired
    },

    async plan() {
      const d = desired ?? (await validate(source.schema, options.desired))
      const own = await validOwnership()
      const observed = await source.observe()
      const ops = source.diff(d, observed, own)
      return { ops, described: ops.map((op) => source.describe(op)) }
    },

    resync() {
      if (!started || stopping) return
      void request("manual", undefined, true)
    },

    status() {
      const s: LoopStatus = {
        name,
        source: source.kind,
        state,
        converged: lastPass?.converged ?? false,
        ready,
        busy: running !== undefined || pending !== undefined,
        consecutiveFailures,
        counters: { ...counters, passesByTrigger: { ...counters.passesByTrigger } },
        contested: [...contested.values()].map((c) => ({ ...c })),
        notConverging: [...notConverging],
        conflicts: [...currentConflicts],
        resyncMs,
        healLatenciesMs: [...latencies],
        recentPasses: [...recent],
      }
      if (lastPass) s.lastPass = lastPass
      if (lastSuccessAt !== undefined) s.lastSuccessAt = lastSuccessAt
      if (lastFullPassAt !== undefined) s.lastFullPassAt = lastFullPassAt
      if (nextResyncAt !== undefined && state !== "stopped") s.nextResyncAt = nextResyncAt
      if (nextRetryAt !== undefined && state === "backoff") s.nextRetryAt = nextRetryAt
      return s
    },

    on(event: Events, listener: (arg: never) => void) {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(listener)
      return () => void set.delete(listener)
    },

    stop() {
      stopped ??= (async () => {
        stopping = true
        options.signal?.removeEventListener("abort", onAbort)
        for (const t of [resyncTimer, retryTimer, wakeTimer]) if (t !== undefined) clock.clearTimeout(t)
        resyncTimer = retryTimer = wakeTimer = undefined
        nextResyncAt = nextRetryAt = undefined
        subscription?.[Symbol.dispose]()
        subscription = undefined
        // let the running pass finish; it applies nothing more once stopping is set
        try {
          await running
        } catch {
          // a pass never throws, but be safe
        }
        const waiting = pending
        pending = undefined
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
