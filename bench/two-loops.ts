// Two loops in one process: one keeps N routes (a full BGP table at N = 1M) and does full
// passes back to back; the other keeps one route in another namespace, and a deleted one
// is healed while the big loop works. Its heal latency is what a node agent's small loops
// (a container's, a sysctl's) see while a big one is busy.
import { createReconciler } from "@linx/reconcile"
import { createRtnlSource } from "@linx/source-rtnl"
import { addAbsolute, benchNetns, fmtMs, percentile } from "./harness.ts"
import { OWN, prepareDevice, routesDesired } from "./rtnl.ts"

export async function benchTwoLoops(count: number, heals = 60): Promise<void> {
  using big = benchNetns()
  using small = benchNetns()
  prepareDevice(big)
  prepareDevice(small)
  const rssBefore = process.memoryUsage().rss
  const bigLoop = createReconciler({
    name: "big",
    source: createRtnlSource({ netns: big.ns }),
    desired: routesDesired(count),
    ownership: OWN,
    resyncMs: 3_600_000,
  })
  const smallLoop = createReconciler({
    name: "small",
    source: createRtnlSource({ netns: small.ns }),
    desired: { routes: [{ dst: "10.99.0.0/16", via: "10.255.0.254" }] },
    ownership: OWN,
    resyncMs: 3_600_000,
    // the deletes here are the bench's, not a fight: never rate-limited as contested
    contest: { threshold: 1_000_000 },
  })
  await smallLoop.start()
  const first = performance.now()
  await bigLoop.start()
  const firstMs = performance.now() - first
  if (!bigLoop.status().converged) throw new Error(`big loop did not converge: ${bigLoop.status().lastPass?.error}`)
  const rssPerRoute = (process.memoryUsage().rss - rssBefore) / count
  // settled: the events of the loop's own apply digested, then a collection (what the
  // process holds while it keeps the table, not the first pass's peak)
  const settle = performance.now()
  while (bigLoop.status().lastPass?.trigger === "start" || performance.now() - settle < 2000) await Bun.sleep(100)
  Bun.gc(true)
  await Bun.sleep(500)
  const rssSettled = (process.memoryUsage().rss - rssBefore) / count

  // the big loop: full passes back to back
  let busy = true
  let fullPasses = 0
  const off = bigLoop.on("pass", (p) => {
    if (p.trigger !== "manual") return
    fullPasses++
    if (busy) bigLoop.resync()
  })
  bigLoop.resync()
  const latencies: number[] = []
  // at least `heals` heals, and over at least two of the big loop's full passes
  for (let i = 0; i < heals || (fullPasses < 2 && i < 20 * heals); i++) {
    const before = smallLoop.status().healLatenciesMs.length
    small.sh("ip", "route", "del", "10.99.0.0/16")
    const start = performance.now()
    while (smallLoop.status().healLatenciesMs.length === before) {
      if (performance.now() - start > 30_000) throw new Error("the small loop did not heal within 30 s")
      await Bun.sleep(1)
    }
    latencies.push(smallLoop.status().healLatenciesMs.at(-1)!.ms)
    await Bun.sleep(20 + Math.random() * 30) // land anywhere in the big loop's pass
  }
  busy = false
  off()
  await bigLoop.stop()
  await smallLoop.stop()
  latencies.sort((a, b) => a - b)
  const label = `${count >= 1_000_000 ? `${count / 1_000_000}M` : `${count / 1000}k`}`
  addAbsolute(
    `loops: heal of one route while another loop does full passes over ${label} routes`,
    `p50 ${fmtMs(percentile(latencies, 50))}, p99 ${fmtMs(percentile(latencies, 99))}, max ${fmtMs(latencies.at(-1)!)} (${latencies.length} heals during ${fullPasses} full passes)`,
    "p99 ≤ 10 ms",
    percentile(latencies, 99) <= 10,
  )
  addAbsolute(
    `loops: ${label} routes, first pass (validate, observe, diff, apply) and process RSS per route, right after it / settled`,
    `${fmtMs(firstMs)}; ${rssPerRoute.toFixed(0)} / ${rssSettled.toFixed(0)} bytes/route`,
    "≤ 500 bytes/route",
    rssSettled <= 500,
  )
}
