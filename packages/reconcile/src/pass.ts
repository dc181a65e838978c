// One pass: observe → diff → hold back what must wait → reconcile, measured and
// described. Private to the loop. Never throws: a failure becomes the pass's error.
import type { Clock } from "./clock.ts"
import type { ConvergenceTracker } from "./convergence.ts"
import type { PassResult, Trigger } from "./result.ts"
import { summariseScope } from "./scope.ts"
import { type ApplyReport, isConflictOp, isTerminalError, type Scope, type Source } from "./source.ts"

export interface PassInput<D, O, Op, Own> {
  source: Source<D, O, Op, Own>
  desired: D
  ownership: Own
  seq: number
  trigger: Trigger
  /** undefined: a full pass */
  scope: Scope | undefined
  tracker: ConvergenceTracker
  clock: Clock
  /** true once stop() was called: observe and diff still run, nothing is applied */
  stopping(): boolean
}

export interface PassOutcome {
  result: PassResult
  /** why the pass failed (an exception, or the first failed op); undefined = success */
  error: Error | undefined
  terminal: boolean
}

export function emptyPass(seq: number, trigger: Trigger, startedAt: number): PassResult {
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

export async function runPass<D, O, Op, Own>(p: PassInput<D, O, Op, Own>): Promise<PassOutcome> {
  const { source, clock } = p
  const startedAt = clock.now()
  const result = emptyPass(p.seq, p.trigger, startedAt)
  if (p.scope) result.scope = summariseScope(p.scope)
  let error: Error | undefined
  let terminal = false
  try {
    const t0 = performance.now()
    const want = p.scope
      ? { desired: p.desired, ownership: p.ownership, scope: p.scope }
      : { desired: p.desired, ownership: p.ownership }
    const observed = await source.observe(want)
    const t1 = performance.now()
    const ops = source.diffAsync
      ? await source.diffAsync(p.desired, observed, p.ownership)
      : source.diff(p.desired, observed, p.ownership)
    const t2 = performance.now()
    result.timings.observeMs = t1 - t0
    result.timings.diffMs = t2 - t1
    const now = clock.now()
    const { toApply, described } = sortOps(p, ops, result, now)
    p.tracker.setConflicts(result.conflicts)
    if (toApply.length && !p.stopping()) {
      const report: ApplyReport<Op> = await source.reconcile(toApply, observed)
      result.timings.applyMs = performance.now() - t2
      result.applied = describeApplied(report.applied, toApply, described, (op) => source.describe(op))
      for (const f of report.failed) result.failed.push(failureOf(source.describe(f.op), f.error))
      if (report.failed.length) {
        error = new Error(result.failed[0]!.error)
        terminal = report.failed.every((f) => isTerminalError(f.error))
      }
    } else if (toApply.length) {
      for (const op of toApply) result.deferred.push(source.describe(op))
    }
    const drift = p.trigger !== "start" && p.trigger !== "desired"
    p.tracker.afterPass(new Set(result.ops), result.applied, drift, now)
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e))
    terminal = isTerminalError(e)
    result.error = error.message
  }
  result.timings.totalMs = clock.now() - startedAt
  result.converged = !error && !result.failed.length && !result.conflicts.length && !result.deferred.length
  return { result, error, terminal }
}

/** Describes every op; returns those to apply, recording conflicts and held-back ops. */
function sortOps<D, O, Op, Own>(
  p: PassInput<D, O, Op, Own>,
  ops: readonly Op[],
  result: PassResult,
  now: number,
): { toApply: Op[]; described: string[] } {
  const toApply: Op[] = []
  const described: string[] = []
  for (const op of ops) {
    const d = p.source.describe(op)
    result.ops.push(d)
    if (isConflictOp(op)) result.conflicts.push(d)
    else if (p.tracker.holdBack(d, p.trigger, now)) result.deferred.push(d)
    else {
      toApply.push(op)
      described.push(d)
    }
  }
  return { toApply, described }
}

/**
 * The text of each applied op: taken from the text made before the apply when the report
 * lists them in the order they were given (every source here does), else described again.
 * A million applied ops are then not described twice.
 */
function describeApplied<Op>(
  applied: readonly Op[],
  toApply: readonly Op[],
  described: readonly string[],
  describe: (op: Op) => string,
): string[] {
  const out: string[] = []
  let j = 0
  for (const op of applied) {
    while (j < toApply.length && toApply[j] !== op) j++
    if (j < toApply.length) out.push(described[j++]!)
    else {
      out.push(describe(op))
      j = toApply.length
    }
  }
  return out
}

function failureOf(op: string, error: Error): PassResult["failed"][number] {
  const f: PassResult["failed"][number] = { op, error: error.message }
  const code = (error as { code?: unknown }).code
  if (typeof code === "string") f.code = code
  return f
}
