// The loop's event feed: the source's subscription, kept alive. A subscription that ends
// (an error on the event socket other than an overrun, a namespace gone, a source that
// could not subscribe yet) is not the end of events: the feed says it is down and why,
// the loop runs a full pass, and the feed subscribes again with backoff until it is up.
import type { Clock } from "./clock.ts"
import type { Hint } from "./source.ts"

export interface EventsStatus {
  /** up: events arrive; down: resubscribing (the resync timer still heals); none: the source has no events */
  state: "up" | "down" | "none"
  /** when it went into this state */
  since?: number
  /** why it is down */
  reason?: string
  /** subscriptions that ended or could not be made */
  losses: number
  /** the next attempt to subscribe, while down */
  nextAttemptAt?: number
}

interface FeedOptions {
  subscribe: ((onHint: (hint: Hint) => void) => Disposable) | undefined
  onHint(hint: Hint): void
  /** the feed went down: the loop looks at everything now */
  onLost(reason: string): void
  clock: Clock
  initialBackoffMs: number
  maxBackoffMs: number
}

export class EventFeed {
  readonly #o: FeedOptions
  #sub: Disposable | undefined
  #timer: unknown
  #stopped = false
  /** consecutive losses without an event in between (sets the backoff) */
  #streak = 0
  readonly #status: EventsStatus

  constructor(options: FeedOptions) {
    this.#o = options
    this.#status = { state: options.subscribe ? "down" : "none", losses: 0 }
  }

  status(): EventsStatus {
    return { ...this.#status }
  }

  /** Subscribes (first, before the first look, so no change falls between the two). */
  start(): void {
    if (!this.#o.subscribe || this.#stopped) return
    try {
      this.#sub = this.#o.subscribe((h) => this.#receive(h))
      this.#set("up")
    } catch (e) {
      this.#lose(e instanceof Error ? e.message : String(e))
    }
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#sub?.[Symbol.dispose]()
    this.#sub = undefined
  }

  #receive(h: Hint): void {
    if (this.#stopped) return
    if (h.ended) {
      this.#lose(h.ended.message)
      return
    }
    this.#streak = 0
    this.#o.onHint(h)
  }

  #lose(reason: string): void {
    this.#sub?.[Symbol.dispose]()
    this.#sub = undefined
    this.#status.losses++
    this.#set("down", reason)
    const delay = Math.min(this.#o.initialBackoffMs * 2 ** this.#streak++, this.#o.maxBackoffMs)
    this.#status.nextAttemptAt = this.#o.clock.now() + delay
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined
      this.start()
    }, delay)
    this.#o.onLost(reason)
  }

  #set(state: "up" | "down", reason?: string): void {
    if (this.#status.state !== state) this.#status.since = this.#o.clock.now()
    this.#status.state = state
    if (reason === undefined) {
      delete this.#status.reason
      delete this.#status.nextAttemptAt
    } else this.#status.reason = reason
  }
}
