// A large mixed routing table through the packed path (RouteTable, DesiredRoutes) against
// the real kernel: both families, the attributes the kernel adds on its own (an IPv6
// route's preference, cache info), and drift of each kind found by the record compare.
import { describe, expect, test } from "bun:test"
import { createRtnlSource, type RtnlDesired, RtnlDesiredSchema, type RtnlOwnership } from "@linx/source-rtnl"
import * as v from "valibot"
import { freshNetns } from "./netns.ts"

const OWN: RtnlOwnership = { links: ["lan-*"], routeProtocol: 77 }
const V4 = 20_000
const V6 = 3_000

const v4 = (i: number) => `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`
const v6 = (i: number) => `2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}::/64`

function desired(): RtnlDesired {
  return v.parse(RtnlDesiredSchema, {
    links: [{ name: "lan-a", kind: "veth", peer: { name: "lan-b" }, up: true }],
    addresses: [
      { link: "lan-a", address: "10.255.0.1/16" },
      { link: "lan-a", address: "fd00:ff::1/64", nodad: true },
    ],
    routes: [
      ...Array.from({ length: V4 }, (_, i) => ({ dst: v4(i), via: "10.255.0.254", dev: "lan-a" })),
      ...Array.from({ length: V6 }, (_, i) => ({ dst: v6(i), via: "fd00:ff::fe", dev: "lan-a" })),
      { dst: "10.50.0.0/16", via: "10.255.0.253", src: "10.255.0.1", mtu: 1400, metric: 7 },
      { dst: "10.51.0.0/16", dev: "lan-a", table: 100 },
      { dst: "10.52.0.0/16", via: "10.255.0.252", onlink: true, dev: "lan-a" },
      { dst: "10.53.0.0/16", nexthops: [{ via: "10.255.0.250" }, { via: "10.255.0.251", weight: 2 }] },
      { dst: "10.54.0.0/16", type: "blackhole" },
      { dst: "2001:db8:ff::/48", via: "fd00:ff::fd", pref: "high" },
      { dst: "2001:db8:fe::/48", dev: "lan-a", hoplimit: 9 },
    ],
  })
}

describe("a large mixed table through the packed path", () => {
  test(`${V4} IPv4 and ${V6} IPv6 routes converge, match ip -j, and each kind of drift is found by its own reason`, async () => {
    using t = freshNetns()
    const source = createRtnlSource({ netns: t.ns })
    const d = desired()
    const want = { desired: d, ownership: OWN }
    for (let pass = 0; pass < 2; pass++) {
      const report = await source.reconcile(source.diff(d, await source.observe(want), OWN))
      expect(report.failed.map((f) => f.error.message)).toEqual([])
    }
    const ours4 = t.ipJson<{ dst: string }[]>("-4", "route", "show", "table", "all", "proto", "77")
    const ours6 = t.ipJson<{ dst: string }[]>("-6", "route", "show", "table", "all", "proto", "77")
    expect(ours4.length).toBe(V4 + 5)
    expect(ours6.length).toBe(V6 + 2)
    expect(source.diff(d, await source.observe(want), OWN)).toEqual([])

    // drift: another gateway, another preference, a lost metric, one foreign twin, one owned stray
    t.sh("ip", "route", "replace", v4(77), "via", "10.255.0.9", "dev", "lan-a", "proto", "77")
    t.sh("ip", "-6", "route", "replace", "2001:db8:ff::/48", "via", "fd00:ff::fd", "pref", "low", "proto", "77")
    t.sh("ip", "-6", "route", "replace", "2001:db8:fe::/48", "dev", "lan-a", "proto", "77")
    t.sh("ip", "-6", "route", "del", v6(5), "proto", "77")
    t.sh("ip", "-6", "route", "add", v6(5), "via", "fd00:ff::fe", "dev", "lan-a", "proto", "99")
    t.sh("ip", "route", "add", "10.60.0.0/16", "via", "10.255.0.254", "proto", "77")
    const ops = source.diff(d, await source.observe(want), OWN).map((op) => source.describe(op))
    expect(ops.filter((o) => o.startsWith("# conflict"))).toEqual([expect.stringContaining(`route ${v6(5)}`)])
    expect(ops.filter((o) => !o.startsWith("# conflict")).sort()).toEqual(
      [
        `ip route replace ${v4(77)} via 10.255.0.254 dev lan-a proto 77  # via differs`,
        "ip -6 route replace 2001:db8:ff::/48 via fd00:ff::fd pref high proto 77  # pref differs",
        "ip -6 route replace 2001:db8:fe::/48 dev lan-a hoplimit 9 proto 77  # metrics differs",
        "ip route del 10.60.0.0/16 via 10.255.0.254 dev lan-a metric 0 proto 77",
      ].sort(),
    )
    // healed but for the foreign twin, which stays a conflict
    await source.reconcile(source.diff(d, await source.observe(want), OWN))
    const left = source.diff(d, await source.observe(want), OWN).map((op) => source.describe(op))
    expect(left).toEqual([expect.stringContaining(`# conflict: route ${v6(5)}`)])
    expect(t.ipJson<{ dst: string }[]>("-6", "route", "show", v6(5), "proto", "99").length).toBe(1)
    await source.close()
  }, 120_000)
})
