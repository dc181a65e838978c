// The loop driving the real rtnl source in a fresh namespace: drift made with `ip` is
// healed, foreign objects are left alone, stop() leaves nothing running or open.
import { describe, expect, test } from "bun:test"
import { createReconciler, type PassResult } from "@linx/reconcile"
import { createRtnlSource } from "@linx/source-rtnl"
import { freshNetns, openFds, type TestNetns } from "./netns.ts"

const DESIRED = {
  links: [
    { name: "br-lan", kind: "bridge", up: true },
    { name: "lan-a", kind: "veth", peer: { name: "lan-b" }, master: "br-lan", up: true },
  ],
  addresses: [{ link: "br-lan", address: "10.10.0.1/24" }],
  routes: [
    { dst: "10.20.0.0/16", via: "10.10.0.254" },
    { dst: "10.21.0.0/16", via: "10.10.0.254" },
  ],
}
const OWN = { links: ["br-lan", "lan-*"], routeProtocol: 77 }

async function until(cond: () => boolean, ms = 3000): Promise<number> {
  const start = performance.now()
  while (!cond()) {
    if (performance.now() - start > ms) throw new Error("timed out waiting")
    await Bun.sleep(1)
  }
  return performance.now() - start
}

function routes(t: TestNetns): string[] {
  return t
    .ipJson<{ dst: string }[]>("route", "show", "proto", "77")
    .map((r) => r.dst)
    .sort()
}

describe("loop over the rtnl source", () => {
  test("heals a deleted route, address and link, leaves foreign objects, converges on setDesired, stops cleanly", async () => {
    using t = freshNetns()
    const fdsBefore = await openFds()
    const source = createRtnlSource({ netns: t.ns })
    const loop = createReconciler({ source, desired: DESIRED, ownership: OWN, resyncMs: 60_000 })
    const passes: PassResult[] = []
    loop.on("pass", (p) => passes.push(p))
    const first = await loop.start()
    expect(first.failed).toEqual([])
    expect(first.converged).toBe(true)
    expect(routes(t)).toEqual(["10.20.0.0/16", "10.21.0.0/16"])

    // a route deleted by hand comes back, via the event stream (no resync for 60 s)
    t.sh("ip", "route", "del", "10.20.0.0/16")
    const routeMs = await until(() => routes(t).includes("10.20.0.0/16"))
    // an address
    t.sh("ip", "addr", "del", "10.10.0.1/24", "dev", "br-lan")
    await until(() => t.sh("ip", "-br", "addr", "show", "br-lan").includes("10.10.0.1/24"))
    // a link (and with it the routes through it)
    t.sh("ip", "link", "del", "lan-a")
    await until(
      () =>
        t.try("ip", "link", "show", "lan-a").code === 0 &&
        t.sh("ip", "link", "show", "lan-a").includes("master br-lan"),
    )
    t.sh("ip", "link", "set", "br-lan", "down")
    await until(() => t.sh("ip", "link", "show", "br-lan").includes(",UP"))
    await until(() => routes(t).length === 2)
    expect(loop.status().counters.driftHealed).toBeGreaterThanOrEqual(4)
    expect(routeMs).toBeLessThan(1000)

    // a foreign route is never touched
    t.sh("ip", "route", "add", "10.50.0.0/16", "via", "10.10.0.254", "proto", "static")
    loop.resync()
    await until(() => passes.some((p) => p.trigger === "manual"))
    expect(t.ipJson<{ dst: string }[]>("route", "show", "proto", "static").map((r) => r.dst)).toEqual(["10.50.0.0/16"])

    // new desired state converges
    const next = { ...DESIRED, routes: [{ dst: "10.22.0.0/16", via: "10.10.0.254" }] }
    const r = await loop.setDesired(next)
    expect(r.trigger).toBe("desired")
    expect(routes(t)).toEqual(["10.22.0.0/16"])
    expect((await loop.plan()).described).toEqual([])

    // stop: nothing heals any more and no descriptor of the loop is left
    await loop.stop()
    t.sh("ip", "link", "del", "lan-a")
    await Bun.sleep(200)
    expect(t.try("ip", "link", "show", "lan-a").code).not.toBe(0)
    expect(loop.status().state).toBe("stopped")
    expect(await openFds()).toBeLessThanOrEqual(fdsBefore)
  })

  test("an invalid setDesired is refused with its issues and the loop keeps the old state", async () => {
    using t = freshNetns()
    const loop = createReconciler({ source: createRtnlSource({ netns: t.ns }), desired: DESIRED, ownership: OWN })
    try {
      await loop.start()
      await expect(loop.setDesired({ links: [{ name: "br-lan", kind: "bridge", mtu: 1 }] })).rejects.toThrow(
        "links.0.mtu: mtu 1 is below the minimum of 68",
      )
      expect(loop.desired().routes.length).toBe(2)
      expect((await loop.plan()).described).toEqual([])
    } finally {
      await loop.stop()
    }
  })

  test("a namespace that does not exist is a clear error before anything runs", () => {
    expect(() => createRtnlSource({ netns: "linx-no-such-ns" })).toThrow(
      'cannot open network namespace "linx-no-such-ns" (/run/netns/linx-no-such-ns): it does not exist; create it with "ip netns add linx-no-such-ns" or pass an existing one',
    )
  })
})
