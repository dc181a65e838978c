// Rules written as nft text, against the real kernel in fresh namespaces: each family's
// rules are applied by a loop and, beside them, by nft itself into a reference table;
// the kernel must hold the same bytes for both (compared rule by rule) and nft must list
// both the same. Then drift is healed, and bad text is refused with nft's own words.
import { describe, expect, test } from "bun:test"
import { createReconciler } from "@linx/reconcile"
import { createNftSource, type NftDesired, NftDesiredSchema, type NftOwnership } from "@linx/source-netfilter"
import * as v from "valibot"
import { freshNetns, type TestNetns } from "./netns.ts"

type Chain = { name: string; type?: string; hook?: string; priority?: number; device?: string; rules: string[] }

const CASES: { family: string; sets?: string; setSpecs?: unknown[]; chains: Chain[]; link?: string }[] = [
  {
    family: "inet",
    setSpecs: [{ name: "allow", type: "ipv4_addr", flags: ["interval"], elements: ["10.1.0.0/16"] }],
    sets: "add set inet ref allow { type ipv4_addr; flags interval; }",
    chains: [
      { name: "svc-a", rules: ["meta mark set mark or 0x4000", "ip daddr 10.0.0.1 tcp dport 80 accept"] },
      { name: "svc-b", rules: ["counter"] },
      {
        name: "in",
        type: "filter",
        hook: "input",
        priority: 0,
        rules: [
          "ct state established,related accept",
          "ip saddr != 10.0.0.0/8 tcp dport { 22, 80 } ct mark set 0x5 counter accept",
          'tcp dport 1000-2000 log prefix "a;b c" level info limit rate 10/second burst 20 packets accept',
          "quota 10 mbytes",
          "ip daddr . tcp dport { 10.0.0.1 . 80, 10.0.0.2 . 443 } accept",
          "numgen random mod 2 vmap { 0 : jump svc-a, 1 : jump svc-b }",
          "tcp flags & (syn | ack) == syn counter",
          "ip6 nexthdr icmpv6 icmpv6 type { echo-request, nd-neighbor-solicit } accept",
          "th dport 53 accept",
          'ip saddr @allow accept comment "from allow"',
          'iifname "eth*" tcp dport { 80, 8000-8080 } drop',
          "meta l4proto udp udp dport != 53 reject",
          "fib daddr type local tcp dport 8080 accept",
        ],
      },
      {
        name: "post",
        type: "nat",
        hook: "postrouting",
        priority: 100,
        rules: [
          'oifname "eth0" masquerade fully-random',
          "ip daddr 1.2.3.4 tcp dport 80 snat ip to 10.0.0.1:1000-2000",
        ],
      },
    ],
  },
  {
    family: "ip",
    chains: [
      {
        name: "fw",
        type: "filter",
        hook: "forward",
        priority: -10,
        rules: [
          "ip protocol icmp icmp type echo-request limit rate 5/second accept",
          "meta l4proto udp udp dport 53 ct state new accept",
          "ct mark 0x1 drop",
          "ip ttl < 5 drop",
          "reject with icmp type host-prohibited",
          "tcp dport 25 reject with tcp reset",
        ],
      },
    ],
  },
  {
    family: "ip6",
    chains: [
      {
        name: "in",
        type: "filter",
        hook: "input",
        priority: 0,
        rules: [
          "ip6 saddr fd00::/8 tcp dport != 22 drop",
          "icmpv6 type { nd-neighbor-solicit, nd-router-advert } accept",
          "ip6 hoplimit 255 accept",
        ],
      },
    ],
  },
  {
    family: "bridge",
    chains: [
      {
        name: "fw",
        type: "filter",
        hook: "forward",
        priority: 0,
        rules: ["ether type ip ip saddr 10.0.0.1 drop", "ether saddr 02:00:00:00:00:01 counter drop"],
      },
    ],
  },
  {
    // the device exists only here: in the scratch namespace the rules compile in a regular chain
    family: "netdev",
    link: "nd0",
    chains: [
      {
        name: "ingress",
        type: "filter",
        hook: "ingress",
        device: "nd0",
        priority: 0,
        rules: ["ip saddr 10.0.0.1 drop", "ether type arp accept", "ip6 daddr ff02::1 counter"],
      },
    ],
  },
  {
    family: "arp",
    chains: [
      { name: "in", type: "filter", hook: "input", priority: 0, rules: ["arp operation request counter accept"] },
    ],
  },
]

function desired(c: (typeof CASES)[number]): unknown {
  return { tables: [{ family: c.family, name: "lx", sets: c.setSpecs ?? [], chains: c.chains }] }
}

/** The same table made by nft from the same text. */
function nftScript(c: (typeof CASES)[number]): string {
  const lines = [`add table ${c.family} ref`]
  if (c.sets) lines.push(c.sets, "add element inet ref allow { 10.1.0.0/16 }")
  for (const ch of c.chains) {
    const dev = ch.device ? ` device "${ch.device}"` : ""
    const base = ch.hook ? ` { type ${ch.type} hook ${ch.hook}${dev} priority ${ch.priority}; }` : ""
    lines.push(`add chain ${c.family} ref ${ch.name}${base}`)
  }
  for (const ch of c.chains) for (const r of ch.rules) lines.push(`add rule ${c.family} ref ${ch.name} ${r}`)
  return `${lines.join("\n")}\n`
}

/** `nft list table` without the table's name line: what a person reads. */
const listing = (t: TestNetns, family: string, name: string) =>
  t
    .sh("nft", "list", "table", family, name)
    .split("\n")
    .slice(1)
    .join("\n")
    .replace(/packets \d+ bytes \d+/g, "packets 0 bytes 0")
    .replace(/used \d+ bytes/g, "used 0 bytes")

describe("rules written as nft text", () => {
  for (const c of CASES) {
    test(`${c.family}: one pass, the kernel holds what nft itself adds for the same text, and lists it the same`, async () => {
      using t = freshNetns()
      const own: NftOwnership = { tables: [{ family: c.family as "inet", name: "lx" }] }
      const d = v.parse(NftDesiredSchema, desired(c))
      const s = createNftSource({ netns: t.ns })
      try {
        if (c.link) t.sh("ip", "link", "add", c.link, "type", "veth", "peer", "name", `${c.link}p`)
        t.nftFile(nftScript(c))
        const seen = await s.observe({ desired: d, ownership: own })
        const report = await s.reconcile(s.diff(d, seen, own), seen)
        expect(report.failed.map((f) => f.error.message)).toEqual([])
        const again = await s.observe({ desired: d, ownership: own })
        expect(s.diff(d, again, own).map(s.describe)).toEqual([])
        // rule by rule: the bytes linx wrote, the bytes nft wrote, the bytes compiled from the text
        const all = await s.observe({
          desired: d,
          ownership: { tables: [...own.tables, { family: c.family as "inet", name: "ref" }] },
        })
        const table = (name: string) => all.tables.find((x) => x.family === c.family && x.name === name)!
        const want = d.tables[0]!
        for (const ch of want.chains) {
          const mine = table("lx").chains!.find((x) => x.name === ch.name)!.rules
          const ref = table("ref").chains!.find((x) => x.name === ch.name)!.rules
          expect(mine.length).toBe(ch.rules.length)
          ch.rules.forEach((r, i) => {
            const key = (r as { key: string }).key
            expect(ref[i]!.bytesKey).toBe(key)
            expect(mine[i]!.bytesKey).toBe(key)
          })
        }
        expect(listing(t, c.family, "lx")).toBe(listing(t, c.family, "ref"))
      } finally {
        await s.close()
      }
    })
  }

  test("a chain named like an nft keyword (nft itself cannot add a rule to it) still takes rule texts", async () => {
    using t = freshNetns()
    const d = v.parse(NftDesiredSchema, {
      tables: [
        {
          family: "ip",
          name: "lx",
          chains: [{ name: "fwd", type: "filter", hook: "forward", rules: ["ip ttl 1 drop"] }],
        },
      ],
    })
    const own: NftOwnership = { tables: [{ family: "ip", name: "lx" }] }
    const s = createNftSource({ netns: t.ns })
    try {
      const seen = await s.observe({ desired: d, ownership: own })
      expect((await s.reconcile(s.diff(d, seen, own), seen)).failed).toEqual([])
      expect(t.sh("nft", "list", "table", "ip", "lx")).toContain("ip ttl 1 drop")
      expect(t.try("nft", "add", "rule", "ip", "lx", "fwd", "accept").stderr).toContain("syntax error")
    } finally {
      await s.close()
    }
  })

  test("the same table text compiles once; a rule put before a text rule does not shift it", () => {
    const table = (rules: unknown[]) => ({ tables: [{ family: "inet", name: "lx", chains: [{ name: "c", rules }] }] })
    const a = v.parse(NftDesiredSchema, table(["tcp dport 22 accept"])).tables[0]!.chains[0]!.rules
    const b = v.parse(NftDesiredSchema, table(["tcp dport 22 accept"])).tables[0]!.chains[0]!.rules
    expect(b[0]).toBe(a[0]!) // the compiled rule itself, not a second nft run
    const c = v.parse(NftDesiredSchema, table([{ verdict: "drop" }, "tcp dport 22 accept"])).tables[0]!.chains[0]!.rules
    expect(c[0]).toEqual({ verdict: "drop" })
    expect(String((c[1] as { text: string }).text)).toBe("tcp dport 22 accept")
  })

  test("a loop heals a flushed chain, a deleted rule and a rule slipped in, and refuses bad text with nft's own message", async () => {
    using t = freshNetns()
    const c = CASES[0]!
    const d = v.parse(NftDesiredSchema, desired(c)) as NftDesired
    const own: NftOwnership = { tables: [{ family: "inet", name: "lx" }] }
    const loop = createReconciler({ source: createNftSource({ netns: t.ns }), desired: d, ownership: own })
    try {
      await loop.start()
      const before = listing(t, "inet", "lx")
      const healed = async (what: string) => {
        for (let i = 0; i < 200 && listing(t, "inet", "lx") !== before; i++) await Bun.sleep(5)
        expect(`${what}: ${listing(t, "inet", "lx")}`).toBe(`${what}: ${before}`)
      }
      t.sh("nft", "flush", "chain", "inet", "lx", "in")
      await healed("flushed")
      const handles = JSON.parse(t.sh("nft", "-j", "-a", "list", "chain", "inet", "lx", "in")).nftables.filter(
        (x: { rule?: unknown }) => x.rule,
      )
      t.sh("nft", "delete", "rule", "inet", "lx", "in", "handle", String(handles[5].rule.handle))
      await healed("deleted")
      t.sh("nft", "insert", "rule", "inet", "lx", "in", "tcp", "dport", "9", "accept")
      await healed("slipped in")

      // bad text: nft's message, the rule's path, a caret under the fault; the old state stays
      const bad = structuredClone(desired(c)) as { tables: { chains: { rules: string[] }[] }[] }
      bad.tables[0]!.chains[2]!.rules.push("ip saddr 1.2.3 accept")
      const err = await loop.setDesired(bad).catch((e: Error) => e)
      expect(err).toBeInstanceOf(Error)
      const msg = (err as Error).message
      expect(msg).toContain("tables.0.chains.2.rules.13")
      expect(msg).toContain("syntax error, unexpected accept")
      expect(msg).toContain("ip saddr 1.2.3 accept\n")
      expect(msg).toMatch(/\n\s+\^+/)
      const two = structuredClone(desired(c)) as { tables: { chains: { rules: string[] }[] }[] }
      two.tables[0]!.chains[2]!.rules.push("accept; flush ruleset")
      expect(String(await loop.setDesired(two).catch((e: Error) => e))).toContain("';' would start another nft command")
      expect(listing(t, "inet", "lx")).toBe(before)
    } finally {
      await loop.stop()
    }
  })

  test("anonymous sets read once per set: a rule replaced by one with another anonymous set is still told apart", async () => {
    using t = freshNetns()
    const d = v.parse(NftDesiredSchema, {
      tables: [{ family: "inet", name: "lx", chains: [{ name: "c", rules: ["tcp dport { 22, 80 } accept"] }] }],
    })
    const own: NftOwnership = { tables: [{ family: "inet", name: "lx" }] }
    const s = createNftSource({ netns: t.ns })
    try {
      const first = await s.observe({ desired: d, ownership: own })
      expect((await s.reconcile(s.diff(d, first, own), first)).failed).toEqual([])
      expect(s.diff(d, await s.observe({ desired: d, ownership: own }), own)).toEqual([]) // (elements remembered now)
      // someone swaps the rule for one whose bytes differ only in its anonymous set's contents
      t.sh("nft", "flush", "chain", "inet", "lx", "c")
      t.sh("nft", "add", "rule", "inet", "lx", "c", "tcp dport { 22, 443 } accept")
      const seen = await s.observe({ desired: d, ownership: own })
      const ops = s.diff(d, seen, own)
      expect(ops.map(s.describe)).toEqual([
        "nft flush chain inet lx c; nft add rule inet lx c tcp dport { 22, 80 } accept",
      ])
      expect((await s.reconcile(ops, seen)).failed).toEqual([])
      expect(t.sh("nft", "list", "chain", "inet", "lx", "c")).toContain("tcp dport { 22, 80 } accept")
      // the table made anew by someone else (handles start again): nothing stale is used
      t.sh("nft", "delete", "table", "inet", "lx")
      t.sh("nft", "add", "table", "inet", "lx")
      t.sh("nft", "add", "chain", "inet", "lx", "c")
      t.sh("nft", "add", "rule", "inet", "lx", "c", "tcp dport { 22, 8080 } accept")
      expect(s.diff(d, await s.observe({ desired: d, ownership: own }), own).length).toBe(1)
    } finally {
      await s.close()
    }
  })

  test("a big rewrite wakes one pass: the loop's own echo is not news, a foreign flush is one hint", async () => {
    using t = freshNetns()
    const rules = Array.from({ length: 3000 }, (_, i) =>
      i % 10
        ? `ip saddr 10.${i >> 8}.${i & 255}.1 tcp dport ${1000 + i} accept`
        : `tcp dport { 22, ${1000 + i} } accept`,
    )
    const d = v.parse(NftDesiredSchema, { tables: [{ family: "inet", name: "lx", chains: [{ name: "c", rules }] }] })
    const loop = createReconciler({
      source: createNftSource({ netns: t.ns }),
      desired: d,
      ownership: { tables: [{ family: "inet", name: "lx" }] },
      resyncMs: 600_000,
    })
    try {
      await loop.start()
      const passes: number[] = []
      loop.on("pass", (p) => passes.push(p.applied.length))
      await Bun.sleep(500) // ~2 MB of its own events: none of them a hint
      expect(passes).toEqual([])
      t.sh("nft", "flush", "chain", "inet", "lx", "c")
      for (let i = 0; i < 400 && passes.length === 0; i++) await Bun.sleep(5)
      await Bun.sleep(500)
      expect(passes).toEqual([1]) // one pass healed it, and nothing woke another
      expect(
        JSON.parse(t.sh("nft", "-j", "list", "chain", "inet", "lx", "c")).nftables.filter(
          (x: { rule?: unknown }) => x.rule,
        ).length,
      ).toBe(3000)
    } finally {
      await loop.stop()
    }
  })
})
