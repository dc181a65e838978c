// @linx/reconcile: the level-triggered loop over any one source.
export {
  createReconciler,
  type Reconciler,
  type ReconcilerOptions,
  type Logger,
  type LoopEvents,
  type ContestOptions,
  type BackoffOptions,
} from "./loop.ts"
export {
  type Source,
  type AnySource,
  type Want,
  type Hint,
  type Scope,
  type ScopeEntry,
  type ApplyReport,
  isConflictOp,
  isTerminalError,
} from "./source.ts"
export type {
  PassResult,
  PassTimings,
  LoopStatus,
  LoopState,
  LoopCounters,
  ContestedObject,
  HealLatency,
  Trigger,
} from "./result.ts"
export { DesiredStateError, formatIssues, validate } from "./desired.ts"
export type { Clock } from "./clock.ts"
