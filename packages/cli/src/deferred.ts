// A source made when first needed, and made again until it can be: what `linx run` gives
// a loop whose namespace may not exist yet (a container not started, a file naming a
// namespace that is gone). The loop's passes fail with the reason ("no namespace x")
// and back off; its status says so and /healthz is 503; once the namespace is there the
// next pass creates the source, subscribes it, and converges. Nothing else changes.
import type { AnySource, Hint } from "@linx/reconcile"
import type { SourceEntry } from "./sources.ts"

export function deferredSource(entry: SourceEntry, create: () => AnySource): AnySource {
  let real: AnySource | undefined
  let onHint: ((h: Hint) => void) | undefined
  let sub: Disposable | undefined
  let closed = false

  const subscribeReal = () => {
    if (sub || !onHint || !real?.subscribe) return
    sub = real.subscribe(onHint)
  }
  const get = (): AnySource => {
    if (closed) throw new Error(`${entry.kind} source is closed`)
    if (real) return real
    real = create() // throws (NetnsError, LibraryError…): the pass fails with it and is retried
    const forward = onHint
    try {
      subscribeReal()
    } catch (e) {
      // the loop is told its feed is down: it subscribes again with backoff
      if (forward) queueMicrotask(() => forward({ ended: e instanceof Error ? e : new Error(String(e)) }))
    }
    return real
  }

  return {
    kind: entry.kind,
    schema: entry.schema,
    ...(entry.ownershipSchema ? { ownershipSchema: entry.ownershipSchema } : {}),
    observe: (want) => get().observe(want),
    diff: (desired, observed, ownership) => get().diff(desired, observed, ownership),
    reconcile: (ops, observed) => get().reconcile(ops, observed),
    describe: (op) => get().describe(op),
    subscribe(hint) {
      onHint = hint
      get() // not there yet: the loop reports its feed down and tries again
      subscribeReal()
      return {
        [Symbol.dispose]() {
          sub?.[Symbol.dispose]()
          sub = undefined
        },
      }
    },
    async close() {
      closed = true
      sub?.[Symbol.dispose]()
      sub = undefined
      await real?.close()
    },
  }
}
