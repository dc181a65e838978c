// Where a worker module of this package is, for `new Worker(...)`: beside its caller when
// run from source (.ts) or from the published package (.js); inside a `linx` binary made
// by `bun build --compile` (scripts/compile.sh), where the workers are extra entry points
// under the binary's root, the packages folder: /$bunfs/root/reconcile/src/<path>.js.
import { extname } from "node:path"

/**
 * `callerUrl`: the caller's import.meta.url; `sibling`: the worker beside it, without
 * extension ("./worker"); `fromSrc`: the same worker's path under src/ ("status/worker").
 */
export function workerUrl(callerUrl: string, sibling: string, fromSrc: string): string {
  if (callerUrl.includes("/$bunfs/")) return new URL(`./reconcile/src/${fromSrc}.js`, callerUrl).href
  return new URL(`${sibling}${extname(new URL(callerUrl).pathname)}`, callerUrl).href
}
