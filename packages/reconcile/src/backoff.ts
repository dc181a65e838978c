// Exponential backoff with full jitter (client-go's ItemExponentialFailureRateLimiter,
// with AWS's "full jitter"): delay = random() * min(max, initial * 2^(failures-1)).

export interface BackoffOptions {
  /** first retry delay ceiling. Default 100 ms */
  initialMs?: number
  /** largest delay ceiling. Default: the resync period */
  maxMs?: number
}

export function backoffDelay(failures: number, initialMs: number, maxMs: number, random: () => number): number {
  if (failures <= 0) return 0
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30))
  return Math.floor(random() * ceiling)
}

/** Resync delay with ±`jitter` (fraction) around `resyncMs`. */
export function resyncDelay(resyncMs: number, jitter: number, random: () => number): number {
  return Math.round(resyncMs * (1 - jitter + 2 * jitter * random()))
}
