// Which ops the loop holds back, and why: ops another agent keeps undoing (contested:
// healed at a bounded rate), ops that do not take (not converging: found again right
// after being applied), and conflicts the source reported. Private to the loop; works
// on described ops (strings), so it needs no source types.
import type { ContestedObject, Trigger } from "./result.ts"

/** consecutive passes that find an op they just applied, before it is held back */
const NOT_CONVERGING_AFTER = 3

export interface ContestOptions {
  /** heals of the same op within the window that make it contested. Default 5 */
  threshold?: number
  /** Default 10 000 ms */
  windowMs?: number
  /** a contested op is re-applied at most this often. Default 1 000 ms */
  minIntervalMs?: number
}

export type ConflictReason = "conflict" | "contested" | "not-converging"

export class ConvergenceTracker {
  readonly threshold: number
  readonly windowMs: number
  readonly minIntervalMs: number
  readonly #heals = new Map<string, number[]>()
  readonly #contested = new Map<string, ContestedObject>()
  /** op → consecutive passes in which it was applied and then found again */
  readonly #reapplied = new Map<string, number>()
  readonly #notConverging = new Set<string>()
  #lastApplied = new Set<string>()
  #conflicts: string[] = []

  constructor(
    options: ContestOptions,
    private readonly report: (op: string, reason: ConflictReason) => void,
  ) {
    this.threshold = options.threshold ?? 5
    this.windowMs = options.windowMs ?? 10_000
    this.minIntervalMs = options.minIntervalMs ?? 1_000
  }

  get anyContested(): boolean {
    return this.#contested.size > 0
  }

  /** Why `op` must not be applied in this pass, or undefined. */
  holdBack(op: string, trigger: Trigger, now: number): "not-converging" | "contested" | undefined {
    // Contested (another agent keeps undoing it): healed at most once per interval, and
    // as soon as the interval is over, whatever asked for the pass. (It also looks like
    // not converging; the contest's rate limit is the one that applies.)
    const c = this.#contested.get(op)
    if (c) return now - c.lastHealAt < this.minIntervalMs ? "contested" : undefined
    // Not converging: held back until a timer, manual or desired pass gives it another try.
    if (this.#notConverging.has(op) && trigger !== "timer" && trigger !== "desired" && trigger !== "manual")
      return "not-converging"
    return undefined
  }

  /** When the earliest of these held-back ops may be healed again (contested ones only), or undefined. */
  releaseAt(deferred: readonly string[]): number | undefined {
    let at: number | undefined
    for (const d of deferred) {
      const c = this.#contested.get(d)
      if (c && (at === undefined || c.lastHealAt + this.minIntervalMs < at)) at = c.lastHealAt + this.minIntervalMs
    }
    return at
  }

  /** The conflicts a pass found; new ones are reported once. */
  setConflicts(conflicts: string[]): number {
    let fresh = 0
    for (const d of conflicts) {
      if (this.#conflicts.includes(d)) continue
      fresh++
      this.report(d, "conflict")
    }
    this.#conflicts = conflicts
    return fresh
  }

  /**
   * Bookkeeping after a pass: `seen` = every op the diff produced, `applied` = what was
   * applied, `drift` = whether those applications healed drift (not start/desired).
   * Returns how many objects became contested.
   */
  afterPass(seen: ReadonlySet<string>, applied: readonly string[], drift: boolean, now: number): number {
    // an op applied last time and found again, three passes in a row: not converging.
    // (A fast undo by another agent looks the same; both end up held back, not spinning.)
    for (const d of seen) {
      if (!this.#lastApplied.has(d)) continue
      const n = (this.#reapplied.get(d) ?? 0) + 1
      this.#reapplied.set(d, n)
      if (n >= NOT_CONVERGING_AFTER && !this.#notConverging.has(d)) {
        this.#notConverging.add(d)
        this.report(d, "not-converging")
      }
    }
    for (const d of [...this.#reapplied.keys()]) if (!seen.has(d)) this.#reapplied.delete(d)
    for (const d of [...this.#notConverging]) if (!seen.has(d)) this.#notConverging.delete(d)
    let contestedNow = 0
    if (drift) for (const d of applied) if (this.#countHeal(d, now)) contestedNow++
    for (const [d, c] of this.#contested) if (now - c.lastHealAt > this.windowMs) this.#contested.delete(d)
    for (const [d, times] of this.#heals) if (!times.some((t) => now - t < this.windowMs)) this.#heals.delete(d)
    this.#lastApplied = new Set(applied)
    return contestedNow
  }

  /** Counts one heal of `op`; true when it just became contested. */
  #countHeal(op: string, now: number): boolean {
    const times = (this.#heals.get(op) ?? []).filter((t) => now - t < this.windowMs)
    times.push(now)
    this.#heals.set(op, times)
    if (times.length < this.threshold) return false
    const c = this.#contested.get(op)
    if (c) {
      c.heals = times.length
      c.lastHealAt = now
      return false
    }
    this.#contested.set(op, { op, heals: times.length, since: now, lastHealAt: now })
    this.report(op, "contested")
    return true
  }

  /** New desired state: every op gets another try. */
  forgetNonConvergence(): void {
    this.#notConverging.clear()
    this.#reapplied.clear()
  }

  /** True when one of `ops` was already contested before `since`: its heal waited for the rate limit. */
  throttledAny(ops: readonly string[], since: number): boolean {
    return ops.some((op) => {
      const c = this.#contested.get(op)
      return c !== undefined && c.since < since
    })
  }

  get contested(): ContestedObject[] {
    return [...this.#contested.values()].map((c) => ({ ...c }))
  }

  get notConverging(): string[] {
    return [...this.#notConverging]
  }

  get conflicts(): string[] {
    return [...this.#conflicts]
  }
}
