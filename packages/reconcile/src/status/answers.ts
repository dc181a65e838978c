// The answers of the read endpoints, each made at most once per period (default 250 ms;
// metrics once a second): a flood of readers costs one snapshot, never the loops' time.
import type { Reconciler } from "../loop.ts"
import { healthOf } from "./health.ts"
import type { LoopMetrics } from "./metrics.ts"

// biome-ignore lint: loops of any source
type AnyLoop = Reconciler<any, any>

/** A value computed at most once per `ms`, however many ask (a status flood costs one snapshot). */
export function snapshot<T>(ms: number, make: () => T): () => T {
  let value: T | undefined
  let at = Number.NEGATIVE_INFINITY
  return () => {
    const t = performance.now()
    if (value === undefined || t - at >= ms) {
      value = make()
      at = t
    }
    return value
  }
}

export function createAnswers(
  current: () => Map<string, AnyLoop>,
  options: { snapshotMs?: number; now?: () => number },
  metrics: LoopMetrics,
) {
  const now = options.now ?? Date.now
  const every = options.snapshotMs ?? 250
  const status = snapshot(every, () =>
    JSON.stringify({ loops: Object.fromEntries([...current()].map(([n, l]) => [n, l.status()])) }),
  )
  const loops = snapshot(every, () => new Map([...current()].map(([n, l]) => [n, JSON.stringify(l.status())])))
  const health = snapshot(every, () => {
    const t = now()
    const reasons = [...current().values()]
      .map((l) => healthOf(l.status(), t))
      .filter((h) => !h.ok)
      .map((h) => h.reason)
    return reasons.length
      ? { status: 503, body: JSON.stringify({ ok: false, reasons }) }
      : { status: 200, body: '{"ok":true}' }
  })
  const ready = snapshot(every, () => {
    const waiting = [...current()].filter(([, l]) => !l.status().ready).map(([n]) => n)
    return waiting.length
      ? { status: 503, body: JSON.stringify({ ready: false, waiting }) }
      : { status: 200, body: '{"ready":true}' }
  })
  // metrics at most once a second however they are asked for (a registry walk is not free)
  const metricsText = snapshot(Math.max(every, 1000), () => metrics.registry.metrics())

  return { status, loops, health, ready, metrics: metricsText, metricsType: metrics.registry.contentType }
}
