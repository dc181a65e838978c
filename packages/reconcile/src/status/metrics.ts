// Prometheus metrics (prom-client), one registry per plugin: no global state.
import { Counter, Gauge, Histogram, Registry } from "prom-client"
import type { Reconciler } from "../loop.ts"
import type { PassResult } from "../result.ts"

export interface LoopMetrics {
  registry: Registry
  /** starts observing a loop's passes (pass durations); returns the unsubscribe */
  watch(name: string, loop: Reconciler<unknown, unknown>): () => void
}

export function createMetrics(loops: () => Map<string, Reconciler<unknown, unknown>>): LoopMetrics {
  const registry = new Registry()
  const duration = new Histogram({
    name: "linx_pass_duration_seconds",
    help: "Duration of reconcile passes (observe, diff, apply)",
    labelNames: ["loop", "trigger"],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  // Counters mirror each loop's own cumulative counters at scrape time.
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    read: (loop: string, r: Reconciler<unknown, unknown>, c: Counter) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset()
        for (const [n, l] of loops()) read(n, l, this)
      },
    })
  counter("linx_passes_total", "Reconcile passes by trigger and result", ["loop", "trigger", "result"], (n, l, c) => {
    const s = l.status()
    for (const [trigger, count] of Object.entries(s.counters.passesByTrigger))
      if (count) c.inc({ loop: n, trigger, result: "all" }, count)
    c.inc({ loop: n, trigger: "any", result: "failed" }, s.counters.failedPasses)
    c.inc({ loop: n, trigger: "any", result: "noop" }, s.counters.noopPasses)
  })
  counter("linx_ops_applied_total", "Ops applied", ["loop"], (n, l, c) =>
    c.inc({ loop: n }, l.status().counters.opsApplied),
  )
  counter("linx_ops_failed_total", "Ops that failed", ["loop"], (n, l, c) =>
    c.inc({ loop: n }, l.status().counters.opsFailed),
  )
  counter("linx_drift_healed_total", "Drifted objects healed", ["loop"], (n, l, c) =>
    c.inc({ loop: n }, l.status().counters.driftHealed),
  )
  counter("linx_hints_total", "Change hints received", ["loop"], (n, l, c) =>
    c.inc({ loop: n }, l.status().counters.hints),
  )
  counter("linx_overruns_total", "Event overruns (lost events, full resync)", ["loop"], (n, l, c) =>
    c.inc({ loop: n }, l.status().counters.overruns),
  )
  counter(
    "linx_event_stream_losses_total",
    "Event subscriptions that ended or could not be made",
    ["loop"],
    (n, l, c) => c.inc({ loop: n }, l.status().events.losses),
  )
  counter("linx_conflicts_total", "Conflicts and contested objects reported", ["loop"], (n, l, c) =>
    c.inc({ loop: n }, l.status().counters.conflicts),
  )
  const gauge = (name: string, help: string, read: (r: Reconciler<unknown, unknown>) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ["loop"],
      registers: [registry],
      collect() {
        this.reset()
        for (const [n, l] of loops()) {
          const v = read(l)
          if (v !== undefined) this.set({ loop: n }, v)
        }
      },
    })
  gauge("linx_converged", "1 when the loop's last pass converged", (l) => (l.status().converged ? 1 : 0))
  gauge("linx_last_success_timestamp_seconds", "Unix time of the last successful pass", (l) => {
    const t = l.status().lastSuccessAt
    return t === undefined ? undefined : t / 1000
  })
  gauge("linx_contested_objects", "Objects another agent keeps undoing", (l) => l.status().contested.length)
  gauge("linx_events_up", "1 while the loop's event subscription delivers, 0 while it is being re-made", (l) => {
    const e = l.status().events
    return e.state === "none" ? undefined : e.state === "up" ? 1 : 0
  })
  return {
    registry,
    watch(name, loop) {
      return loop.on("pass", (p: PassResult) =>
        duration.observe({ loop: name, trigger: p.trigger }, p.timings.totalMs / 1000),
      )
    },
  }
}
