// @linx/reconcile/status: an Elysia plugin over one or many named loops, and
// serveStatus() to run it on its own thread. Elysia and prom-client are optional peer
// dependencies: only this module loads them.
export { type LoopSet, type ServeOptions, type StatusOptions, statusPlugin } from "./core.ts"
export { serveStatus, type StatusServer } from "./serve.ts"
export { healthOf } from "./health.ts"
