// The netfilter source on an in-memory nf_tables: diff, transactions, ownership.
import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { type NftDesired, NftDesiredSchema } from "./schema.ts"
import { createNftSource, partsOfInterest } from "./source.ts"
import { FakeNftKernel } from "./testing/fake.ts"
import { hookNameOf, hookNumber, priorityNumber } from "./wire/constants.ts"

const FIREWALL = {
  tables: [
    {
      family: "inet",
      name: "edge",
      chains: [
        {
          name: "input",
          type: "filter",
          hook: "input",
          priority: 0,
          policy: "drop",
          rules: [
            { match: { ct: { state: ["established", "related"] } }, verdict: "accept" },
            { match: { ip: { saddr: "10.0.0.0/8" }, tcp: { dport: 22 } }, verdict: "accept", comment: "ssh" },
          ],
        },
      ],
    },
  ],
}
const OWN = { tables: [{ family: "inet" as const, name: "edge" }] }
const parse = (x: unknown): NftDesired => v.parse(NftDesiredSchema, x)

/** One pass, as the loop runs it: observe, diff, reconcile with that observation. */
async function pass(source: ReturnType<typeof createNftSource>, d: NftDesired) {
  const observed = await source.observe({ desired: d, ownership: OWN })
  return source.reconcile(source.diff(d, observed, OWN), observed)
}

async function setup() {
  const kernel = new FakeNftKernel()
  const source = createNftSource({ kernel })
  const d = parse(FIREWALL)
  const report = await pass(source, d)
  return { kernel, source, d, report }
}

describe("netfilter source on a fake nf_tables", () => {
  test("one transaction creates table, chain and rules; then nothing to do", async () => {
    const { kernel, source, d, report } = await setup()
    expect(report.failed).toEqual([])
    expect(kernel.transactions).toEqual([["create table", "create chain", "replace rules"]])
    expect(source.diff(d, await source.observe(), OWN)).toEqual([])
  })

  test("a flushed chain is rewritten; a comment change alone is not a change", async () => {
    const { kernel, source, d } = await setup()
    kernel.flushChain("inet", "edge", "input")
    const seen = await source.observe()
    const ops = source.diff(d, seen, OWN)
    expect(ops.map((o) => source.describe(o))).toEqual([
      'nft add rule inet edge input ct state established,related accept; nft add rule inet edge input ip saddr 10.0.0.0/8 tcp dport 22 accept comment "ssh"',
    ])
    await source.reconcile(ops, seen)
    const renamed = parse({
      tables: [
        {
          ...FIREWALL.tables[0],
          chains: [
            {
              ...FIREWALL.tables[0]!.chains[0],
              rules: [
                FIREWALL.tables[0]!.chains[0]!.rules[0],
                { ...FIREWALL.tables[0]!.chains[0]!.rules[1], comment: "another" },
              ],
            },
          ],
        },
      ],
    })
    expect(source.diff(renamed, await source.observe(), OWN)).toEqual([])
  })

  test("policy changes in place; a hook change recreates the chain", async () => {
    const { source } = await setup()
    const chain = FIREWALL.tables[0]!.chains[0]!
    const policy = parse({ tables: [{ ...FIREWALL.tables[0], chains: [{ ...chain, policy: "accept" }] }] })
    expect((await source.diff(policy, await source.observe(), OWN)).map((o) => source.describe(o))).toEqual([
      "nft add chain inet edge input { type filter hook input priority 0; policy accept; }  # policy",
    ])
    const hook = parse({ tables: [{ ...FIREWALL.tables[0], chains: [{ ...chain, hook: "forward" }] }] })
    expect((await source.diff(hook, await source.observe(), OWN)).map((o) => o.kind)).toEqual([
      "delete",
      "create",
      "replace",
    ])
  })

  test("a foreign table is never touched; a desired one that is not owned is a conflict", async () => {
    const { kernel, source, d } = await setup()
    kernel.addForeignTable("inet", "theirs")
    expect(source.diff(d, await source.observe(), OWN)).toEqual([])
    const want = parse({ tables: [...FIREWALL.tables, { family: "inet", name: "theirs", chains: [] }] })
    expect(source.diff(want, await source.observe(), OWN).map((o) => source.describe(o))).toEqual([
      "# conflict: table inet theirs exists but is not owned by this loop (list it in ownership.tables, or set ownership.adopt)",
    ])
    // removing everything deletes only the owned table
    await pass(source, parse({}))
    expect(kernel.tables.map((t) => t.name)).toEqual(["theirs"])
  })

  test("a stale generation fails the whole transaction; check() commits nothing", async () => {
    const { kernel, source, d } = await setup()
    kernel.flushChain("inet", "edge", "input")
    const seen = await source.observe()
    const ops = source.diff(d, seen, OWN)
    kernel.addForeignTable("ip", "late") // between observe and apply
    const r = await source.reconcile(ops, seen)
    expect(r.applied).toEqual([])
    expect(r.failed.map((f) => (f.error as { code?: string }).code)).toEqual(["ERESTART"])
    const again = await source.observe()
    const checked = await source.check(source.diff(d, again, OWN), again)
    expect(checked.failed).toEqual([])
    expect(kernel.tables.find((t) => t.name === "edge")!.chains![0]!.rules).toEqual([])
  })

  test("set elements diff per element: a one-element change is one op with one element", async () => {
    const kernel = new FakeNftKernel()
    const source = createNftSource({ kernel })
    const elements = Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`)
    const withSet = (els: string[]) =>
      parse({
        tables: [
          {
            family: "inet",
            name: "edge",
            sets: [{ name: "blocked", type: "ipv4_addr", elements: els }],
            chains: [{ name: "c", rules: [{ match: { ip: { saddr: "@blocked" } }, verdict: "drop" }] }],
          },
        ],
      })
    await pass(source, withSet(elements))
    expect(source.diff(withSet(elements), await source.observe(), OWN)).toEqual([])
    const changed = [...elements.slice(1), "192.0.2.7"]
    const seen = await source.observe()
    const ops = source.diff(withSet(changed), seen, OWN)
    expect(ops.map((o) => source.describe(o))).toEqual([
      "nft add element inet edge blocked { 192.0.2.7 }; nft delete element inet edge blocked { 10.0.0.0 }",
    ])
    await source.reconcile(ops, seen)
    expect(source.diff(withSet(changed), await source.observe(), OWN)).toEqual([])
  })

  test("a foreign rule inserted into an owned chain is removed: flush and rewrite in one transaction", async () => {
    const { kernel, source, d } = await setup()
    kernel.insertRule("inet", "edge", "input", [{ type: "immediate", verdict: "accept" }] as never)
    const seen = await source.observe({ desired: d, ownership: OWN })
    const ops = source.diff(d, seen, OWN)
    expect(ops.map((o) => source.describe(o))[0]).toStartWith("nft flush chain inet edge input; nft add rule")
    expect((await source.reconcile(ops, seen)).failed).toEqual([])
    expect(kernel.tables[0]!.chains![0]!.rules.length).toBe(2)
    expect(source.diff(d, await source.observe({ desired: d, ownership: OWN }), OWN)).toEqual([])
  })

  test("events from the kernel scope the next look to the table they touched", async () => {
    const { kernel, source, d } = await setup()
    kernel.addForeignTable("ip", "theirs")
    const hints: unknown[] = []
    using _sub = source.subscribe((h) => hints.push(h))
    kernel.flushChain("inet", "edge", "input")
    await Bun.sleep(0)
    expect(hints).toEqual([{ scope: [{ kind: "table", key: "inet edge" }] }])
    const scoped = await source.observe({ desired: d, ownership: OWN, scope: [{ kind: "table", key: "inet edge" }] })
    expect([...scoped.scope!]).toEqual(["inet edge"])
    expect(scoped.tables.find((t) => t.name === "theirs")?.chains).toBeUndefined()
    expect(source.diff(d, scoped, OWN).map((o) => o.kind)).toEqual(["replace"])
  })
})

describe("what nft refuses is refused here too (issue 13)", () => {
  const issuesOf = (tables: unknown) => {
    const r = v.safeParse(NftDesiredSchema, { tables })
    return r.success ? [] : r.issues.map((i) => i.message)
  }
  const chain = (rules: unknown[]) => [
    { name: "c", type: "nat", hook: "prerouting", priority: -100, policy: "accept", rules },
  ]

  test("an ip6 match in an ip table, an ip match in an ip6 table", () => {
    expect(
      issuesOf([
        { family: "ip", name: "t", chains: chain([{ match: { ip6: { saddr: "fd00::/8" } }, verdict: "accept" }]) },
      ]),
    ).toEqual(["chain c rule 0: an ip6 match in an ip table never matches (use an inet or ip6 table)"])
    expect(
      issuesOf([
        { family: "ip6", name: "t", chains: chain([{ match: { ip: { saddr: "10.0.0.0/8" } }, verdict: "accept" }]) },
      ]),
    ).toEqual(["chain c rule 0: an ip match in an ip6 table never matches (use an inet or ip table)"])
    expect(
      issuesOf([
        { family: "inet", name: "t", chains: chain([{ match: { ip6: { saddr: "fd00::/8" } }, verdict: "accept" }]) },
      ]),
    ).toEqual([])
  })

  test("a dnat to address:port needs a tcp or udp match", () => {
    expect(issuesOf([{ family: "ip", name: "t", chains: chain([{ verdict: { dnat: "10.0.0.2:8080" } }]) }])).toEqual([
      "chain c rule 0: 10.0.0.2:8080 names a port, so the rule needs a tcp or udp match (nft refuses it otherwise)",
    ])
    expect(
      issuesOf([
        {
          family: "ip",
          name: "t",
          chains: chain([{ match: { tcp: { dport: 80 } }, verdict: { dnat: "10.0.0.2:8080" } }]),
        },
      ]),
    ).toEqual([])
    expect(issuesOf([{ family: "ip", name: "t", chains: chain([{ verdict: { dnat: "10.0.0.2" } }]) }])).toEqual([])
  })
})

describe("hooks by family", () => {
  test("an arp table's hooks are its own (input is NF_ARP_IN 0); other hooks are refused", () => {
    const arp = (hook: string) =>
      v.safeParse(NftDesiredSchema, {
        tables: [{ family: "arp", name: "a", chains: [{ name: "c", type: "filter", hook, priority: 0 }] }],
      })
    expect(arp("input").success).toBe(true)
    const bad = arp("prerouting")
    expect(bad.success).toBe(false)
    expect(bad.issues?.[0]?.message).toContain("an arp table's hooks are input, output and forward")
    expect(hookNumber("arp", "input")).toBe(0)
    expect(hookNumber("inet", "input")).toBe(1)
    expect(hookNameOf("arp", 1)).toBe("output")
  })
})

describe("priorities and maps as nft writes them", () => {
  test("a priority by name is nft's number, per family; a name nft keeps for another hook is refused", () => {
    expect(priorityNumber("ip", "dstnat - 10", "prerouting")).toBe(-110)
    expect(priorityNumber("inet", "filter + 10", "input")).toBe(10)
    expect(priorityNumber("bridge", "filter", "forward")).toBe(-200)
    expect(priorityNumber("ip", "srcnat", "postrouting")).toBe(100)
    expect(priorityNumber("ip", "dstnat", "output")).toContain("prerouting hook only")
    expect(priorityNumber("netdev", "mangle", "ingress")).toContain("a number or one of filter")
    const parsed = v.parse(NftDesiredSchema, {
      tables: [
        { family: "ip", name: "t", chains: [{ name: "c", type: "nat", hook: "prerouting", priority: "dstnat - 10" }] },
      ],
    })
    expect(parsed.tables[0]!.chains[0]!.priority).toBe(-110)
  })

  test("a verdict map with a concatenated key takes protocol names", () => {
    const parsed = v.safeParse(NftDesiredSchema, {
      tables: [
        {
          family: "ip",
          name: "t",
          sets: [
            {
              name: "svc",
              type: "ipv4_addr . inet_proto . inet_service",
              map: "verdict",
              elements: { "10.96.0.1 . tcp . 80": "goto c", "10.96.0.1 . 17 . 53": "accept" },
            },
          ],
          chains: [{ name: "c" }],
        },
      ],
    })
    expect(parsed.issues?.map((i) => i.message)).toBeUndefined()
    const bad = v.safeParse(NftDesiredSchema, {
      tables: [
        {
          family: "ip",
          name: "t",
          sets: [{ name: "m", type: "ipv4_addr . inet_proto", map: "verdict", elements: { "10.0.0.1 . tpc": "drop" } }],
        },
      ],
    })
    expect(bad.issues?.[0]?.message).toContain("is not a protocol")
  })
})

describe("element events narrow a look to their elements", () => {
  const map = {
    name: "svc",
    type: "ipv4_addr",
    map: "verdict",
    elements: { "10.0.0.1": "accept", "10.0.0.2": "drop", "10.0.0.3": "accept" },
  }
  const desired = v.parse(NftDesiredSchema, { tables: [{ family: "inet", name: "t", sets: [map] }] })
  const where = { desired, ownership: { tables: [{ family: "inet" as const, name: "t" }] } }

  test("scope entries for one set merge: elements union, and one entry without elements means the whole set", () => {
    const set = (elements?: string[]) => ({
      kind: "set" as const,
      key: "inet t svc",
      ...(elements ? { elements } : {}),
    })
    const some = partsOfInterest({ ...where, scope: [set(["0a000001"]), set(["0a000002"])] })!.get("inet t")!
    expect([...some.elements!.get("svc")!].sort()).toEqual(["0a000001", "0a000002"])
    const whole = partsOfInterest({ ...where, scope: [set(["0a000001"]), set()] })!.get("inet t")!
    expect(whole.elements).toBeUndefined()
    expect([...whole.sets]).toEqual(["svc"])
  })

  test("a look at some elements diffs only those: the missing one added, a wrong one replaced, the rest unseen", async () => {
    const s = createNftSource({ kernel: new FakeNftKernel() })
    const seen = await s.observe(where)
    await s.reconcile(s.diff(desired, seen, where.ownership), seen)
    const narrowed = await s.observe(where)
    const t = narrowed.tables[0]!
    // what an element-scoped look returns: 10.0.0.1 gone, 10.0.0.2 with another verdict; 10.0.0.3 not looked at
    t.sets = [{ ...t.sets![0]!, elements: ["0a000002=v:accept"], lookedAt: new Set(["0a000001", "0a000002"]) }]
    t.chains = []
    t.narrowed = { chains: new Set(), sets: new Set(["svc"]) }
    const ops = s.diff(desired, narrowed, where.ownership)
    expect(ops).toEqual([
      {
        kind: "update",
        object: "elements",
        set: "svc",
        type: "ipv4_addr",
        mapType: "verdict",
        add: ["0a000001=v:accept", "0a000002=v:drop"],
        remove: ["0a000002=v:accept"],
        family: "inet",
        table: "t",
      },
    ])
  })
})
