// 1,000 container loops in one process: each in its own namespace with a veth pair,
// an address and a route. All must converge; then one route is deleted in each of 200
// namespaces and healed (p99 ≤ 10 ms); RSS per loop ≤ 1 MB.
import { Netns, openNetlinkSocket } from "@linx/netlink"
import { MessageWriter, nl } from "@linx/netlink/wire"
import { createReconciler, type Reconciler } from "@linx/reconcile"
import { createRtnlSource } from "@linx/source-rtnl"
import { encodeRouteRequest } from "../packages/source-rtnl/src/wire/route.ts"
import { addAbsolute, fmtMs, percentile } from "./harness.ts"
import { assertNotInitialNetns } from "@linx/netlink"

export async function benchManyLoops(count = 1000, trials = 200): Promise<void> {
  assertNotInitialNetns("bench")
  Bun.gc(true)
  const rssBefore = process.memoryUsage().rss
  const namespaces: Netns[] = []
  const loops: Reconciler<unknown, unknown>[] = []
  const desired = {
    links: [{ name: "eth0", kind: "veth", peer: { name: "eth0-peer" }, up: true }],
    addresses: [{ link: "eth0", address: "10.88.0.2/16" }],
    routes: [{ dst: "10.99.0.0/16", via: "10.88.0.1" }],
  }
  try {
    const t0 = performance.now()
    for (let i = 0; i < count; i++) {
      const ns = Netns.create()
      namespaces.push(ns)
      loops.push(
        createReconciler({
          source: createRtnlSource({ netns: ns }),
          desired,
          ownership: { links: ["eth0*"], routeProtocol: 78 },
          resyncMs: 300_000,
          name: `c${i}`,
        }),
      )
    }
    const results = await Promise.all(loops.map((l) => l.start()))
    const startMs = performance.now() - t0
    const converged = results.filter((r) => r.converged).length
    await Bun.sleep(3000) // DAD and the passes our own writes cause settle
    Bun.gc(true)
    const rssPerLoop = (process.memoryUsage().rss - rssBefore) / count
    addAbsolute(
      `many: ${count} container loops start and converge`,
      `${converged}/${count} converged in ${fmtMs(startMs)}`,
      "all converge",
      converged === count,
    )
    addAbsolute(
      `many: RSS per loop (${count} loops)`,
      `${(rssPerLoop / 1024).toFixed(0)} kB`,
      "≤ 1 MB",
      rssPerLoop <= 1 << 20,
    )

    // heal: delete the route in one namespace at a time, timed to the pass that heals it
    const ms: number[] = []
    for (let i = 0; i < trials; i++) {
      const k = (i * 7) % count
      const loop = loops[k]!
      const sock = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: namespaces[k] })
      const healed = new Promise<number>((resolve) => {
        const off = loop.on("drift", () => {
          off()
          resolve(performance.now())
        })
      })
      const w = new MessageWriter()
      encodeRouteRequest(w, {
        op: "delete",
        family: "inet",
        dst: new Uint8Array([10, 99, 0, 0]),
        dstLen: 16,
        table: 254,
        protocol: 78,
        scope: 255,
        type: 1,
        tos: 0,
        priority: 0,
        flags: 0,
      })
      sock.request(w)
      const t = performance.now()
      ms.push((await healed) - t)
      sock.close()
      do await Bun.sleep(1)
      while (loop.status().busy)
    }
    ms.sort((a, b) => a - b)
    const p99 = percentile(ms, 99)
    addAbsolute(
      `many: heal a deleted route with ${count} loops running (${trials} trials)`,
      `p50 ${fmtMs(percentile(ms, 50))}, p99 ${fmtMs(p99)}`,
      "p99 ≤ 10 ms",
      p99 <= 10,
    )
  } finally {
    await Promise.all(loops.map((l) => l.stop()))
    for (const ns of namespaces) ns.close()
  }
}
