// The second thread of a captured compile (capture-pool.ts): it enters the scratch
// namespace once, then runs the nft files it is given, each on its capture socket, and
// reports each result into shared memory (the main thread waits there, blocked in a
// synchronous compile: it cannot take a message).
import { type CaptureJobs, ERROR_BYTES, ERRORS_AT, enterNetns, runNftOn } from "./capture.ts"

declare const self: Worker

let entered = -1

self.onmessage = (e: MessageEvent<CaptureJobs>) => {
  const { nsFd, jobs, shared } = e.data
  const state = new Int32Array(shared, 0, ERRORS_AT / 4)
  const bytes = new Uint8Array(shared)
  jobs.forEach((job, j) => {
    let err: string
    let unread = 0
    try {
      if (entered !== nsFd) {
        enterNetns(nsFd)
        entered = nsFd
      }
      ;({ err, unread } = runNftOn(job.theirs, job.path, (fn) => fn()))
    } catch (x) {
      err = `capture failed: ${(x as Error).message}`
      unread = -1
    }
    const text = Buffer.from(err).subarray(0, ERROR_BYTES)
    bytes.set(text, ERRORS_AT + j * ERROR_BYTES)
    state[2 + 2 * j] = unread
    state[3 + 2 * j] = text.length
    Atomics.add(state, 0, 1)
    Atomics.notify(state, 0)
  })
}
