// Work in steps: a generator yields between chunks of a long computation (a diff over a
// million routes); run synchronously to the end, or with the event loop let in every few
// milliseconds, so that other loops, timers and the status endpoint are not held back.
import { yieldToEventLoop } from "@linx/netlink"

/** How many items a step covers: small enough to check the clock often, large enough to cost nothing. */
export const STEP_ITEMS = 4096

export type Steps<T> = Generator<void, T>

export function runSteps<T>(steps: Steps<T>): T {
  let r = steps.next()
  while (!r.done) r = steps.next()
  return r.value
}

export async function runStepsAsync<T>(steps: Steps<T>, sliceMs = 4): Promise<T> {
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
