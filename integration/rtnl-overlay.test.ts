// A VXLAN overlay against the real kernel, in fresh namespaces, cross-checked with
// `ip -d -j link` and `bridge -j fdb`: vxlan links (unicast, multicast, on an underlay
// device) with their FDB entries made in one pass, a changed VNI replaces the link and
// its entries in the same pass, a deleted entry is healed by a loop, entries on links
// this loop does not own are never touched.
import { describe, expect, test } from "bun:test"
import { createReconciler } from "@linx/reconcile"
import { createRtnlSource, type RtnlDesired, RtnlDesiredSchema, type RtnlOwnership } from "@linx/source-rtnl"
import * as v from "valibot"
import { freshNetns, type TestNetns } from "./netns.ts"

const OWN: RtnlOwnership = { links: ["u0", "u1", "vx*", "br0"] }
const overlay = (vni = 42) => ({
  links: [
    { name: "u0", kind: "veth", peer: { name: "u1", master: "br0" }, up: true },
    { name: "br0", kind: "bridge", up: true },
    { name: "vx0", kind: "vxlan", vni, local: "10.9.0.1", dev: "u0", learning: false, ttl: 64, up: true },
    { name: "vx6", kind: "vxlan", vni: 44, multicastGroup: "ff05::100", dev: "u0", dstport: 8472 },
  ],
  addresses: [{ link: "u0", address: "10.9.0.1/24" }],
  fdb: [
    { link: "vx0", lladdr: "00:00:00:00:00:00", dst: "10.9.0.2" },
    { link: "vx0", lladdr: "00:00:00:00:00:00", dst: "10.9.0.3" },
    { link: "vx0", lladdr: "02:00:00:00:00:04", dst: "10.9.0.4", vni: 4242 },
    { link: "u1", lladdr: "02:00:00:00:00:07", master: true },
  ],
})
const parse = (x: unknown): RtnlDesired => v.parse(RtnlDesiredSchema, x)

type Fdb = { mac: string; dst?: string; vni?: number; flags: string[]; master?: string; state: string }
const fdb = (t: TestNetns, dev: string): Fdb[] => JSON.parse(t.sh("bridge", "-j", "fdb", "show", "dev", dev))
const remotes = (t: TestNetns) =>
  fdb(t, "vx0")
    .filter((e) => e.dst)
    .map((e) => `${e.mac} ${e.dst}${e.vni ? ` ${e.vni}` : ""}`)
    .sort()
const infoData = (t: TestNetns, dev: string) =>
  JSON.parse(t.sh("ip", "-d", "-j", "link", "show", dev))[0].linkinfo as {
    info_kind: string
    info_data: Record<string, unknown>
  }

describe("a vxlan overlay", () => {
  test("links and forwarding entries in one pass, as ip and bridge show them; then nothing to do", async () => {
    using t = freshNetns()
    const s = createRtnlSource({ netns: t.ns })
    try {
      const d = parse(overlay())
      const r = await s.reconcile(s.diff(d, await s.observe(), OWN))
      expect(r.failed.map((f) => f.error.message)).toEqual([])
      expect(s.diff(d, await s.observe(), OWN).map(s.describe)).toEqual([])
      expect(infoData(t, "vx0")).toMatchObject({
        info_kind: "vxlan",
        info_data: { id: 42, local: "10.9.0.1", link: "u0", port: 4789, learning: false, ttl: 64 },
      })
      expect(infoData(t, "vx6").info_data).toMatchObject({ id: 44, group6: "ff05::100", link: "u0", port: 8472 })
      expect(remotes(t)).toEqual([
        "00:00:00:00:00:00 10.9.0.2",
        "00:00:00:00:00:00 10.9.0.3",
        "02:00:00:00:00:04 10.9.0.4 4242",
      ])
      expect(fdb(t, "u1").find((e) => e.mac === "02:00:00:00:00:07")).toMatchObject({ master: "br0", state: "static" })
    } finally {
      await s.close()
    }
  })

  test("a changed vni replaces the link, and its entries come back in the same pass", async () => {
    using t = freshNetns()
    const s = createRtnlSource({ netns: t.ns })
    try {
      await s.reconcile(s.diff(parse(overlay()), await s.observe(), OWN))
      const ops = s.diff(parse(overlay(43)), await s.observe(), OWN)
      expect(ops.map(s.describe).filter((x) => x.includes("vx0") && !x.startsWith("bridge"))).toEqual([
        "ip link del dev vx0",
        "ip link add vx0 group 77 type vxlan id 43 local 10.9.0.1 dev u0 dstport 4789 nolearning ttl 64; ip link set dev vx0 up",
      ])
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(infoData(t, "vx0").info_data).toMatchObject({ id: 43 })
      expect(remotes(t)).toHaveLength(3)
      expect(s.diff(parse(overlay(43)), await s.observe(), OWN).map(s.describe)).toEqual([])
    } finally {
      await s.close()
    }
  })

  test("a loop heals a deleted entry and removes a stray static one; a foreign bridge's entries stay", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "add", "fx0", "type", "veth", "peer", "name", "fx1")
    t.sh("ip", "link", "add", "fbr", "type", "bridge")
    t.sh("ip", "link", "set", "fx1", "master", "fbr")
    t.sh("bridge", "fdb", "add", "02:00:00:00:00:99", "dev", "fx1", "master", "static")
    const loop = createReconciler({
      source: createRtnlSource({ netns: t.ns }),
      desired: parse(overlay()),
      ownership: OWN,
    })
    try {
      expect((await loop.start()).converged).toBe(true)
      const before = remotes(t)
      t.sh("bridge", "fdb", "del", "00:00:00:00:00:00", "dev", "vx0", "dst", "10.9.0.3")
      t.sh("bridge", "fdb", "add", "02:00:00:00:00:66", "dev", "u1", "master", "static")
      const settled = () =>
        JSON.stringify(remotes(t)) === JSON.stringify(before) &&
        !fdb(t, "u1").some((e) => e.mac === "02:00:00:00:00:66")
      for (let i = 0; i < 400 && !settled(); i++) await Bun.sleep(5)
      expect(remotes(t)).toEqual(before)
      expect(fdb(t, "u1").some((e) => e.mac === "02:00:00:00:00:66")).toBe(false)
      expect(fdb(t, "fx1").some((e) => e.mac === "02:00:00:00:00:99")).toBe(true)
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
    const vx = (o: object) => ({ links: [{ name: "vx0", kind: "vxlan", vni: 1, ...o }] })
    expect(bad(vx({ vni: 1 << 24 }))).toContain("16777215")
    expect(bad(vx({ remote: "10.0.0.1", multicastGroup: "239.1.1.1" }))).toContain("not both")
    expect(bad(vx({ local: "10.0.0.1", remote: "fd00::1" }))).toContain("one family")
    expect(bad(vx({ dstport: 0 }))).toBeTruthy()
    expect(bad({ fdb: [{ link: "vx0", lladdr: "02:00:00:00:00:01", dst: "10.0.0.1", master: true }] })).toContain("dst")
    expect(bad({ fdb: [{ link: "vx0", lladdr: "nope" }] })).toContain("MAC")
    expect(bad({ fdb: [{ link: "u1", lladdr: "02:00:00:00:00:01", master: true, self: true }] })).toContain("opposites")
  })
})
