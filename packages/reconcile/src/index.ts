// @linx/reconcile: the level-triggered loop over any one source.
export { createReconciler, type Reconciler, type ReconcilerOptions, type Logger, type ContestOptions } from "./loop.ts"
export { type Source, type AnySource, type Hint, type Scope, type ApplyReport, isConflictOp } from "./source.ts"
export type { PassResult, PassTimings, LoopStatus, LoopState, LoopCounters, ContestedObject, Trigger } from "./result.ts"
export { DesiredStateError, formatIssues, validate } from "./desired.ts"
export { mergeScopes } from "./scope.ts"
export { backoffDelay, resyncDelay, type BackoffOptions } from "./backoff.ts"
export { systemClock, type Clock } from "./clock.ts"
