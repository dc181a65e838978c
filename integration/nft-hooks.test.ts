// Base chains on devices, against the real kernel: a netdev chain on the egress hook, one
// on several devices, an inet ingress chain — made as nft lists them, converged in one
// pass, a changed device list made anew; a chain whose device is missing or on a hook its
// family lacks is refused before anything is sent.
import { describe, expect, test } from "bun:test"
import { createNftSource, NftDesiredSchema, type NftOwnership } from "@linx/source-netfilter"
import * as v from "valibot"
import { freshNetns } from "./netns.ts"

const own: NftOwnership = {
  tables: [
    { family: "netdev", name: "edge" },
    { family: "inet", name: "early" },
  ],
}

const desired = (devices: string[]) => ({
  tables: [
    {
      family: "netdev",
      name: "edge",
      chains: [
        { name: "out", type: "filter", hook: "egress", device: "v0", priority: 0, rules: ["ip daddr 10.9.9.9 drop"] },
        { name: "in", type: "filter", hook: "ingress", devices, priority: "filter", rules: [{ counter: true }] },
      ],
    },
    {
      family: "inet",
      name: "early",
      chains: [{ name: "in", type: "filter", hook: "ingress", device: "v1", priority: -150, rules: [] }],
    },
  ],
})

describe("chains on devices", () => {
  test("egress, several devices and inet ingress: made as nft lists them, one pass, a device list change made anew", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    t.sh("ip", "link", "add", "v2", "type", "veth", "peer", "name", "v3")
    const s = createNftSource({ netns: t.ns })
    try {
      const pass = async (d: unknown) => {
        const want = v.parse(NftDesiredSchema, d)
        const seen = await s.observe({ desired: want, ownership: own })
        const ops = s.diff(want, seen, own)
        const r = await s.reconcile(ops, seen)
        expect(r.failed.map((f) => f.error.message)).toEqual([])
        const again = await s.observe({ desired: want, ownership: own })
        expect(s.diff(want, again, own).map(s.describe)).toEqual([])
        return ops.map(s.describe)
      }
      await pass(desired(["v2", "v0"]))
      const listed = t.sh("nft", "list", "ruleset")
      expect(listed).toContain('type filter hook egress device "v0" priority filter; policy accept;')
      expect(listed).toContain("type filter hook ingress devices = { v0, v2 } priority filter; policy accept;")
      expect(listed).toContain("table inet early {")
      expect(listed).toContain('type filter hook ingress device "v1" priority mangle; policy accept;')
      // one device more: the chain is made anew (the kernel cannot change a hook's devices in place here)
      const ops = await pass(desired(["v0", "v2", "v3"]))
      expect(ops.join("\n")).toContain('devices = { "v0", "v2", "v3" }')
      expect(t.sh("nft", "list", "chain", "netdev", "edge", "in")).toContain("devices = { v0, v2, v3 }")
    } finally {
      await s.close()
    }
  })

  test("refused before anything is sent: no device, a hook the family lacks, a device off an ingress chain", () => {
    const bad = (table: unknown) => {
      const r = v.safeParse(NftDesiredSchema, { tables: [table] })
      expect(r.success).toBe(false)
      return r.issues!.map((i) => i.message).join("; ")
    }
    const chain = (c: object) => ({ name: "c", type: "filter", priority: 0, ...c })
    expect(bad({ family: "netdev", name: "t", chains: [chain({ hook: "ingress" })] })).toContain("names its device")
    expect(bad({ family: "ip", name: "t", chains: [chain({ hook: "egress", device: "v0" })] })).toContain("egress")
    expect(bad({ family: "ip", name: "t", chains: [chain({ hook: "ingress", device: "v0" })] })).toContain(
      "netdev or inet",
    )
    expect(bad({ family: "inet", name: "t", chains: [chain({ hook: "input", device: "v0" })] })).toContain(
      "only ingress and egress chains are on devices",
    )
    expect(bad({ family: "netdev", name: "t", chains: [chain({ hook: "ingress", devices: ["a", "a"] })] })).toContain(
      "listed twice",
    )
    expect(
      bad({ family: "netdev", name: "t", chains: [chain({ hook: "ingress", device: "a", devices: ["b"] })] }),
    ).toContain("not both")
  })
})
