// What a pass and a loop report. The same shapes feed events, the logger, the status
// endpoint and the CLI.
import type { EventsStatus } from "./events.ts"

export type Trigger = "start" | "timer" | "hint" | "overrun" | "desired" | "retry" | "manual"

export interface PassTimings {
  observeMs: number
  diffMs: number
  applyMs: number
  totalMs: number
}

export interface PassResult {
  /** sequence number of the pass in this loop, from 1 */
  seq: number
  trigger: Trigger
  /** what the hints said changed (summarised) when that narrowed the look; undefined = a full pass */
  scope?: string[]
  startedAt: number
  timings: PassTimings
  /** every op the diff produced, described (conflicts included, as `# conflict: …`) */
  ops: string[]
  applied: string[]
  failed: { op: string; error: string; code?: string }[]
  conflicts: string[]
  /** ops held back: contested (rate-limited) or not converging */
  deferred: string[]
  /** a failure of the pass itself (observe, diff or apply threw) */
  error?: string
  /** true when nothing is left to do: no error, no failure, no conflict, nothing deferred */
  converged: boolean
}

/** One heal: when it ended (ms since the epoch) and how long after the first hint. */
export interface HealLatency {
  at: number
  ms: number
  /** the heal of a contested object, held back by its rate limit on purpose: not a latency to count */
  throttled?: boolean
}

export type LoopState = "idle" | "running" | "backoff" | "stopped"

export interface LoopCounters {
  passes: number
  passesByTrigger: Record<Trigger, number>
  noopPasses: number
  failedPasses: number
  opsApplied: number
  opsFailed: number
  driftHealed: number
  hints: number
  overruns: number
  conflicts: number
}

export interface ContestedObject {
  op: string
  /** heals within the window */
  heals: number
  since: number
  lastHealAt: number
}

export type { EventsStatus }

export interface LoopStatus {
  name: string
  source: string
  state: LoopState
  converged: boolean
  /** true once the first pass has finished (successfully or not) */
  ready: boolean
  /** a pass is running or waiting to run */
  busy: boolean
  lastPass?: PassResult
  lastSuccessAt?: number
  lastFullPassAt?: number
  consecutiveFailures: number
  counters: LoopCounters
  contested: ContestedObject[]
  notConverging: string[]
  conflicts: string[]
  nextResyncAt?: number
  nextRetryAt?: number
  resyncMs: number
  /** recent heal latencies (ms from the hint to the end of the pass that healed) */
  healLatenciesMs: HealLatency[]
  recentPasses: PassResult[]
  /** why the loop stopped by itself (its workload exited, its namespace is gone), when it did */
  stopReason?: string
  /** the source's event subscription: up, or down with why (the resync timer still heals meanwhile) */
  events: EventsStatus
}
