// Health and readiness from loop status (no Elysia here: the rules, testable alone).
import type { LoopStatus } from "../result.ts"

/**
 * A loop is healthy while it is converged, or its last success is within two resync
 * periods (kube-proxy's healthz: staleness of work, not a single failure).
 */
export function healthOf(s: LoopStatus, now: number): { ok: boolean; reason?: string } {
  if (s.state === "stopped") return { ok: false, reason: `${s.name}: stopped` }
  if (s.converged) return { ok: true }
  if (s.lastSuccessAt !== undefined && now - s.lastSuccessAt <= 2 * s.resyncMs) return { ok: true }
  const why =
    s.lastPass?.error ??
    s.lastPass?.failed[0]?.error ??
    s.lastPass?.conflicts[0] ??
    (s.ready ? "not converged" : "no pass has finished yet")
  const since =
    s.lastSuccessAt === undefined
      ? "never succeeded"
      : `last success ${Math.round((now - s.lastSuccessAt) / 1000)} s ago`
  return { ok: false, reason: `${s.name}: ${since}: ${why}` }
}
