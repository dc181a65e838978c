// Nexthop objects (ip nexthop) and routes through them (nhid), against the real kernel in
// fresh namespaces, cross-checked with `ip -j nexthop` and `ip -j route`: made in one pass
// (members before groups, nexthops before the routes that use them), a group's weight
// changed in place (the route follows), a nexthop deleted by hand healed by a loop with
// its route, a foreign nexthop of a desired id left alone, ours deleted groups first.
import { describe, expect, test } from "bun:test"
import { createReconciler } from "@linx/reconcile"
import { createRtnlSource, type RtnlDesired, RtnlDesiredSchema, type RtnlOwnership } from "@linx/source-rtnl"
import * as v from "valibot"
import { freshNetns, type TestNetns } from "./netns.ts"

const OWN: RtnlOwnership = { links: ["u0", "u1", "u2", "u3"] }
const state = (weight = 3, extra: object[] = []) => ({
  links: [
    { name: "u0", kind: "veth", peer: { name: "u1" }, up: true },
    { name: "u2", kind: "veth", peer: { name: "u3" }, up: true },
  ],
  addresses: [
    { link: "u0", address: "10.1.0.1/24" },
    { link: "u2", address: "10.2.0.1/24" },
    { link: "u0", address: "fd01::1/64", nodad: true },
  ],
  nexthops: [
    { id: 1, via: "10.1.0.254", dev: "u0" },
    { id: 2, via: "10.2.0.254", dev: "u2" },
    { id: 3, dev: "u0" },
    { id: 4, blackhole: true },
    { id: 6, via: "fd01::fe", dev: "u0" },
    { id: 10, group: [{ id: 1 }, { id: 2, weight }] },
    ...extra,
  ],
  routes: [
    { dst: "10.50.0.0/16", nhid: 10 },
    { dst: "10.51.0.0/16", nhid: 1 },
    { dst: "fd50::/48", nhid: 6 },
    { dst: "10.52.0.0/16", nhid: 4 },
  ],
})
const parse = (x: unknown): RtnlDesired => v.parse(RtnlDesiredSchema, x)
type IpNh = {
  id: number
  gateway?: string
  dev?: string
  blackhole?: null
  group?: { id: number; weight?: number }[]
  protocol?: string
}
const nexthops = (t: TestNetns): IpNh[] => JSON.parse(t.sh("ip", "-j", "nexthop", "show"))
const route = (t: TestNetns, dst: string) =>
  (JSON.parse(t.sh("ip", "-j", "route", "show", dst)) as { nhid?: number; nexthops?: { weight: number }[] }[])[0]

describe("nexthop objects", () => {
  test("one pass: nexthops and the routes through them, as ip shows them; a weight changed in place", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "set", "lo", "up") // a blackhole nexthop needs it (the kernel's rule: ip says the same)
    const s = createRtnlSource({ netns: t.ns })
    try {
      const pass = async (d: RtnlDesired) => {
        const ops = s.diff(d, await s.observe(), OWN)
        const r = await s.reconcile(ops)
        expect(r.failed.map((f) => `${f.op}: ${f.error.message}`)).toEqual([])
        return ops.map(s.describe)
      }
      await pass(parse(state()))
      expect(await pass(parse(state()))).toEqual([])
      const nh = nexthops(t)
      const by = (id: number) => nh.find((n) => n.id === id)!
      expect(by(1)).toMatchObject({ gateway: "10.1.0.254", dev: "u0", protocol: "77" })
      expect(by(3)).toMatchObject({ dev: "u0" })
      expect(by(4)).toMatchObject({ blackhole: null })
      expect(by(6)).toMatchObject({ gateway: "fd01::fe", dev: "u0" })
      expect(by(10).group).toEqual([{ id: 1 }, { id: 2, weight: 3 }])
      expect(route(t, "10.50.0.0/16")!.nhid).toBe(10)
      expect(route(t, "10.51.0.0/16")!.nhid).toBe(1)
      expect(JSON.parse(t.sh("ip", "-6", "-j", "route", "show", "fd50::/48"))[0].nhid).toBe(6)
      // the group's weight: one replace, and the route through it follows
      expect(await pass(parse(state(5)))).toEqual([
        "ip nexthop replace id 10 group 1/2,5 proto 77  # group 1/1,2/3 → 1/1,2/5",
      ])
      expect(route(t, "10.50.0.0/16")!.nexthops!.map((n) => n.weight)).toEqual([1, 5])
      // a nexthop of a desired id made by someone else: left alone
      t.sh("ip", "nexthop", "add", "id", "20", "via", "10.1.0.253", "dev", "u0")
      const ops = s.diff(parse(state(5, [{ id: 20, via: "10.1.0.252", dev: "u0" }])), await s.observe(), OWN)
      expect(ops.map((o) => o.kind)).toEqual(["conflict"])
      // none desired: ours go (groups first: one batch, no EBUSY), the foreign one stays
      const gone = await pass(parse({ links: state().links, addresses: state().addresses }))
      expect(gone.filter((x) => x.startsWith("ip nexthop del"))[0]).toBe("ip nexthop del id 10")
      expect(nexthops(t).map((n) => n.id)).toEqual([20])
    } finally {
      await s.close()
    }
  })

  test("a loop heals a nexthop deleted by hand, and the route the kernel dropped with it", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "set", "lo", "up")
    const loop = createReconciler({
      source: createRtnlSource({ netns: t.ns }),
      desired: parse(state()),
      ownership: OWN,
    })
    try {
      expect((await loop.start()).converged).toBe(true)
      t.sh("ip", "nexthop", "del", "id", "1") // the kernel takes 10.51.0.0/16 and group 10's member with it
      const healed = () => nexthops(t).some((n) => n.id === 1) && route(t, "10.51.0.0/16")?.nhid === 1
      for (let i = 0; i < 400 && !healed(); i++) await Bun.sleep(5)
      expect(healed()).toBe(true)
      expect(nexthops(t).find((n) => n.id === 10)!.group).toEqual([{ id: 1 }, { id: 2, weight: 3 }])
    } finally {
      await loop.stop()
    }
  })

  test("refused before anything is sent", () => {
    const bad = (x: unknown) => {
      const r = v.safeParse(RtnlDesiredSchema, x)
      expect(r.success).toBe(false)
      return r.issues!.map((i) => i.message).join("; ")
    }
    expect(bad({ nexthops: [{ id: 0, dev: "u0" }] })).toContain("start at 1")
    expect(bad({ nexthops: [{ id: 1 }] })).toContain("needs via, dev, blackhole or group")
    expect(bad({ nexthops: [{ id: 1, group: [{ id: 2 }], via: "10.0.0.1" }] })).toContain("members only")
    expect(bad({ nexthops: [{ id: 1, blackhole: true, dev: "u0" }] })).toContain("blackhole")
    expect(bad({ routes: [{ dst: "10.0.0.0/8", nhid: 1, via: "10.0.0.1" }] })).toContain("nhid")
  })
})
