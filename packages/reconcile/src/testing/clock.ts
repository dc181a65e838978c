// A fake clock for tests: time moves only when advance() is called, and timers fire
// in order, with the microtasks they start run between them.
import type { Clock } from "../clock.ts"

interface Timer {
  id: number
  at: number
  fn: () => void
}

export class FakeClock implements Clock {
  #now: number
  #timers: Timer[] = []
  #nextId = 1

  constructor(start = 1_000_000) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const t = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn }
    this.#timers.push(t)
    return t.id
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle)
  }

  /** Pending timers, soonest first (for assertions). */
  pending(): number[] {
    return this.#timers.map((t) => t.at - this.#now).sort((a, b) => a - b)
  }

  /** Lets queued promise callbacks run (passes on a fake source settle in a few turns). */
  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await Promise.resolve()
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms
    await this.settle()
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.id - b.id)
      const next = this.#timers[0]
      if (!next || next.at > target) break
      this.#timers.shift()
      this.#now = next.at
      next.fn()
      await this.settle()
    }
    this.#now = target
    await this.settle()
  }
}
