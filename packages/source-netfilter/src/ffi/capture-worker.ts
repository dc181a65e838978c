// The second thread of a captured compile (capture-pool.ts): it enters the scratch
// namespace once, then takes jobs from the shared counter until none is left, runs each
// nft file on its capture socket, and reports each result into shared memory (the main
// thread waits there, blocked in a synchronous compile: it cannot take a message).
import { type CaptureJobs, ERROR_BYTES, enterNetns, errorsAt, runNftOn } from "./capture.ts"

declare const self: Worker

let entered = -1

self.onmessage = (e: MessageEvent<CaptureJobs>) => {
  const { nsFd, jobs, shared } = e.data
  const state = new Int32Array(shared, 0, 2 + 3 * jobs.length)
  const bytes = new Uint8Array(shared)
  for (let j = Atomics.add(state, 1, 1); j < jobs.length; j = Atomics.add(state, 1, 1)) {
    let err: string
    let unread = 0
    try {
      if (entered !== nsFd) {
        enterNetns(nsFd)
        entered = nsFd
      }
      ;({ err, unread } = runNftOn(jobs[j]!.theirs, jobs[j]!.path, (fn) => fn()))
    } catch (x) {
      err = `capture failed: ${(x as Error).message}`
      unread = -1
    }
    const text = Buffer.from(err).subarray(0, ERROR_BYTES)
    bytes.set(text, errorsAt(jobs.length) + j * ERROR_BYTES)
    state[3 + 3 * j] = unread
    state[4 + 3 * j] = text.length
    state[2 + 3 * j] = 1
    Atomics.add(state, 0, 1)
    Atomics.notify(state, 0)
  }
}
