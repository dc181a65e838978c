// Captured nft runs on two threads: nft's own parse is most of a big compile and runs
// on one core, so the runs are shared between this thread and a worker (ffi/capture-
// worker.ts) that lives as long as the process (unref'd) and is made on first need. The
// compile is synchronous (it runs inside schema validation): this thread waits for the
// worker on shared memory, never on a message. Without the worker (it could not start,
// or did not answer in time), every run is this thread's.
import { extname } from "node:path"
import type { Netns } from "@linx/netlink"
import {
  type CaptureJobs,
  type Captured,
  collectCapture,
  ERROR_BYTES,
  errorsAt,
  openCapture,
  runNftOn,
} from "./ffi/capture.ts"

let worker: Worker | undefined | null

/** nft runs done by this thread and by the worker, in this process (tests read it). */
export const captureRuns = { here: 0, worker: 0 }

/** Where the worker module is: beside this file (source .ts, package .js), or inside a `linx` binary. */
function workerUrl(): string {
  const here = import.meta.url
  if (here.includes("/$bunfs/")) return new URL("./source-netfilter/src/ffi/capture-worker.js", here).href
  return new URL(`./ffi/capture-worker${extname(new URL(here).pathname)}`, here).href
}

function getWorker(): Worker | undefined {
  if (worker !== undefined) return worker ?? undefined
  try {
    worker = new Worker(workerUrl())
    worker.unref()
  } catch {
    worker = null
  }
  return worker ?? undefined
}

/** How long this thread waits for the worker's runs (at least; or thrice its own runs' time) before doing them itself. */
const WAIT_MS = 1000

/** Runs each file on a capture with its answers; this thread and the worker take them in turn from a shared counter. */
export function runCapturedMany(
  ns: Netns,
  jobs: readonly { path: string; answers: readonly Uint8Array[] }[],
): Captured[] {
  const n = jobs.length
  const captures = jobs.map((j) => openCapture(ns, j.answers))
  const results: ({ err: string; unread: number } | undefined)[] = jobs.map(() => undefined)
  const w = n > 1 ? getWorker() : undefined
  const shared = new SharedArrayBuffer(errorsAt(n) + (w ? n * ERROR_BYTES : 0))
  const state = new Int32Array(shared, 0, 2 + 3 * n)
  if (w) {
    const theirs = captures.map((c, j) => ({ path: jobs[j]!.path, theirs: c.theirs }))
    w.postMessage({ nsFd: ns.fd, jobs: theirs, shared } satisfies CaptureJobs)
  }
  const started = performance.now()
  let here = 0
  for (let j = Atomics.add(state, 1, 1); j < n; j = Atomics.add(state, 1, 1)) {
    results[j] = runNftOn(captures[j]!.theirs, jobs[j]!.path, (fn) => ns.run(fn))
    here++
  }
  captureRuns.here += here
  if (w && here < n) {
    const deadline = performance.now() + Math.max(WAIT_MS, 3 * (performance.now() - started))
    for (let done = Atomics.load(state, 0); done < n - here; done = Atomics.load(state, 0)) {
      if (Atomics.wait(state, 0, done, Math.max(1, deadline - performance.now())) === "timed-out") break
    }
    const bytes = new Uint8Array(shared)
    for (let j = 0; j < n; j++) {
      const unread = state[3 + 3 * j]!
      const len = state[4 + 3 * j]!
      // this thread's, not finished by the worker, or failed in the worker itself (not in nft): redone below
      if (results[j] || Atomics.load(state, 2 + 3 * j) !== 1 || unread < 0) continue
      const at = errorsAt(n) + j * ERROR_BYTES
      results[j] = { err: Buffer.from(bytes.subarray(at, at + len)).toString(), unread }
      captureRuns.worker++
    }
  }
  return jobs.map((j, i) => {
    const done = results[i]
    if (done) return { ...done, sent: collectCapture(captures[i]!.ours) }
    // not run by the worker (it failed, or is late: it may still hold its end; ours is dropped)
    collectCapture(captures[i]!.ours)
    const again = openCapture(ns, j.answers)
    const ran = runNftOn(again.theirs, j.path, (fn) => ns.run(fn))
    captureRuns.here++
    return { ...ran, sent: collectCapture(again.ours) }
  })
}
