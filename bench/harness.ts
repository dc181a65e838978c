// Benchmarks: each case runs ours and the standard tool in the same run, in a
// namespace the bench creates, and reports the ratio against the goal.
import { assertNotInitialNetns, Netns } from "@linx/netlink"
import { makeTestNetns, type TestNetns } from "../integration/shell.ts"

export interface Row {
  name: string
  ours: string
  baseline: string
  ratio: string
  goal: string
  ok: boolean | undefined
}

export const rows: Row[] = []

export function fmtMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`
}

/** Median wall time of `fn` over `runs` runs (after one warm-up when `warmup`). */
export function timeMedian(fn: () => void, runs = 5, warmup = true): number {
  if (warmup) fn()
  const t: number[] = []
  for (let i = 0; i < runs; i++) {
    const s = performance.now()
    fn()
    t.push(performance.now() - s)
  }
  t.sort((a, b) => a - b)
  return t[Math.floor(t.length / 2)]!
}

/** Median wall time of an async `fn` over `runs` runs; `before` runs untimed before each. */
export async function timeMedianAsync(
  fn: () => Promise<void>,
  runs = 5,
  before?: () => void | Promise<void>,
): Promise<number> {
  const t: number[] = []
  for (let i = 0; i < runs; i++) {
    await before?.()
    const s = performance.now()
    await fn()
    t.push(performance.now() - s)
  }
  t.sort((a, b) => a - b)
  return t[Math.floor(t.length / 2)]!
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export function addRatio(name: string, oursMs: number, baseMs: number, baseName: string, goal: number): void {
  const ratio = oursMs / baseMs
  rows.push({
    name,
    ours: fmtMs(oursMs),
    baseline: `${fmtMs(baseMs)} (${baseName})`,
    ratio: `${ratio.toFixed(2)}×`,
    goal: `≤ ${goal}×`,
    ok: ratio <= goal,
  })
}

export function addAbsolute(name: string, ours: string, goal: string, ok: boolean | undefined, baseline = "—"): void {
  rows.push({ name, ours, baseline, ratio: "—", goal, ok })
}

export function printTable(): void {
  const head = ["case", "ours", "baseline", "ratio", "goal", "met"]
  const body = rows.map((r) => [
    r.name,
    r.ours,
    r.baseline,
    r.ratio,
    r.goal,
    r.ok === undefined ? "?" : r.ok ? "yes" : "NO",
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ")
  console.log(line(head))
  console.log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const b of body) console.log(line(b))
}

/** A fresh namespace for one bench case. */
export function benchNetns(): TestNetns & Disposable {
  assertNotInitialNetns("bench")
  const t = makeTestNetns(Netns.create())
  t.sh("ip", "link", "set", "lo", "up")
  return Object.assign(t, { [Symbol.dispose]: () => t.ns.close() })
}

/** Times a command run inside the namespace (spawn included, as a user would see it). */
export function timeCommand(t: TestNetns, argv: string[], runs = 3): number {
  return timeMedian(() => {
    t.sh(...argv)
  }, runs)
}

export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}
