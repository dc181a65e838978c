// Work in steps: a generator yields between chunks of a long job (a dump of a million
// routes, a batch of a million requests, a diff over them); run synchronously to the
// end, or with the event loop let in every few milliseconds so that other loops, timers
// and a server in the same process are not held back.

export type Steps<T> = Generator<void, T>

/** Lets timers, I/O and other loops' work run: a macrotask turn, not a microtask. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export function runSteps<T>(steps: Steps<T>): T {
  let r = steps.next()
  while (!r.done) r = steps.next()
  return r.value
}

/** Runs the steps, yielding to the event loop whenever `sliceMs` of work has passed since the last time. */
export async function runStepsAsync<T>(steps: Steps<T>, sliceMs = 2): Promise<T> {
  let since = performance.now()
  let r = steps.next()
  while (!r.done) {
    if (performance.now() - since >= sliceMs) {
      await yieldToEventLoop()
      since = performance.now()
    }
    r = steps.next()
  }
  return r.value
}
