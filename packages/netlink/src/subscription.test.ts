import { describe, expect, test } from "bun:test"
import { SubscriptionSet } from "./subscription.ts"

/** A subscription whose close takes until `finish()` is called. */
function slowSubscription() {
  let finish = () => {}
  const done = new Promise<void>((resolve) => (finish = resolve))
  let closes = 0
  let finished = false
  const sub = {
    close() {
      closes++
      return done.then(() => {
        finished = true
      })
    },
  }
  return { sub, finish, closes: () => closes, finished: () => finished }
}

describe("SubscriptionSet", () => {
  test("disposing twice closes once", () => {
    const set = new SubscriptionSet()
    const a = slowSubscription()
    const d = set.add(a.sub)
    d[Symbol.dispose]()
    d[Symbol.dispose]()
    expect(a.closes()).toBe(1)
  })

  test("close closes the open ones and waits for those being disposed", async () => {
    const set = new SubscriptionSet()
    const a = slowSubscription()
    const b = slowSubscription()
    set.add(a.sub)[Symbol.dispose]()
    set.add(b.sub)
    let closed = false
    const p = set.close().then(() => (closed = true))
    expect(b.closes()).toBe(1)
    b.finish()
    await Bun.sleep(1)
    expect(closed).toBe(false) // a's close is still running
    a.finish()
    await p
    expect(closed).toBe(true)
    expect(a.finished() && b.finished()).toBe(true)
  })
})
