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
  /** the measurements behind a ratio row (ms), for the JSON results */
  oursTiming?: Timing
  baseTiming?: Timing
  ratioValue?: number
}

export const rows: Row[] = []

export function fmtMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`
}

/** Repeated measurements of one thing, in ms. */
export interface Timing {
  median: number
  min: number
  max: number
  runs: number[]
}

function timingOf(samples: number[]): Timing {
  const runs = [...samples].sort((a, b) => a - b)
  return { median: runs[Math.floor(runs.length / 2)]!, min: runs[0]!, max: runs.at(-1)!, runs }
}

/** "median (min–max)" */
export function fmtTiming(t: Timing): string {
  return `${fmtMs(t.median)} (${fmtMs(t.min)}–${fmtMs(t.max)})`
}

/** Wall time of `fn` over `runs` runs (after one warm-up when `warmup`). */
export function timeMedian(fn: () => void, runs = 5, warmup = true): Timing {
  if (warmup) fn()
  const t: number[] = []
  for (let i = 0; i < runs; i++) {
    const s = performance.now()
    fn()
    t.push(performance.now() - s)
  }
  return timingOf(t)
}

/** Wall time of an async `fn` over `runs` runs; `before` runs untimed before each. */
export async function timeMedianAsync(
  fn: () => Promise<void>,
  runs = 5,
  before?: () => void | Promise<void>,
): Promise<Timing> {
  const t: number[] = []
  for (let i = 0; i < runs; i++) {
    await before?.()
    const s = performance.now()
    await fn()
    t.push(performance.now() - s)
  }
  return timingOf(t)
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export function addRatio(name: string, ours: Timing, base: Timing, baseName: string, goal: number): void {
  const ratio = ours.median / base.median
  rows.push({
    name,
    ours: fmtTiming(ours),
    baseline: `${fmtTiming(base)} (${baseName})`,
    ratio: `${ratio.toFixed(2)}×`,
    goal: `≤ ${goal}×`,
    ok: ratio <= goal,
    oursTiming: ours,
    baseTiming: base,
    ratioValue: ratio,
  })
}

export function addAbsolute(name: string, ours: string, goal: string, ok: boolean | undefined, baseline = "—"): void {
  rows.push({ name, ours, baseline, ratio: "—", goal, ok })
}

/** The machine a run was made on: the figures mean nothing without it. */
export function machine(): { cores: number; kernel: string; bun: string; date: string } {
  const os = require("node:os") as typeof import("node:os")
  return { cores: os.cpus().length, kernel: os.release(), bun: Bun.version, date: new Date().toISOString() }
}

export function printTable(): void {
  const m = machine()
  console.log(`${m.date}: ${m.cores} cores, Linux ${m.kernel}, Bun ${m.bun}; medians of ≥ 5 runs (min–max)\n`)
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

/** Writes the run as JSON (machine and rows) to `file`. */
export async function writeResults(file: string): Promise<void> {
  await Bun.write(file, `${JSON.stringify({ machine: machine(), rows }, null, 2)}\n`)
  console.log(`\nresults written to ${file}`)
}

/** Prints each ratio next to the same case's in an earlier results file. */
export async function compareWith(file: string): Promise<void> {
  const before = (await Bun.file(file).json()) as { machine: { date: string }; rows: Row[] }
  const old = new Map(before.rows.map((r) => [r.name, r]))
  console.log(`\ncompared with ${file} (${before.machine.date}):`)
  for (const r of rows) {
    const o = old.get(r.name)
    if (!o) continue
    const change =
      r.ratioValue !== undefined && o.ratioValue !== undefined
        ? `${o.ratioValue.toFixed(2)}× → ${r.ratioValue.toFixed(2)}× (${(((r.ratioValue - o.ratioValue) / o.ratioValue) * 100).toFixed(0)}%)`
        : `${o.ours} → ${r.ours}`
    console.log(`  ${r.name}: ${change}`)
  }
}

/** A fresh namespace for one bench case. */
export function benchNetns(): TestNetns & Disposable {
  assertNotInitialNetns("bench")
  const t = makeTestNetns(Netns.create())
  t.sh("ip", "link", "set", "lo", "up")
  return Object.assign(t, { [Symbol.dispose]: () => t.ns.close() })
}

/** Times a command run inside the namespace (spawn included, as a user would see it). */
export function timeCommand(t: TestNetns, argv: string[], runs = 5): Timing {
  return timeMedian(() => {
    t.sh(...argv)
  }, runs)
}

export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}
