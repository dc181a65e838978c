// Static neighbours (ip neigh) against the real kernel, in fresh namespaces, cross-checked
// with `ip -j neigh`: made in one pass (IPv4, IPv6 with the router flag, noarp, reachable),
// a changed lladdr replaced in place, an entry deleted by hand healed by a loop, an entry
// the kernel learned taken over, a static entry of someone else left alone (a conflict).
import { describe, expect, test } from "bun:test"
import { createReconciler } from "@linx/reconcile"
import { createRtnlSource, type RtnlDesired, RtnlDesiredSchema, type RtnlOwnership } from "@linx/source-rtnl"
import * as v from "valibot"
import { freshNetns, type TestNetns } from "./netns.ts"

const OWN: RtnlOwnership = { links: ["n0", "n1"], routeProtocol: 77 }
const LINKS = [{ name: "n0", kind: "veth", peer: { name: "n1" }, up: true }]
const NEIGHBORS = [
  { link: "n0", address: "10.0.0.2", lladdr: "02:00:00:00:00:02" },
  { link: "n0", address: "10.0.0.3", state: "noarp" },
  { link: "n0", address: "fd00::2", lladdr: "02:00:00:00:00:03", router: true },
  { link: "n1", address: "10.0.0.9", lladdr: "02:00:00:00:00:09", state: "reachable" },
]
const parse = (neighbors: unknown[]): RtnlDesired => v.parse(RtnlDesiredSchema, { links: LINKS, neighbors })

type IpNeigh = { dst: string; dev: string; lladdr?: string; state: string[]; protocol?: string; router?: null }
const ipNeigh = (t: TestNetns): IpNeigh[] => JSON.parse(t.sh("ip", "-j", "neigh", "show", "nud", "all"))
const ours = (t: TestNetns) => ipNeigh(t).filter((n) => n.protocol === "77")

describe("static neighbours", () => {
  test("one pass makes them as `ip neigh` shows them; then nothing to do; a changed lladdr is one replace", async () => {
    using t = freshNetns()
    const s = createRtnlSource({ netns: t.ns })
    try {
      const pass = async (d: RtnlDesired) => {
        const ops = s.diff(d, await s.observe(), OWN)
        const r = await s.reconcile(ops)
        expect(r.failed.map((f) => f.error.message)).toEqual([])
        return ops.map(s.describe)
      }
      await pass(parse(NEIGHBORS))
      expect(await pass(parse(NEIGHBORS))).toEqual([])
      const by = (dst: string) => ipNeigh(t).find((n) => n.dst === dst)!
      expect(by("10.0.0.2")).toMatchObject({
        dev: "n0",
        lladdr: "02:00:00:00:00:02",
        state: ["PERMANENT"],
        protocol: "77",
      })
      expect(by("10.0.0.3")).toMatchObject({ dev: "n0", state: ["NOARP"], protocol: "77" })
      expect(by("fd00::2")).toMatchObject({
        dev: "n0",
        lladdr: "02:00:00:00:00:03",
        router: null,
        state: ["PERMANENT"],
      })
      expect(by("10.0.0.9")).toMatchObject({ dev: "n1", lladdr: "02:00:00:00:00:09", protocol: "77" })
      const moved = NEIGHBORS.map((n) => (n.address === "10.0.0.2" ? { ...n, lladdr: "02:00:00:00:00:22" } : n))
      expect(await pass(parse(moved))).toEqual([
        "ip neigh replace 10.0.0.2 dev n0 lladdr 02:00:00:00:00:22 nud permanent proto 77  # lladdr 02:00:00:00:00:02 → 02:00:00:00:00:22",
      ])
      expect(by("10.0.0.2").lladdr).toBe("02:00:00:00:00:22")
      // no longer desired: ours go, a foreign static entry stays
      t.sh("ip", "neigh", "add", "10.0.0.50", "dev", "n0", "lladdr", "02:00:00:00:00:50", "nud", "permanent")
      expect(await pass(parse([]))).toHaveLength(4)
      expect(ours(t)).toEqual([])
      expect(ipNeigh(t).some((n) => n.dst === "10.0.0.50")).toBe(true)
    } finally {
      await s.close()
    }
  })

  test("an entry the kernel learned is taken over; a static one of someone else is a conflict (adopt takes it)", async () => {
    using t = freshNetns()
    const s = createRtnlSource({ netns: t.ns })
    try {
      const d = parse(NEIGHBORS.slice(0, 1))
      await s.reconcile(s.diff(parse([]), await s.observe(), OWN))
      // learned: a stale entry with another lladdr
      t.sh("ip", "neigh", "add", "10.0.0.2", "dev", "n0", "lladdr", "02:00:00:00:00:aa", "nud", "stale")
      let ops = s.diff(d, await s.observe(), OWN)
      expect(ops.map(s.describe)).toEqual([
        "ip neigh replace 10.0.0.2 dev n0 lladdr 02:00:00:00:00:02 nud permanent proto 77  # lladdr 02:00:00:00:00:aa → 02:00:00:00:00:02",
      ])
      expect((await s.reconcile(ops)).failed).toEqual([])
      // static, someone else's
      t.sh(
        "ip",
        "neigh",
        "replace",
        "10.0.0.2",
        "dev",
        "n0",
        "lladdr",
        "02:00:00:00:00:bb",
        "nud",
        "permanent",
        "proto",
        "5",
      )
      ops = s.diff(d, await s.observe(), OWN)
      expect(ops.map((o) => o.kind)).toEqual(["conflict"])
      ops = s.diff(d, await s.observe(), { ...OWN, adopt: true })
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(ours(t)).toMatchObject([{ dst: "10.0.0.2", lladdr: "02:00:00:00:00:02" }])
    } finally {
      await s.close()
    }
  })

  test("a loop heals an entry deleted by hand, and one changed by hand", async () => {
    using t = freshNetns()
    const loop = createReconciler({
      source: createRtnlSource({ netns: t.ns }),
      desired: parse(NEIGHBORS),
      ownership: OWN,
    })
    try {
      expect((await loop.start()).converged).toBe(true)
      const snapshot = () =>
        JSON.stringify(
          ours(t)
            .map((n) => [n.dst, n.dev, n.lladdr])
            .sort(),
        )
      const before = snapshot()
      t.sh("ip", "neigh", "del", "10.0.0.2", "dev", "n0")
      t.sh(
        "ip",
        "neigh",
        "replace",
        "fd00::2",
        "dev",
        "n0",
        "lladdr",
        "02:00:00:00:00:77",
        "nud",
        "permanent",
        "proto",
        "77",
      )
      for (let i = 0; i < 400 && snapshot() !== before; i++) await Bun.sleep(5)
      expect(snapshot()).toBe(before)
    } finally {
      await loop.stop()
    }
  })

  test("refused before anything is sent", () => {
    const bad = (n: object) => {
      const r = v.safeParse(RtnlDesiredSchema, { neighbors: [n] })
      expect(r.success).toBe(false)
      return r.issues!.map((i) => i.message).join("; ")
    }
    expect(bad({ link: "n0", address: "10.0.0.2" })).toContain("lladdr")
    expect(bad({ link: "n0", address: "10.0.0.2", lladdr: "zz" })).toContain("MAC")
    expect(bad({ link: "n0", address: "10.0.0.300", lladdr: "02:00:00:00:00:01" })).toContain("IPv4 or IPv6")
    expect(bad({ link: "n0", address: "10.0.0.2", lladdr: "02:00:00:00:00:01", router: true })).toContain("IPv6")
    expect(bad({ link: "n0", address: "10.0.0.2", lladdr: "02:00:00:00:00:01", state: "stale" })).toContain("state")
  })
})
