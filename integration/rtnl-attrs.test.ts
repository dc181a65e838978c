// Link and route attributes people set, against the real kernel in fresh namespaces,
// cross-checked with `ip -j`: a link's txqueuelen and promiscuous mode (made with the link,
// changed in place, put back after drift).
import { describe, expect, test } from "bun:test"
import { createRtnlSource, RtnlDesiredSchema, type RtnlOwnership } from "@linx/source-rtnl"
import * as v from "valibot"
import { freshNetns, type TestNetns } from "./netns.ts"

const OWN: RtnlOwnership = { links: ["a0", "a1", "b0"] }
const link = (t: TestNetns, name: string) =>
  JSON.parse(t.sh("ip", "-j", "link", "show", name))[0] as { txqlen: number; flags: string[] }

describe("link attributes", () => {
  test("txqlen and promisc: set at creation, one pass; drift put back in place", async () => {
    using t = freshNetns()
    const d = v.parse(RtnlDesiredSchema, {
      links: [
        { name: "a0", kind: "veth", peer: { name: "a1" }, txqlen: 5000, promisc: true, up: true },
        { name: "b0", kind: "bridge", txqlen: 100 },
      ],
    })
    const s = createRtnlSource({ netns: t.ns })
    try {
      expect((await s.reconcile(s.diff(d, await s.observe(), OWN))).failed).toEqual([])
      expect(s.diff(d, await s.observe(), OWN)).toEqual([])
      expect(link(t, "a0").txqlen).toBe(5000)
      expect(link(t, "a0").flags).toContain("PROMISC")
      expect(link(t, "b0").txqlen).toBe(100)
      t.sh("ip", "link", "set", "a0", "promisc", "off", "txqueuelen", "10")
      const ops = s.diff(d, await s.observe(), OWN)
      expect(ops.map(s.describe)).toEqual([
        "ip link set dev a0 txqueuelen 5000 promisc on  # was txqueuelen 10, promisc off",
      ])
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(link(t, "a0").txqlen).toBe(5000)
      expect(link(t, "a0").flags).toContain("PROMISC")
    } finally {
      await s.close()
    }
  })
})

describe("altnames", () => {
  test("set with the link in one pass; one removed and a stray one added by hand are put right", async () => {
    using t = freshNetns()
    const d = v.parse(RtnlDesiredSchema, {
      links: [
        { name: "a0", kind: "veth", peer: { name: "a1" }, altnames: ["uplink-primary-with-a-long-name", "wan-a"] },
      ],
    })
    const s = createRtnlSource({ netns: t.ns })
    try {
      expect((await s.reconcile(s.diff(d, await s.observe(), OWN))).failed).toEqual([])
      expect(s.diff(d, await s.observe(), OWN)).toEqual([])
      const names = () => JSON.parse(t.sh("ip", "-j", "link", "show", "a0"))[0].altnames as string[]
      expect(names()).toEqual(["uplink-primary-with-a-long-name", "wan-a"])
      t.sh("ip", "link", "property", "del", "dev", "a0", "altname", "wan-a")
      t.sh("ip", "link", "property", "add", "dev", "a0", "altname", "stray")
      const ops = s.diff(d, await s.observe(), OWN)
      expect(ops.map(s.describe)).toEqual([
        "ip link property del dev a0 altname stray; ip link property add dev a0 altname wan-a",
      ])
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(names()).toEqual(["uplink-primary-with-a-long-name", "wan-a"])
      const bad = v.safeParse(RtnlDesiredSchema, {
        links: [{ name: "a0", kind: "dummy", altnames: ["a b", "x".repeat(128)] }],
      })
      expect(bad.success).toBe(false)
    } finally {
      await s.close()
    }
  })
})

describe("address lifetimes and flags", () => {
  test("valid/preferred lifetimes and home/mngtmpaddr as ip shows them; a forever address given a lifetime by hand is put back", async () => {
    using t = freshNetns()
    const d = v.parse(RtnlDesiredSchema, {
      links: [{ name: "a0", kind: "veth", peer: { name: "a1" }, up: true }],
      addresses: [
        { link: "a0", address: "10.8.0.1/24", validLft: 3600, preferredLft: 1800 },
        { link: "a0", address: "fd08::1/64", nodad: true, mngtmpaddr: true, home: true },
        { link: "a0", address: "10.8.1.1/24" },
      ],
    })
    const s = createRtnlSource({ netns: t.ns })
    try {
      expect((await s.reconcile(s.diff(d, await s.observe(), OWN))).failed).toEqual([])
      expect(s.diff(d, await s.observe(), OWN)).toEqual([])
      type Info = {
        local: string
        valid_life_time: number
        preferred_life_time: number
        home?: boolean
        mngtmpaddr?: boolean
      }
      const info = () => JSON.parse(t.sh("ip", "-j", "addr", "show", "a0"))[0].addr_info as Info[]
      const at = (a: string) => info().find((x) => x.local === a)!
      expect(at("10.8.0.1").valid_life_time).toBeLessThanOrEqual(3600)
      expect(at("10.8.0.1").valid_life_time).toBeGreaterThan(3500)
      expect(at("10.8.0.1").preferred_life_time).toBeLessThanOrEqual(1800)
      expect(at("fd08::1")).toMatchObject({ home: true, mngtmpaddr: true })
      // (ip addr change cannot keep our proto: the address is someone else's now, taken back with adopt)
      t.sh("ip", "addr", "change", "10.8.1.1/24", "dev", "a0", "valid_lft", "100", "preferred_lft", "100")
      expect(s.diff(d, await s.observe(), OWN).map((o) => o.kind)).toEqual(["conflict"])
      const ops = s.diff(d, await s.observe(), { ...OWN, adopt: true })
      expect(ops.map(s.describe)).toEqual(["ip addr del 10.8.1.1/24 dev a0", "ip addr add 10.8.1.1/24 dev a0 proto 77"])
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(at("10.8.1.1").valid_life_time).toBe(4294967295)
      const bad = v.safeParse(RtnlDesiredSchema, {
        addresses: [{ link: "a0", address: "10.0.0.1/24", validLft: 10, preferredLft: 20 }],
      })
      expect(bad.success).toBe(false)
    } finally {
      await s.close()
    }
  })
})

describe("route attributes", () => {
  test("advmss, hoplimit, initcwnd, initrwnd, rto_min, quickack: as ip shows them; one changed is one replace", async () => {
    using t = freshNetns()
    const state = (initcwnd: number) =>
      v.parse(RtnlDesiredSchema, {
        links: [{ name: "a0", kind: "veth", peer: { name: "a1" }, up: true }],
        addresses: [{ link: "a0", address: "10.3.0.1/24" }],
        routes: [
          {
            dst: "10.60.0.0/16",
            via: "10.3.0.254",
            advmss: 1400,
            hoplimit: 32,
            initcwnd,
            initrwnd: 20,
            rtoMin: 50,
            quickack: true,
          },
        ],
      })
    const s = createRtnlSource({ netns: t.ns })
    try {
      expect((await s.reconcile(s.diff(state(10), await s.observe(), OWN))).failed).toEqual([])
      expect(s.diff(state(10), await s.observe(), OWN)).toEqual([])
      const metrics = () => JSON.parse(t.sh("ip", "-j", "route", "show", "10.60.0.0/16"))[0].metrics[0]
      expect(metrics()).toEqual({ advmss: 1400, hoplimit: 32, initcwnd: 10, rto_min: 50, initrwnd: 20, quickack: 1 })
      const ops = s.diff(state(30), await s.observe(), OWN)
      expect(ops.map((o) => o.kind)).toEqual(["update"])
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(metrics().initcwnd).toBe(30)
    } finally {
      await s.close()
    }
  })
})

describe("moving a device into a namespace", () => {
  test("a device is moved and renamed on the way in, in one pass; then it is found there; refused when it is nowhere", async () => {
    using host = freshNetns()
    using ctr = freshNetns()
    host.sh("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
    const d = v.parse(RtnlDesiredSchema, {
      links: [{ name: "d1", kind: "device", netns: ctr.ns.path, rename: "eth0" }],
    })
    const own = { links: ["d1"] }
    const s = createRtnlSource({ netns: host.ns })
    try {
      const ops = s.diff(d, await s.observe({ desired: d }), own)
      expect(ops.map(s.describe)).toEqual([`ip link set dev d1 netns ${ctr.ns.path} name eth0`])
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(host.try("ip", "link", "show", "d1").code).not.toBe(0)
      expect(JSON.parse(ctr.sh("ip", "-j", "link", "show", "eth0"))[0].ifname).toBe("eth0")
      expect(s.diff(d, await s.observe({ desired: d }), own)).toEqual([])
      // not ours to move: a device not named in ownership.links
      host.sh("ip", "link", "add", "e0", "type", "veth", "peer", "name", "e1")
      const other = v.parse(RtnlDesiredSchema, { links: [{ name: "e1", kind: "device", netns: ctr.ns.path }] })
      expect(s.diff(other, await s.observe({ desired: other }), own).map((o) => o.kind)).toEqual(["conflict"])
      // nowhere: a conflict that says so
      const none = v.parse(RtnlDesiredSchema, { links: [{ name: "zz9", kind: "device", netns: ctr.ns.path }] })
      const c = s.diff(none, await s.observe({ desired: none }), { links: ["zz9"] })
      expect((c[0] as { reason: string }).reason).toContain("is neither here nor in")
    } finally {
      await s.close()
    }
  })
})

describe("tun and tap devices", () => {
  test("made through /dev/net/tun with the loop's marker, mtu, master and up in one pass; a mode change replaces; one made meanwhile is not taken over", async () => {
    using t = freshNetns()
    const own = { links: ["tun0", "tap0", "br9", "tunx"] }
    const state = (mode: "tun" | "tap") =>
      v.parse(RtnlDesiredSchema, {
        links: [
          { name: "br9", kind: "bridge", up: true },
          { name: "tun0", kind: "tuntap", mode, mtu: 1400, up: true },
          { name: "tap0", kind: "tuntap", mode: "tap", master: "br9", up: true },
        ],
      })
    const s = createRtnlSource({ netns: t.ns })
    try {
      expect((await s.reconcile(s.diff(state("tun"), await s.observe(), own))).failed).toEqual([])
      expect(s.diff(state("tun"), await s.observe(), own)).toEqual([])
      const info = (name: string) => JSON.parse(t.sh("ip", "-d", "-j", "link", "show", name))[0]
      expect(info("tun0")).toMatchObject({
        mtu: 1400,
        group: "77",
        linkinfo: { info_kind: "tun", info_data: { type: "tun" } },
      })
      expect(info("tap0")).toMatchObject({ master: "br9", linkinfo: { info_data: { type: "tap" } } })
      expect(info("tap0").flags).toContain("UP")
      // another mode: the device is made anew (a tun cannot be a bridge port: the kernel refuses, EINVAL)
      const ops = s.diff(state("tap"), await s.observe(), own)
      expect(ops.map(s.describe)).toEqual([
        "ip link del dev tun0",
        "ip tuntap add tun0 mode tap; ip link set dev tun0 group 77 mtu 1400 up",
      ])
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(info("tun0").linkinfo.info_data.type).toBe("tap")
      // made by someone else between the look and the apply: the create fails, the device is left alone
      const more = v.parse(RtnlDesiredSchema, { links: [{ name: "tunx", kind: "tuntap", mode: "tun" }] })
      const plan = s.diff(more, await s.observe(), own)
      t.sh("ip", "tuntap", "add", "tunx", "mode", "tun")
      const r = await s.reconcile(plan.filter((o) => o.kind === "create"))
      expect(r.failed.map((f) => f.error.message)).toEqual([expect.stringContaining("appeared after the look")])
      expect(info("tunx").group).toBe("default")
    } finally {
      await s.close()
    }
  })
})

describe("route types and preference", () => {
  test("throw and local routes, tos, an IPv6 route's pref: as ip shows them, then nothing to do; pref changed in place", async () => {
    using t = freshNetns()
    const state = (pref: "high" | "low") =>
      v.parse(RtnlDesiredSchema, {
        links: [{ name: "a0", kind: "veth", peer: { name: "a1" }, up: true }],
        addresses: [
          { link: "a0", address: "fd03::1/64", nodad: true },
          { link: "a0", address: "10.3.0.1/24" },
        ],
        routes: [
          { dst: "10.70.0.0/16", type: "throw", table: 100 },
          { dst: "10.71.0.0/24", type: "local", dev: "lo", table: 100 },
          { dst: "10.72.0.0/16", via: "10.3.0.254", tos: 16 },
          { dst: "10.72.0.0/16", via: "10.3.0.253" },
          { dst: "fd70::/48", via: "fd03::fe", pref },
        ],
      })
    const s = createRtnlSource({ netns: t.ns })
    try {
      expect((await s.reconcile(s.diff(state("high"), await s.observe(), OWN))).failed).toEqual([])
      expect(s.diff(state("high"), await s.observe(), OWN)).toEqual([])
      const t100 = JSON.parse(t.sh("ip", "-j", "route", "show", "table", "100")) as { type?: string; dst: string }[]
      expect(t100.map((r) => `${r.type ?? "unicast"} ${r.dst}`).sort()).toEqual([
        "local 10.71.0.0/24",
        "throw 10.70.0.0/16",
      ])
      // two routes to one destination, told apart by tos (part of an IPv4 route's key)
      const main = JSON.parse(t.sh("ip", "-j", "route", "show", "10.72.0.0/16")) as { tos?: string; gateway: string }[]
      expect(main.map((r) => `${r.tos ?? "0"} ${r.gateway}`).sort()).toEqual(["0 10.3.0.253", "0x10 10.3.0.254"])
      const six = () => JSON.parse(t.sh("ip", "-6", "-j", "route", "show", "fd70::/48"))[0]
      expect(six().pref).toBe("high")
      const ops = s.diff(state("low"), await s.observe(), OWN)
      expect(ops.map((o) => o.kind)).toEqual(["update"])
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(six().pref).toBe("low")
      expect(v.safeParse(RtnlDesiredSchema, { routes: [{ dst: "10.0.0.0/8", dev: "a0", pref: "high" }] }).success).toBe(
        false,
      )
    } finally {
      await s.close()
    }
  })
})
