// Policy rules (ip rule) against the real kernel, in fresh namespaces, cross-checked with
// `ip -j rule` / `ip -6 -j rule`: made in one pass, one changed attribute is one delete and
// one add, a rule deleted by hand is healed by a loop, foreign rules are never touched
// (a foreign twin of a desired rule is a conflict, taken over with `adopt`), and a rule
// carrying a former marker of the loop is replaced in place.
import { describe, expect, test } from "bun:test"
import { createReconciler } from "@linx/reconcile"
import { createRtnlSource, type RtnlDesired, RtnlDesiredSchema, type RtnlOwnership } from "@linx/source-rtnl"
import * as v from "valibot"
import { freshNetns, type TestNetns } from "./netns.ts"

const OWN: RtnlOwnership = { routeProtocol: 77 }
const RULES = [
  { priority: 100, from: "10.1.0.0/16", table: 100 },
  { priority: 110, fwmark: "0x10", mask: 255, table: 200 },
  { priority: 120, to: "192.0.2.0/24", action: "blackhole" },
  { priority: 130, iif: "lo", ipproto: "tcp", dport: "8000-8080", table: "main", suppressPrefixlength: 0 },
  { priority: 140, from: "fd00::/64", table: 100 },
  { priority: 150, not: true, uidrange: "1000-1999", oif: "lo", table: 300 },
  { priority: 160, action: "goto", goto: 200, family: "inet6" },
  { priority: 200, action: "prohibit", family: "inet6", tos: 16 },
]
const parse = (rules: unknown[]): RtnlDesired => v.parse(RtnlDesiredSchema, { rules })

type IpRule = Record<string, string | number | boolean | null>
const ipRules = (t: TestNetns): IpRule[] => [
  ...(JSON.parse(t.sh("ip", "-j", "rule")) as IpRule[]),
  ...(JSON.parse(t.sh("ip", "-6", "-j", "rule")) as IpRule[]).map((r) => ({ ...r, six: true })),
]
const ours = (t: TestNetns) => ipRules(t).filter((r) => r.protocol === "77")

describe("policy rules", () => {
  test("one pass makes every rule as `ip rule` shows it; a second pass has nothing to do", async () => {
    using t = freshNetns()
    const s = createRtnlSource({ netns: t.ns })
    try {
      const d = parse(RULES)
      const seen = await s.observe()
      const ops = s.diff(d, seen, OWN)
      expect(ops.length).toBe(8)
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(s.diff(d, await s.observe(), OWN).map(s.describe)).toEqual([])
      const got = ours(t)
      expect(got.map((r) => r.priority)).toEqual([100, 110, 120, 130, 150, 140, 160, 200])
      const by = (p: number) => got.find((r) => r.priority === p)!
      expect(by(100)).toMatchObject({ src: "10.1.0.0", srclen: 16, table: "100" })
      expect(by(110)).toMatchObject({ fwmark: "0x10", fwmask: "0xff", table: "200" })
      expect(by(120)).toMatchObject({ dst: "192.0.2.0", dstlen: 24, action: "blackhole" })
      expect(by(130)).toMatchObject({ iif: "lo", ipproto: "tcp", table: "main", suppress_prefixlen: 0 })
      expect(by(130).dport_range ?? by(130).dport_start).toBeDefined()
      expect(by(140)).toMatchObject({ src: "fd00::", srclen: 64, table: "100", six: true })
      expect(by(150)).toMatchObject({ not: null, oif: "lo", uid_start: 1000, uid_end: 1999, table: "300" })
      expect(by(160)).toMatchObject({ goto: 200, six: true })
      expect(by(200)).toMatchObject({ action: "prohibit", tos: "0x10", six: true })
      // the kernel's own rules are still there
      expect(ipRules(t).filter((r) => [0, 32766, 32767].includes(r.priority as number)).length).toBe(5)
    } finally {
      await s.close()
    }
  })

  test("one attribute changed: one delete, one add; foreign rules untouched; a foreign twin is a conflict, adopt takes it", async () => {
    using t = freshNetns()
    const s = createRtnlSource({ netns: t.ns })
    try {
      const pass = async (d: RtnlDesired, own = OWN) => {
        const ops = s.diff(d, await s.observe(), own)
        const r = await s.reconcile(ops)
        expect(r.failed).toEqual([])
        return ops.map(s.describe)
      }
      await pass(parse(RULES))
      t.sh("ip", "rule", "add", "priority", "300", "from", "10.9.0.0/16", "lookup", "9")
      const changed = RULES.map((r) => (r.priority === 110 ? { ...r, table: 201 } : r))
      expect(await pass(parse(changed))).toEqual([
        "ip rule del priority 110 from all fwmark 0x10/0xff lookup 200 proto 77",
        "ip rule add priority 110 from all fwmark 0x10/0xff lookup 201 proto 77",
      ])
      expect(ipRules(t).some((r) => r.priority === 300 && r.table === "9")).toBe(true)
      // a desired rule someone else already made (no protocol of ours): left alone, reported
      t.sh("ip", "rule", "add", "priority", "400", "from", "10.4.0.0/16", "lookup", "4")
      const more = parse([...changed, { priority: 400, from: "10.4.0.0/16", table: 4 }])
      const ops = s.diff(more, await s.observe(), OWN)
      expect(ops.filter((o) => o.kind === "conflict").map((o) => (o as { reason: string }).reason)).toEqual([
        expect.stringContaining('rule "priority 400 from 10.4.0.0/16 lookup 4" exists, made by protocol 0'),
      ])
      expect(ops.filter((o) => o.kind !== "conflict")).toEqual([])
      // adopt: replaced by ours
      expect(await pass(more, { ...OWN, adopt: true })).toEqual([
        "ip rule del priority 400 from 10.4.0.0/16 lookup 4",
        "ip rule add priority 400 from 10.4.0.0/16 lookup 4 proto 77",
      ])
      expect(ipRules(t).filter((r) => r.priority === 400)).toEqual([
        { priority: 400, src: "10.4.0.0", srclen: 16, table: "4", protocol: "77" },
      ])
      // a rule of ours no longer desired is deleted; foreign ones stay
      expect(await pass(parse([]))).toHaveLength(9)
      expect(ours(t)).toEqual([])
      expect(ipRules(t).some((r) => r.priority === 300)).toBe(true)
    } finally {
      await s.close()
    }
  })

  test("a former marker of the loop (protocol 76) is replaced by the current one in one pass", async () => {
    using t = freshNetns()
    t.sh("ip", "rule", "add", "priority", "100", "from", "10.1.0.0/16", "lookup", "100", "proto", "76")
    const s = createRtnlSource({ netns: t.ns })
    try {
      const own = { routeProtocol: 77, former: { routeProtocols: [76] } }
      const ops = s.diff(parse([RULES[0]]), await s.observe(), own)
      expect(ops.map(s.describe)).toEqual([
        "ip rule del priority 100 from 10.1.0.0/16 lookup 100 proto 76",
        "ip rule add priority 100 from 10.1.0.0/16 lookup 100 proto 77",
      ])
      expect((await s.reconcile(ops)).failed).toEqual([])
      expect(
        ipRules(t)
          .filter((r) => r.priority === 100)
          .map((r) => r.protocol),
      ).toEqual(["77"])
    } finally {
      await s.close()
    }
  })

  test("a loop heals a rule deleted by hand (rule events hint a rule dump)", async () => {
    using t = freshNetns()
    const loop = createReconciler({ source: createRtnlSource({ netns: t.ns }), desired: parse(RULES), ownership: OWN })
    try {
      expect((await loop.start()).converged).toBe(true)
      const before = JSON.stringify(ours(t))
      t.sh("ip", "rule", "del", "priority", "110")
      t.sh("ip", "-6", "rule", "del", "priority", "140")
      for (let i = 0; i < 400 && JSON.stringify(ours(t)) !== before; i++) await Bun.sleep(5)
      expect(JSON.stringify(ours(t))).toBe(before)
    } finally {
      await loop.stop()
    }
  })

  test("refused before anything is sent", () => {
    const bad = (rule: object) => {
      const r = v.safeParse(RtnlDesiredSchema, { rules: [rule] })
      expect(r.success).toBe(false)
      return r.issues!.map((i) => i.message).join("; ")
    }
    expect(bad({ from: "10.0.0.0/8" })).toContain("priority")
    expect(bad({ priority: 0, table: 5 })).toContain("local rule")
    expect(bad({ priority: 5, from: "10.0.0.1/8" })).toContain("host bits zero")
    expect(bad({ priority: 5, from: "10.0.0.0/8", to: "fd00::/8" })).toContain("different families")
    expect(bad({ priority: 5, action: "goto" })).toContain("goto")
    expect(bad({ priority: 5, action: "goto", goto: 4 })).toContain("later rule")
    expect(bad({ priority: 5, action: "blackhole", table: 4 })).toContain("lookup rules")
    expect(bad({ priority: 5, dport: 80 })).toContain("ipproto")
    expect(bad({ priority: 5, mask: 255 })).toContain("fwmark")
    expect(bad({ priority: 5, iif: "a/b" })).toContain("link name")
    expect(bad({ priority: 5, dport: "90-80", ipproto: "tcp" })).toContain("range")
    expect(bad({ priority: 5, table: 5, lookup: 5 })).toContain("lookup")
  })
})
