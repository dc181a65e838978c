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
  ERRORS_AT,
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

/** How long this thread waits for the worker's runs (at least; or thrice its own share's time) before doing them itself. */
const WAIT_MS = 1000

/** Runs each file on a capture with its answers; the later half on the worker thread. */
export function runCapturedMany(
  ns: Netns,
  jobs: readonly { path: string; answers: readonly Uint8Array[] }[],
): Captured[] {
  const captures = jobs.map((j) => openCapture(ns, j.answers))
  const results: ({ err: string; unread: number } | undefined)[] = jobs.map(() => undefined)
  const w = jobs.length > 1 ? getWorker() : undefined
  const split = w ? Math.floor(jobs.length / 2) : jobs.length
  const theirs = captures.slice(split).map((c, k) => ({ path: jobs[split + k]!.path, theirs: c.theirs }))
  const shared = new SharedArrayBuffer(ERRORS_AT + theirs.length * ERROR_BYTES)
  const state = new Int32Array(shared, 0, ERRORS_AT / 4)
  if (w && theirs.length) w.postMessage({ nsFd: ns.fd, jobs: theirs, shared } satisfies CaptureJobs)
  const started = performance.now()
  for (let i = 0; i < split; i++) results[i] = runNftOn(captures[i]!.theirs, jobs[i]!.path, (fn) => ns.run(fn))
  captureRuns.here += split
  if (theirs.length && w) {
    const deadline = performance.now() + Math.max(WAIT_MS, 3 * (performance.now() - started))
    for (let done = Atomics.load(state, 0); done < theirs.length; done = Atomics.load(state, 0)) {
      if (Atomics.wait(state, 0, done, Math.max(1, deadline - performance.now())) === "timed-out") break
    }
    const bytes = new Uint8Array(shared)
    for (let k = 0; k < Atomics.load(state, 0); k++) {
      const unread = state[2 + 2 * k]!
      const err = Buffer.from(
        bytes.subarray(ERRORS_AT + k * ERROR_BYTES, ERRORS_AT + k * ERROR_BYTES + state[3 + 2 * k]!),
      )
      // a run that failed in the worker itself (not in nft) is redone here
      if (unread >= 0) {
        results[split + k] = { err: err.toString(), unread }
        captureRuns.worker++
      }
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
