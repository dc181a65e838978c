// What a loop has done: counters, recent passes and heal latencies, for status(),
// the status endpoint and metrics. Private to the loop.
import type { HealLatency, LoopCounters, PassResult } from "./result.ts"

const KEEP_PASSES = 20
const KEEP_LATENCIES = 200

export class LoopStatistics {
  readonly counters: LoopCounters = {
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
  readonly recent: PassResult[] = []
  readonly latencies: HealLatency[] = []
  lastPass: PassResult | undefined
  lastSuccessAt: number | undefined
  lastFullPassAt: number | undefined
  lastPassEndAt = 0
  consecutiveFailures = 0

  /** Counts a finished pass. `healLatencyMs` is set when it healed drift a hint reported. */
  record(result: PassResult, ok: boolean, full: boolean, now: number, healLatencyMs?: number, throttled = false): void {
    const c = this.counters
    this.lastPassEndAt = now
    c.passes++
    c.passesByTrigger[result.trigger]++
    c.opsApplied += result.applied.length
    c.opsFailed += result.failed.length
    if (!result.ops.length && !result.error) c.noopPasses++
    if (isDrift(result)) c.driftHealed += result.applied.length
    // kept for status: a first pass over a million routes lists a million ops, which
    // status (and its JSON) need not hold; listeners of "pass" got the whole result
    const kept = trimmedPass(result)
    this.lastPass = kept
    this.recent.push(kept)
    if (this.recent.length > KEEP_PASSES) this.recent.shift()
    if (healLatencyMs !== undefined) {
      this.latencies.push(throttled ? { at: now, ms: healLatencyMs, throttled } : { at: now, ms: healLatencyMs })
      if (this.latencies.length > KEEP_LATENCIES) this.latencies.shift()
    }
    if (ok) {
      this.consecutiveFailures = 0
      this.lastSuccessAt = now
    } else {
      c.failedPasses++
      this.consecutiveFailures++
    }
    if (full) this.lastFullPassAt = now
  }

  snapshotCounters(): LoopCounters {
    return { ...this.counters, passesByTrigger: { ...this.counters.passesByTrigger } }
  }
}

/** Lists in a kept pass result hold at most this many entries, then "… and N more". */
export const KEEP_LISTED = 200

function trimList<T>(list: T[], more: (n: number) => T): T[] {
  return list.length <= KEEP_LISTED ? list : [...list.slice(0, KEEP_LISTED), more(list.length - KEEP_LISTED)]
}

/** A pass result with its lists cut to KEEP_LISTED entries (what the loop keeps of a pass). */
export function trimmedPass(r: PassResult): PassResult {
  const long = [r.ops, r.applied, r.failed, r.conflicts, r.deferred].some((l) => l.length > KEEP_LISTED)
  if (!long) return r
  const more = (n: number) => `… and ${n} more`
  return {
    ...r,
    ops: trimList(r.ops, more),
    applied: trimList(r.applied, more),
    failed: trimList(r.failed, (n) => ({ op: more(n), error: "" })),
    conflicts: trimList(r.conflicts, more),
    deferred: trimList(r.deferred, more),
  }
}

/** A pass healed drift when it applied something nobody asked for by new desired state. */
export function isDrift(result: PassResult): boolean {
  return result.trigger !== "start" && result.trigger !== "desired" && result.applied.length > 0
}
