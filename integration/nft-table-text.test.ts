// A whole table written as nft text (what a user has in /etc/nftables.conf), against the
// real kernel in fresh namespaces: applied in one pass, the kernel holds what `nft -f`
// makes of the same file, nft lists both alike, drift is healed, and bad text is refused
// with nft's own words and the line it is on.
import { describe, expect, test } from "bun:test"
import { createReconciler } from "@linx/reconcile"
import { createNftSource, NftDesiredSchema, type NftOwnership } from "@linx/source-netfilter"
import * as v from "valibot"
import { freshNetns, type TestNetns } from "./netns.ts"

const BODY = `
  set allowed {
    type ipv4_addr
    flags interval
    elements = { 10.1.0.0/16, 192.168.7.1-192.168.7.9 }
  }
  map svc {
    type ipv4_addr . inet_proto . inet_service : verdict
    elements = { 10.96.0.1 . tcp . 443 : jump svc-a }
  }
  set blocked {
    typeof ip saddr
    size 65535
    flags dynamic,timeout
    timeout 1m
  }
  set macs {
    type ether_addr
    elements = { 02:00:00:00:00:01 }
  }
  counter hits {
  }
  quota q {
    over 10 mbytes
  }
  limit spare-l {
    rate 10/second
  }
  ct helper ftp {
    type "ftp" protocol tcp
    l3proto inet
  }
  set seen {
    type ipv4_addr
    flags timeout
    timeout 1h
    elements = { 10.0.0.1 timeout 30m comment "first", 10.0.0.2 comment "second", 10.0.0.3 }
  }
  set hits {
    type ipv4_addr
    size 1024
    counter
    elements = { 10.0.0.9 }
  }
  map verdicts {
    type ipv4_addr : verdict
    elements = { 10.0.0.7 comment "seven" : accept, 10.0.0.8 : drop }
  }
  set ranges {
    type ipv4_addr . inet_service
    flags interval
    elements = { 10.0.0.0/24 . 80-90, 10.1.0.1 . 443 }
  }
  set spare {
    type inet_service
    elements = { 9000 }
  }
  chain svc-a {
    meta mark set mark or 0x4000
    ip daddr 10.96.0.1 tcp dport 443 dnat to 10.0.0.5:8443 comment "api"
  }
  chain input {
    type filter hook input priority filter; policy drop;
    ct state established,related accept
    iif lo accept
    ip saddr @blocked drop
    tcp flags syn limit rate over 100/second add @blocked { ip saddr } drop
    ip saddr @allowed tcp dport { 22, 80, 443 } counter accept
    ether saddr @macs accept
    icmp type echo-request limit rate 10/second accept
    counter name "hits"
    quota name "q" drop
    tcp dport 21 ct helper set "ftp"
  }
  chain pre {
    type nat hook prerouting priority dstnat - 10;
    ip daddr . meta l4proto . th dport vmap @svc
  }
`

const own: NftOwnership = { tables: [{ family: "inet", name: "edge" }] }

/** `nft list table` without its name line, its objects, sets and chains in name order (nft lists them by handle) */
const listing = (t: TestNetns, name: string) =>
  t
    .sh("nft", "list", "table", "inet", name)
    .split("\n")
    .slice(1, -2)
    .join("\n")
    .replace(/packets \d+ bytes \d+/g, "packets 0 bytes 0")
    .replace(/used \d+ bytes/g, "used 0 bytes")
    .replace(/ expires \S+/g, "")
    // elements in name order (a concatenated interval set lists them as they were added)
    .replace(
      /elements = \{([^}]*)\}/g,
      (_m, els: string) =>
        `elements = { ${els
          .split(",")
          .map((e) => e.trim())
          .sort()
          .join(", ")} }`,
    )
    .split("\n\n")
    .sort()
    .join("\n\n")

describe("a table written whole as nft text", () => {
  test("one pass: the kernel holds what nft -f makes of the same text, listed alike; a second pass has nothing to do", async () => {
    using t = freshNetns()
    t.nftFile(`table inet ref {${BODY}}\n`)
    const d = v.parse(NftDesiredSchema, { tables: [{ family: "inet", name: "edge", nft: BODY }] })
    const s = createNftSource({ netns: t.ns })
    try {
      const seen = await s.observe({ desired: d, ownership: own })
      const ops = s.diff(d, seen, own)
      const report = await s.reconcile(ops, seen)
      expect(report.failed.map((f) => f.error.message)).toEqual([])
      const again = await s.observe({ desired: d, ownership: own })
      expect(s.diff(d, again, own).map(s.describe)).toEqual([])
      expect(listing(t, "edge")).toBe(listing(t, "ref"))
      // rule by rule, the same bytes as nft's own table
      const both = await s.observe({
        desired: d,
        ownership: { tables: [...own.tables, { family: "inet", name: "ref" }] },
      })
      const rules = (name: string) =>
        both.tables.find((x) => x.name === name)!.chains!.flatMap((c) => c.rules.map((r) => `${c.name}: ${r.bytesKey}`))
      expect(rules("edge")).toEqual(rules("ref"))
      expect(rules("edge").length).toBe(13)
      // serialised as the text it came from
      expect(JSON.parse(JSON.stringify(d)).tables[0].nft).toBe(BODY)
    } finally {
      await s.close()
    }
  })

  test("a loop heals a flushed chain, a deleted element and a deleted set; elements the packet path added stay", async () => {
    using t = freshNetns()
    const desired = v.parse(NftDesiredSchema, { tables: [{ family: "inet", name: "edge", nft: BODY }] })
    const loop = createReconciler({ source: createNftSource({ netns: t.ns }), desired, ownership: own })
    try {
      expect((await loop.start()).converged).toBe(true)
      const before = listing(t, "edge")
      // what `add @blocked { ip saddr }` would do from the packet path
      t.sh("nft", "add", "element", "inet", "edge", "blocked", "{ 203.0.113.9 }")
      t.sh("nft", "flush", "chain", "inet", "edge", "input")
      t.sh("nft", "delete", "element", "inet", "edge", "allowed", "{ 10.1.0.0/16 }")
      t.sh("nft", "delete", "element", "inet", "edge", "macs", "{ 02:00:00:00:00:01 }")
      t.sh("nft", "delete", "set", "inet", "edge", "spare")
      t.sh("nft", "delete", "element", "inet", "edge", "seen", "{ 10.0.0.1 }")
      t.sh("nft", "delete", "element", "inet", "edge", "verdicts", "{ 10.0.0.7 }")
      t.sh("nft", "delete", "element", "inet", "edge", "ranges", "{ 10.0.0.0/24 . 80-90 }")
      // the same element with another comment is not the desired one
      t.sh("nft", "delete", "element", "inet", "edge", "seen", "{ 10.0.0.2 }")
      t.sh("nft", "add", "element", "inet", "edge", "seen", '{ 10.0.0.2 comment "forged" }')
      t.sh("nft", "delete", "limit", "inet", "edge", "spare-l")
      t.sh("nft", "add", "counter", "inet", "edge", "extra")
      const without = () => listing(t, "edge").replace(/\n\s*elements = \{ 203\.0\.113\.9[^}]*\}/, "")
      for (let i = 0; i < 200 && without() !== before; i++) await Bun.sleep(5)
      expect(without()).toBe(before)
      expect(listing(t, "edge")).toContain("203.0.113.9")
    } finally {
      await loop.stop()
    }
  })

  test("a changed object (quota 10 → 20 mbytes) is made anew with the rules that name it, in one pass", async () => {
    using t = freshNetns()
    const loop = createReconciler({
      source: createNftSource({ netns: t.ns }),
      desired: v.parse(NftDesiredSchema, { tables: [{ family: "inet", name: "edge", nft: BODY }] }),
      ownership: own,
    })
    try {
      await loop.start()
      const next = BODY.replace("over 10 mbytes", "over 20 mbytes")
      const pass = await loop.setDesired({ tables: [{ family: "inet", name: "edge", nft: next }] })
      expect(pass.failed).toEqual([])
      expect(pass.applied.some((op) => op.includes("nft delete quota inet edge q"))).toBe(true)
      expect(pass.applied.some((op) => op.includes("nft add quota inet edge q { over 20 mbytes"))).toBe(true)
      t.nftFile(`table inet ref {${next}}\n`)
      expect(listing(t, "edge")).toBe(listing(t, "ref"))
    } finally {
      await loop.stop()
    }
  })

  test("a set whose size changed (nothing else) is made anew with the rules that use it, in one pass", async () => {
    using t = freshNetns()
    const loop = createReconciler({
      source: createNftSource({ netns: t.ns }),
      desired: v.parse(NftDesiredSchema, { tables: [{ family: "inet", name: "edge", nft: BODY }] }),
      ownership: own,
    })
    try {
      await loop.start()
      const next = BODY.replace("size 65535", "size 1024")
      const pass = await loop.setDesired({ tables: [{ family: "inet", name: "edge", nft: next }] })
      expect(pass.failed).toEqual([])
      expect(pass.applied.some((op) => op.includes("nft delete set inet edge blocked"))).toBe(true)
      expect(t.sh("nft", "list", "set", "inet", "edge", "blocked")).toContain("size 1024")
      t.nftFile(`table inet ref {${next}}\n`)
      expect(listing(t, "edge")).toBe(listing(t, "ref"))
    } finally {
      await loop.stop()
    }
  })

  test("the common form's per-element timeout and comment: the kernel holds what nft makes of the same elements", async () => {
    using t = freshNetns()
    const text = `set seen {
    type ipv4_addr
    flags timeout
    timeout 1h
    elements = { 10.0.0.1 timeout 30m comment "first", 10.0.0.2 comment "second", 10.0.0.3 }
  }`
    t.nftFile(`table inet ref {\n  ${text}\n}\n`)
    const seen = {
      name: "seen",
      type: "ipv4_addr",
      flags: ["timeout"],
      timeout: "1h",
      elements: [
        { key: "10.0.0.1", timeout: "30m", comment: "first" },
        { key: "10.0.0.2", comment: "second" },
        "10.0.0.3",
      ],
    }
    const d = v.parse(NftDesiredSchema, { tables: [{ family: "inet", name: "edge", sets: [seen] }] })
    const s = createNftSource({ netns: t.ns })
    try {
      const before = await s.observe({ desired: d, ownership: own })
      expect((await s.reconcile(s.diff(d, before, own), before)).failed).toEqual([])
      const after = await s.observe({ desired: d, ownership: own })
      expect(s.diff(d, after, own).map(s.describe)).toEqual([])
      expect(listing(t, "edge")).toBe(listing(t, "ref"))
      // a comment changed by hand is not the desired element: put back
      t.sh("nft", "delete", "element", "inet", "edge", "seen", "{ 10.0.0.2 }")
      t.sh("nft", "add", "element", "inet", "edge", "seen", '{ 10.0.0.2 comment "other" }')
      const drift = await s.observe({ desired: d, ownership: own })
      const ops = s.diff(d, drift, own)
      expect(ops.length).toBe(1)
      expect((await s.reconcile(ops, drift)).failed).toEqual([])
      expect(listing(t, "edge")).toBe(listing(t, "ref"))
      // refused: a timeout on an element of a set without the timeout flag, attributes on interval elements
      const bad = (set: object) =>
        v.safeParse(NftDesiredSchema, { tables: [{ family: "inet", name: "x", sets: [set] }] })
      expect(bad({ ...seen, flags: [], timeout: undefined }).success).toBe(false)
      expect(
        bad({ name: "r", type: "ipv4_addr", flags: ["interval"], elements: [{ key: "10.0.0.0/8", comment: "c" }] })
          .success,
      ).toBe(false)
    } finally {
      await s.close()
    }
  })

  test("bad text is refused with nft's message and its line; nothing is applied", async () => {
    const bad = "chain input {\n  type filter hook input priority 0;\n  tcp dport 22 acept\n}"
    const r = v.safeParse(NftDesiredSchema, { tables: [{ family: "inet", name: "edge", nft: bad }] })
    expect(r.success).toBe(false)
    const msg = r.issues![0]!.message
    expect(v.getDotPath(r.issues![0]!)).toBe("tables.0.nft")
    expect(msg).toMatch(/^nft, line 3:\d+: syntax error/)
    expect(msg).toContain("tcp dport 22 acept")
    for (const [text, why] of [
      ["} table ip other { chain c { } ", "closes more braces"],
      ['include "/etc/passwd"', "cannot include"],
      ["chain c {", "brace or a quote open"],
      ["flowtable ft { hook ingress priority 0; }", "line 1"],
    ] as const) {
      const x = v.safeParse(NftDesiredSchema, { tables: [{ family: "inet", name: "edge", nft: text }] })
      expect(x.success).toBe(false)
      expect(x.issues![0]!.message).toContain(why)
    }
    // chains and nft text together: one or the other
    const both = v.safeParse(NftDesiredSchema, { tables: [{ family: "inet", name: "edge", nft: "", chains: [] }] })
    expect(both.success).toBe(false)
  })
})
