// @linx/source-netfilter against the real kernel, in fresh namespaces, cross-checked
// with `nft -j list ruleset` and `nft list ruleset`.
import { describe, expect, test } from "bun:test"
import { createReconciler } from "@linx/reconcile"
import {
  createNftSource,
  type NftDesired,
  NftDesiredSchema,
  type NftOwnership,
  type NftHint,
  type NftSource,
} from "@linx/source-netfilter"
import * as v from "valibot"
import { openNetlinkSocket } from "@linx/netlink"
import { type MessageWriter, nfnl, nl } from "@linx/netlink/wire"
import { decodeRuleWithLibnftnl } from "../packages/source-netfilter/src/testing/libnftnl-rule.ts"
import { decodeRuleMessage } from "../packages/source-netfilter/src/wire/rule.ts"
import { freshNetns, type TestNetns } from "./netns.ts"

const FIREWALL = {
  tables: [
    {
      family: "inet",
      name: "filter",
      sets: [{ name: "blocked", type: "ipv4_addr", flags: ["interval"], elements: ["10.66.0.0/16", "192.0.2.7"] }],
      chains: [
        {
          name: "input",
          type: "filter",
          hook: "input",
          priority: 0,
          policy: "drop",
          rules: [
            { match: { ct: { state: ["established", "related"] } }, verdict: "accept" },
            { match: { iifname: "lo" }, verdict: "accept" },
            { match: { ip: { saddr: "@blocked" } }, verdict: "drop" },
            { match: { ip: { saddr: "10.0.0.0/8" }, tcp: { dport: 22 } }, verdict: "accept", comment: "ssh" },
            { match: { tcp: { dport: [80, 443] } }, counter: true, verdict: "accept" },
            { match: { ip6: { saddr: "fd00::/64" } }, verdict: { jump: "trusted" } },
          ],
        },
        {
          name: "forward",
          type: "filter",
          hook: "forward",
          priority: 0,
          policy: "drop",
          rules: [{ match: { ct: { state: ["established", "related"] } }, verdict: "accept" }],
        },
        { name: "output", type: "filter", hook: "output", priority: 0, policy: "accept", rules: [] },
        {
          name: "trusted",
          rules: [{ match: { udp: { dport: "5000-5100" } }, verdict: "accept" }, { verdict: "return" }],
        },
      ],
    },
    {
      family: "ip",
      name: "nat",
      sets: [
        {
          name: "portfwd",
          type: "inet_service",
          map: "ipv4_addr",
          elements: { "8080": "10.0.0.2", "8443": "10.0.0.3" },
        },
      ],
      chains: [
        {
          name: "postrouting",
          type: "nat",
          hook: "postrouting",
          priority: 100,
          rules: [
            { match: { oifname: "uplink0" }, verdict: "masquerade" },
            { match: { oifname: "uplink1" }, verdict: { snat: "192.0.2.1" } },
          ],
        },
        {
          name: "prerouting",
          type: "nat",
          hook: "prerouting",
          priority: -100,
          rules: [
            { match: { tcp: { dport: 80 } }, verdict: { dnat: "10.0.0.2:8080" } },
            { verdict: { dnat: "@portfwd", key: "tcp dport" } },
          ],
        },
      ],
    },
  ],
}
const OWN = {
  tables: [
    { family: "inet" as const, name: "filter" },
    { family: "ip" as const, name: "nat" },
  ],
}
const parse = (x: unknown): NftDesired => v.parse(NftDesiredSchema, x)

async function converge(s: NftSource, d: NftDesired) {
  const seen = await s.observe({ desired: d, ownership: OWN })
  const ops = s.diff(d, seen, OWN)
  return { ops, report: await s.reconcile(ops, seen) }
}

/** One pass as the loop runs it: observe what `want` needs, diff, reconcile with that observation. */
async function pass(s: NftSource, d: NftDesired, own: NftOwnership) {
  const seen = await s.observe({ desired: d, ownership: own })
  return s.reconcile(s.diff(d, seen, own), seen)
}

function withNs(fn: (t: TestNetns, s: NftSource) => Promise<void>): () => Promise<void> {
  return async () => {
    using t = freshNetns()
    const s = createNftSource({ netns: t.ns })
    try {
      await fn(t, s)
    } finally {
      await s.close()
    }
  }
}

describe("netfilter source on the kernel", () => {
  test(
    "a realistic firewall applies in one transaction, reads back equal, and nft prints what a person would write",
    withNs(async (t, s) => {
      const d = parse(FIREWALL)
      const { report } = await converge(s, d)
      expect(report.failed.map((f) => f.error.message)).toEqual([])
      expect((await converge(s, d)).ops).toEqual([])
      const json = JSON.parse(t.sh("nft", "-j", "list", "ruleset")) as {
        nftables: Record<string, { family: string; table: string; chain?: string; name?: string; policy?: string }>[]
      }
      const chains = json.nftables
        .filter((x) => x.chain)
        .map((x) => `${x.chain!.family} ${x.chain!.table} ${x.chain!.name} ${x.chain!.policy ?? "-"}`)
      expect(chains.sort()).toEqual([
        "inet filter forward drop",
        "inet filter input drop",
        "inet filter output accept",
        "inet filter trusted -",
        "ip nat postrouting accept",
        "ip nat prerouting accept",
      ])
      expect(json.nftables.filter((x) => x.rule).length).toBe(13)
      const text = t.sh("nft", "list", "ruleset")
      for (const line of [
        "ct state established,related accept",
        'iifname "lo" accept',
        'ip saddr 10.0.0.0/8 tcp dport 22 accept comment "ssh"',
        "tcp dport { 80, 443 } counter packets 0 bytes 0 accept",
        "ip saddr @blocked drop",
        "elements = { 10.66.0.0/16, 192.0.2.7 }",
        "ip6 saddr fd00::/64 jump trusted",
        "udp dport 5000-5100 accept",
        'oifname "uplink0" masquerade',
        'oifname "uplink1" snat to 192.0.2.1',
        "tcp dport 80 dnat to 10.0.0.2:8080",
        "dnat to tcp dport map @portfwd",
        "elements = { 8080 : 10.0.0.2, 8443 : 10.0.0.3 }",
      ]) {
        expect(text).toContain(line)
      }
      const obs = await s.observe()
      const input = obs.tables.find((x) => x.name === "filter")!.chains!.find((c) => c.name === "input")!
      expect(input.rules.map((r) => r.comment ?? "")).toEqual(["", "", "", "ssh", "", ""])
      expect(input.rules.every((r) => r.common !== undefined)).toBe(true)
    }),
  )

  test(
    "rules edited or deleted with nft, and a flushed ruleset, are restored by a loop",
    withNs(async (t, s) => {
      const loop = createReconciler({
        source: s,
        desired: FIREWALL,
        ownership: OWN,
        resyncMs: 60_000,
        closeSource: false,
      })
      const rules = () =>
        (JSON.parse(t.sh("nft", "-j", "list", "ruleset")) as { nftables: { rule?: unknown }[] }).nftables.filter(
          (x) => x.rule,
        ).length
      const until = async (cond: () => boolean) => {
        const start = Date.now()
        while (!cond()) {
          if (Date.now() - start > 3000) throw new Error("timed out")
          await Bun.sleep(2)
        }
      }
      try {
        await loop.start()
        const handle = (
          JSON.parse(t.sh("nft", "-j", "-a", "list", "chain", "inet", "filter", "input")) as {
            nftables: { rule?: { handle: number } }[]
          }
        ).nftables.find((x) => x.rule)!.rule!.handle
        t.sh("nft", "delete", "rule", "inet", "filter", "input", "handle", String(handle))
        await until(
          () =>
            rules() === 13 &&
            t.sh("nft", "list", "chain", "inet", "filter", "input").includes("ct state established,related accept"),
        )
        t.sh("nft", "insert", "rule", "inet", "filter", "input", "tcp", "dport", "23", "accept")
        await until(() => !t.sh("nft", "list", "chain", "inet", "filter", "input").includes("dport 23"))
        t.sh("nft", "flush", "ruleset")
        await until(() => rules() === 13)
        expect(loop.status().counters.driftHealed).toBeGreaterThanOrEqual(3)
      } finally {
        await loop.stop()
      }
    }),
  )

  test(
    "a foreign table is untouched, and a desired table someone else holds is a conflict",
    withNs(async (t, s) => {
      t.sh("nft", "add", "table", "inet", "theirs")
      t.sh("nft", "add", "chain", "inet", "theirs", "c")
      t.sh("nft", "add", "rule", "inet", "theirs", "c", "tcp", "dport", "80", "drop")
      await converge(s, parse(FIREWALL))
      await converge(s, parse({}))
      expect(t.sh("nft", "list", "ruleset")).toContain("tcp dport 80 drop")
      expect(t.sh("nft", "list", "tables").trim()).toBe("table inet theirs")
      const want = parse({ tables: [{ family: "inet", name: "theirs", chains: [] }] })
      expect(s.diff(want, await s.observe(), OWN).map((o) => s.describe(o))).toEqual([
        "# conflict: table inet theirs exists but is not owned by this loop (list it in ownership.tables, or set ownership.adopt)",
      ])
    }),
  )

  test(
    "a transaction the kernel refuses leaves the ruleset exactly as before, with the kernel's message",
    withNs(async (t, s) => {
      await converge(s, parse(FIREWALL))
      const before = t.sh("nft", "list", "ruleset")
      const bad = parse({
        tables: [
          ...FIREWALL.tables.map((x) => ({
            ...x,
            chains: x.chains.map((c) => (c.name === "output" ? { ...c, policy: "drop" } : c)),
          })),
          // a route chain only exists on the output hook: the kernel refuses this one
          {
            family: "inet",
            name: "bad",
            chains: [{ name: "c", type: "route", hook: "input", priority: 0, rules: [] }],
          },
        ],
      })
      const own = { tables: [...OWN.tables, { family: "inet" as const, name: "bad" }] }
      const seen = await s.observe()
      const ops = s.diff(bad, seen, own)
      const report = await s.reconcile(ops, seen)
      expect(report.applied).toEqual([])
      const culprit = report.failed.find((f) => !f.error.message.startsWith("not applied"))!
      expect(s.describe(culprit.op)).toBe("nft add chain inet bad c { type route hook input priority 0; }")
      expect((culprit.error as { code?: string }).code).toBe("EOPNOTSUPP")
      expect(report.failed.some((f) => f.error.message.startsWith("not applied: the transaction was aborted"))).toBe(
        true,
      )
      expect(t.sh("nft", "list", "ruleset")).toBe(before)
    }),
  )

  test(
    "a change between observe and apply is caught by the generation guard",
    withNs(async (t, s) => {
      const d = parse(FIREWALL)
      const seen = await s.observe()
      const ops = s.diff(d, seen, OWN)
      t.sh("nft", "add", "table", "inet", "meanwhile")
      const report = await s.reconcile(ops, seen)
      expect(report.applied).toEqual([])
      expect(report.failed.every((f) => (f.error as { code?: string }).code === "ERESTART")).toBe(true)
      expect(t.sh("nft", "list", "tables").trim()).toBe("table inet meanwhile")
      expect((await converge(s, d)).report.failed).toEqual([])
    }),
  )

  test(
    "check() sends the transaction without committing it",
    withNs(async (t, s) => {
      const seen = await s.observe()
      const ops = s.diff(parse(FIREWALL), seen, OWN)
      expect((await s.check(ops, seen)).failed).toEqual([])
      expect(t.sh("nft", "list", "ruleset").trim()).toBe("")
    }),
  )

  test(
    "named sets: @set matches, per-element changes, and an element deleted with nft comes back",
    withNs(async (t, s) => {
      const own = { tables: [{ family: "inet" as const, name: "edge" }] }
      const mk = (blocked: string[]) =>
        parse({
          tables: [
            {
              family: "inet",
              name: "edge",
              sets: [
                { name: "blocked", type: "ipv4_addr", elements: blocked },
                { name: "ports", type: "inet_service", elements: [80, 443] },
              ],
              chains: [
                {
                  name: "input",
                  type: "filter",
                  hook: "input",
                  priority: 0,
                  rules: [
                    { match: { ip: { saddr: "@blocked" } }, verdict: "drop" },
                    { match: { tcp: { dport: "@ports" } }, counter: true, verdict: "accept" },
                  ],
                },
              ],
            },
          ],
        })
      const apply = async (d: NftDesired) => (await pass(s, d, own)).failed
      expect(await apply(mk(["192.0.2.7", "10.66.0.1"]))).toEqual([])
      const text = t.sh("nft", "list", "ruleset")
      expect(text).toContain("ip saddr @blocked drop")
      expect(text).toContain("tcp dport @ports counter packets 0 bytes 0 accept")
      const sets = JSON.parse(t.sh("nft", "-j", "list", "sets")) as {
        nftables: { set?: { name: string; elem?: unknown[] } }[]
      }
      expect(sets.nftables.filter((x) => x.set).map((x) => [x.set!.name, x.set!.elem?.length])).toEqual([
        ["blocked", 2],
        ["ports", 2],
      ])
      expect(s.diff(mk(["192.0.2.7", "10.66.0.1"]), await s.observe(), own)).toEqual([])
      const seen = await s.observe()
      const ops = s.diff(mk(["192.0.2.7", "10.66.0.2"]), seen, own)
      expect(ops.map((o) => s.describe(o))).toEqual([
        "nft add element inet edge blocked { 10.66.0.2 }; nft delete element inet edge blocked { 10.66.0.1 }",
      ])
      expect((await s.reconcile(ops, seen)).failed).toEqual([])
      t.sh("nft", "delete", "element", "inet", "edge", "blocked", "{ 192.0.2.7 }")
      expect(s.diff(mk(["192.0.2.7", "10.66.0.2"]), await s.observe(), own).map((o) => s.describe(o))).toEqual([
        "nft add element inet edge blocked { 192.0.2.7 }",
      ])
    }),
  )

  test(
    "the TypeScript rule decoder agrees with libnftnl's on every rule the kernel dumps",
    withNs(async (t, s) => {
      await converge(s, parse(FIREWALL))
      t.sh(
        "nft",
        "add",
        "rule",
        "inet",
        "filter",
        "trusted",
        "meta",
        "l4proto",
        "icmp",
        "limit",
        "rate",
        "5/minute",
        "log",
        "prefix",
        '"icmp "',
        "accept",
      )
      t.sh("nft", "add", "rule", "inet", "filter", "trusted", "ip", "daddr", "!=", "10.0.0.0/8", "reject")
      const sock = openNetlinkSocket(nl.NETLINK_NETFILTER, { netns: t.ns, strict: false })
      try {
        const both = sock.dumpInto(
          (w: MessageWriter) => {
            w.begin(nfnl.nftType(nfnl.NFT_MSG_GETRULE), 0)
            nfnl.writeNfgenmsg(w, 0)
            w.end()
          },
          (m) => [decodeRuleMessage(m), decodeRuleWithLibnftnl(m.data)] as const,
        )
        expect(both.length).toBe(15)
        for (const [ours, theirs] of both) {
          // the expression bytes are kept as well (a rule's byte key); libnftnl has no such field
          expect(ours.bytes?.length).toBeGreaterThan(0)
          const { bytes: _b, ...decoded } = ours
          expect(decoded).toEqual(theirs!)
        }
      } finally {
        sock.close()
      }
    }),
  )

  test(
    "interval sets: prefixes and ranges, as nft lists them; a changed prefix moves one boundary",
    withNs(async (t, s) => {
      const own = { tables: [{ family: "inet" as const, name: "edge" }] }
      const mk = (blocked: string[]) =>
        parse({
          tables: [
            {
              family: "inet",
              name: "edge",
              sets: [
                { name: "blocked", type: "ipv4_addr", flags: ["interval"], elements: blocked },
                { name: "ports", type: "inet_service", flags: ["interval"], elements: [80, "1000-2000"] },
              ],
              chains: [
                {
                  name: "input",
                  type: "filter",
                  hook: "input",
                  priority: 0,
                  rules: [
                    { match: { ip: { saddr: "@blocked" } }, verdict: "drop" },
                    { match: { tcp: { dport: "@ports" } }, verdict: "accept" },
                  ],
                },
              ],
            },
          ],
        })
      expect((await pass(s, mk(["10.66.0.0/16", "192.0.2.7"]), own)).failed).toEqual([])
      expect(t.sh("nft", "list", "set", "inet", "edge", "blocked")).toContain("elements = { 10.66.0.0/16, 192.0.2.7 }")
      expect(t.sh("nft", "list", "set", "inet", "edge", "ports")).toContain("elements = { 80, 1000-2000 }")
      expect(s.diff(mk(["10.66.0.0/16", "192.0.2.7"]), await s.observe(), own)).toEqual([])
      const seen = await s.observe()
      const ops = s.diff(mk(["10.66.0.0/15", "192.0.2.7"]), seen, own)
      expect(ops.map((o) => s.describe(o))).toEqual([
        "nft add element inet edge blocked { 10.68.0.0 (interval end) }; nft delete element inet edge blocked { 10.67.0.0 (interval end) }",
      ])
      expect((await s.reconcile(ops, seen)).failed).toEqual([])
      expect(t.sh("nft", "list", "set", "inet", "edge", "blocked")).toContain("elements = { 10.66.0.0/15, 192.0.2.7 }")
      expect(s.diff(mk(["10.66.0.0/15", "192.0.2.7"]), await s.observe(), own)).toEqual([])
    }),
  )

  test(
    "inline lists are anonymous sets: nft prints them as written, and they read back equal",
    withNs(async (t, s) => {
      const own = { tables: [{ family: "inet" as const, name: "edge" }] }
      const d = parse({
        tables: [
          {
            family: "inet",
            name: "edge",
            chains: [
              {
                name: "input",
                rules: [
                  { match: { tcp: { dport: [80, 443] } }, counter: true, verdict: "accept" },
                  { match: { ip: { saddr: ["10.0.0.1", "10.0.0.2"] } }, verdict: "drop" },
                ],
              },
            ],
          },
        ],
      })
      expect((await pass(s, d, own)).failed).toEqual([])
      const text = t.sh("nft", "list", "chain", "inet", "edge", "input")
      expect(text).toContain("tcp dport { 80, 443 } counter packets 0 bytes 0 accept")
      expect(text).toContain("ip saddr { 10.0.0.1, 10.0.0.2 } drop")
      const o = await s.observe()
      expect(o.tables[0]!.chains![0]!.rules.map((r) => r.common?.match)).toEqual([
        { tcp: { dport: [80, 443] } },
        { ip: { saddr: ["10.0.0.1", "10.0.0.2"] } },
      ])
      expect(o.tables[0]!.sets).toEqual([]) // anonymous sets belong to their rules
      expect(s.diff(d, o, own)).toEqual([])
    }),
  )

  test(
    "events hint the chain or table they touch; a scoped look reads only that",
    withNs(async (t, s) => {
      await converge(s, parse(FIREWALL))
      const hints: unknown[] = []
      const sub = s.subscribe((h) => hints.push(h))
      try {
        await Bun.sleep(20)
        t.sh("nft", "add", "rule", "inet", "filter", "input", "tcp", "dport", "23", "accept")
        const deadline = Date.now() + 2000
        while (!hints.length && Date.now() < deadline) await Bun.sleep(2)
        // a rule event names its chain: only that chain is looked at
        expect(hints).toEqual([{ scope: [{ kind: "chain", key: "inet filter input" }] }])
        const narrow = await s.observe({
          desired: parse(FIREWALL),
          ownership: OWN,
          scope: (hints[0] as NftHint).scope,
        })
        const filter = narrow.tables.find((x) => x.name === "filter")!
        expect(filter.chains!.map((c) => c.name)).toEqual(["input"])
        expect(filter.sets).toEqual([]) // no set was touched: none looked at
        expect(narrow.tables.find((x) => x.name === "nat")?.chains).toBeUndefined()
        const describe = (ops: ReturnType<NftSource["diff"]>) =>
          ops.map(
            (o) =>
              `${o.kind} ${o.object} ${"chain" in o ? (typeof o.chain === "string" ? o.chain : o.chain.name) : ""}`,
          )
        expect(describe(s.diff(parse(FIREWALL), narrow, OWN))).toEqual(["replace rules input"])
        // an element event looks at just its set
        t.sh("nft", "add", "element", "inet", "filter", "blocked", "{", "192.0.2.99", "}")
        const deadline2 = Date.now() + 2000
        while (hints.length < 2 && Date.now() < deadline2) await Bun.sleep(2)
        // with the elements it names (an interval: its start and its end)
        expect(hints[1]).toEqual({
          scope: [{ kind: "set", key: "inet filter blocked", elements: ["c0000263", "c0000264/e"] }],
        })
        const setLook = await s.observe({
          desired: parse(FIREWALL),
          ownership: OWN,
          scope: (hints[1] as NftHint).scope,
        })
        const filter2 = setLook.tables.find((x) => x.name === "filter")!
        expect(filter2.sets!.map((x) => x.name)).toEqual(["blocked"])
        expect(filter2.chains).toEqual([])
        expect(describe(s.diff(parse(FIREWALL), setLook, OWN))).toEqual(["update elements "])
        // any other event (a chain added) looks at the whole table
        t.sh("nft", "add", "chain", "inet", "filter", "stray")
        const deadline3 = Date.now() + 2000
        while (hints.length < 3 && Date.now() < deadline3) await Bun.sleep(2)
        expect(hints[2]).toEqual({ scope: [{ kind: "table", key: "inet filter" }] })
        const scoped = await s.observe({
          desired: parse(FIREWALL),
          ownership: OWN,
          scope: [{ kind: "table", key: "inet filter" }],
        })
        expect([...scoped.scope!]).toEqual(["inet filter"])
        expect(scoped.tables.find((x) => x.name === "nat")?.chains).toBeUndefined()
        expect(describe(s.diff(parse(FIREWALL), scoped, OWN)).sort()).toEqual([
          "delete chain ",
          "replace rules input",
          "update elements ",
        ])
      } finally {
        sub[Symbol.dispose]()
      }
    }),
  )

  test(
    "an owner table: nobody else may change it, and it goes with the source that made it",
    withNs(async (t, s) => {
      const own = { tables: [{ family: "inet" as const, name: "edge" }] }
      const d = parse({
        tables: [
          {
            family: "inet",
            name: "edge",
            flags: ["owner"],
            chains: [
              {
                name: "in",
                type: "filter",
                hook: "input",
                priority: 0,
                rules: [{ match: { tcp: { dport: 22 } }, verdict: "accept" }],
              },
            ],
          },
        ],
      })
      expect((await pass(s, d, own)).failed).toEqual([])
      expect(t.sh("nft", "list", "table", "inet", "edge")).toContain("flags owner")
      const r = t.try("nft", "flush", "chain", "inet", "edge", "in")
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain("Operation not permitted")
      expect(s.diff(d, await s.observe(), own)).toEqual([])
      await s.close()
      expect(t.sh("nft", "list", "ruleset").trim()).toBe("")
    }),
  )

  test(
    "concatenations: a set of address . port pairs, matched as nft writes it",
    withNs(async (t, s) => {
      const own = { tables: [{ family: "inet" as const, name: "edge" }] }
      const mk = (els: string[]) =>
        parse({
          tables: [
            {
              family: "inet",
              name: "edge",
              sets: [{ name: "svc", type: "ipv4_addr . inet_service", elements: els }],
              chains: [
                {
                  name: "in",
                  type: "filter",
                  hook: "input",
                  priority: 0,
                  rules: [{ match: { concat: { keys: ["ip saddr", "tcp dport"], set: "@svc" } }, verdict: "accept" }],
                },
              ],
            },
          ],
        })
      expect((await pass(s, mk(["10.0.0.1 . 22", "10.0.0.2 . 443"]), own)).failed).toEqual([])
      const text = t.sh("nft", "list", "table", "inet", "edge")
      expect(text).toContain("type ipv4_addr . inet_service")
      expect(text).toMatch(/elements = \{ 10\.0\.0\.1 \. 22,\s+10\.0\.0\.2 \. 443 \}/)
      expect(text).toContain("ip saddr . tcp dport @svc accept")
      const o = await s.observe()
      const seen = o
      expect(o.tables[0]!.chains![0]!.rules[0]!.common).toEqual({
        match: { concat: { keys: ["ip saddr", "tcp dport"], set: "@svc" } },
        verdict: "accept",
      })
      expect(s.diff(mk(["10.0.0.1 . 22", "10.0.0.2 . 443"]), o, own)).toEqual([])
      const ops = s.diff(mk(["10.0.0.1 . 22", "10.0.0.2 . 8443"]), o, own)
      expect(ops.map((x) => s.describe(x))).toEqual([
        "nft add element inet edge svc { 10.0.0.2 . 8443 }; nft delete element inet edge svc { 10.0.0.2 . 443 }",
      ])
      expect((await s.reconcile(ops, seen)).failed).toEqual([])
    }),
  )

  test(
    "timeout and constant sets: the default timeout is kept; a constant set is replaced, with the rules using it",
    withNs(async (t, s) => {
      const own = { tables: [{ family: "inet" as const, name: "edge" }] }
      const mk = (ports: number[]) =>
        parse({
          tables: [
            {
              family: "inet",
              name: "edge",
              sets: [
                { name: "recent", type: "ipv4_addr", flags: ["timeout"], timeout: "1h", elements: ["10.0.0.1"] },
                { name: "fixed", type: "inet_service", flags: ["constant"], elements: ports },
              ],
              chains: [
                {
                  name: "in",
                  type: "filter",
                  hook: "input",
                  priority: 0,
                  rules: [{ match: { tcp: { dport: "@fixed" } }, verdict: "accept" }],
                },
              ],
            },
          ],
        })
      expect((await pass(s, mk([22, 80]), own)).failed).toEqual([])
      const text = t.sh("nft", "list", "table", "inet", "edge")
      expect(text).toContain("flags constant")
      expect(text).toContain("timeout 1h")
      expect(text).toContain("10.0.0.1 expires")
      expect(s.diff(mk([22, 80]), await s.observe(), own)).toEqual([])
      const seen = await s.observe()
      const ops = s.diff(mk([22, 443]), seen, own)
      expect(ops.map((o) => `${o.kind} ${o.object}`)).toEqual([
        "delete set",
        "create set",
        "update elements",
        "replace rules",
      ])
      expect((await s.reconcile(ops, seen)).failed).toEqual([])
      expect(t.sh("nft", "list", "set", "inet", "edge", "fixed")).toContain("elements = { 22, 443 }")
      expect(s.diff(mk([22, 443]), await s.observe(), own)).toEqual([])
    }),
  )

  test(
    "a bare reject is nft's: port unreachable in each family (nft lists it as plain `reject`), and converges",
    withNs(async (t, s) => {
      const tables = (["inet", "ip", "ip6"] as const).map((family) => ({
        family,
        name: `r${family}`,
        chains: [
          { name: "in", type: "filter", hook: "input", priority: 0, policy: "accept", rules: [{ verdict: "reject" }] },
        ],
      }))
      const own = { tables: tables.map((x) => ({ family: x.family, name: x.name })) }
      const d = parse({ tables })
      const r = await pass(s, d, own)
      expect(r.failed).toEqual([])
      for (const x of tables) {
        const listed = t.sh("nft", "list", "chain", x.family, x.name, "in")
        expect(listed).toMatch(/\breject\b/)
        expect(listed).not.toContain("reject with") // nft prints the default (port unreachable) bare
      }
      const seen = await s.observe({ desired: d, ownership: own })
      expect(s.diff(d, seen, own)).toEqual([])
    }),
  )

  test(
    "in bridge and netdev tables an ip match is guarded by the ether type (meta protocol), as nft writes it",
    withNs(async (t, s) => {
      const d = parse({
        tables: [
          {
            family: "bridge",
            name: "br",
            chains: [
              {
                name: "fw",
                type: "filter",
                hook: "forward",
                priority: 0,
                policy: "accept",
                rules: [
                  { match: { ip: { saddr: "10.0.0.0/8" } }, verdict: "accept" },
                  { match: { ip6: { daddr: ["fd00::1", "fd00::2"] } }, verdict: "drop" },
                ],
              },
            ],
          },
        ],
      })
      const own = { tables: [{ family: "bridge" as const, name: "br" }] }
      expect((await pass(s, d, own)).failed).toEqual([])
      // nft writes the same bytes for the same text: its listing reads as written, no nfproto guard
      const listed = t.sh("nft", "list", "chain", "bridge", "br", "fw")
      expect(listed).toContain("ip saddr 10.0.0.0/8 accept")
      expect(listed).toContain("ip6 daddr { fd00::1, fd00::2 } drop")
      expect(listed).not.toContain("nfproto")
      // and a rule nft adds from text decodes to the same common form
      t.sh("nft", "add", "rule", "bridge", "br", "fw", "ip", "saddr", "10.0.0.0/8", "accept")
      const seen = await s.observe({ desired: d, ownership: own })
      const rules = seen.tables.find((x) => x.name === "br")!.chains!.find((c) => c.name === "fw")!.rules
      expect(rules[2]!.key).toBe(rules[0]!.key)
    }),
  )

  test(
    "a raw log with a group or a level converges (both were decoded without them and rewritten every pass)",
    withNs(async (t, s) => {
      const d = parse({
        tables: [
          {
            family: "inet",
            name: "lg",
            chains: [
              {
                name: "c",
                type: "filter",
                hook: "input",
                priority: 0,
                policy: "accept",
                rules: [{ expr: [{ type: "log", group: 2 }] }, { expr: [{ type: "log", prefix: "x ", level: 6 }] }],
              },
            ],
          },
        ],
      })
      const own = { tables: [{ family: "inet" as const, name: "lg" }] }
      expect((await pass(s, d, own)).failed).toEqual([])
      const listed = t.sh("nft", "list", "chain", "inet", "lg", "c")
      expect(listed).toContain("log group 2")
      expect(listed).toContain('log prefix "x " level info')
      const seen = await s.observe({ desired: d, ownership: own })
      expect(s.diff(d, seen, own)).toEqual([])
    }),
  )

  test(
    "a rule nft made with an anonymous set of a type Linx has no name for (ct state { … }) can be written back as observed",
    withNs(async (t, s) => {
      const base = {
        family: "inet",
        name: "cts",
        chains: [{ name: "c", type: "filter", hook: "input", priority: 0, policy: "accept", rules: [] as unknown[] }],
      }
      const own = { tables: [{ family: "inet" as const, name: "cts" }] }
      expect((await pass(s, parse({ tables: [base] }), own)).failed).toEqual([])
      t.sh("nft", "add", "rule", "inet", "cts", "c", "ct", "state", "{", "established,", "related", "}", "accept")
      const seen = await s.observe({ desired: parse({ tables: [base] }), ownership: own })
      const rule = seen.tables.find((x) => x.name === "cts")!.chains![0]!.rules[0]!
      // the user copies the observed rule into desired state, as raw expressions
      const d = parse({ tables: [{ ...base, chains: [{ ...base.chains[0]!, rules: [{ expr: rule.exprs }] }] }] })
      t.sh("nft", "flush", "chain", "inet", "cts", "c")
      const r = await pass(s, d, own)
      expect(r.failed).toEqual([])
      expect(t.sh("nft", "list", "chain", "inet", "cts", "c")).toContain("ct state { established, related } accept")
      const again = await s.observe({ desired: d, ownership: own })
      expect(s.diff(d, again, own)).toEqual([])
    }),
  )

  test(
    "plan's element lines are nft's own: running the described line adds exactly the intervals the loop would",
    withNs(async (t, s) => {
      const table = (elements: string[]) => ({
        family: "inet",
        name: "iv",
        sets: [{ name: "blocked", type: "ipv4_addr", flags: ["interval"], elements }],
        chains: [],
      })
      const own = { tables: [{ family: "inet" as const, name: "iv" }] }
      expect((await pass(s, parse({ tables: [table([])] }), own)).failed).toEqual([])
      const d = parse({ tables: [table(["10.0.0.0/8", "192.0.2.1", "198.51.100.10-198.51.100.20"])] })
      const ops = s.diff(d, await s.observe({ desired: d, ownership: own }), own)
      const line = s.describe(ops[0]!)
      expect(line).toBe("nft add element inet iv blocked { 10.0.0.0/8, 192.0.2.1, 198.51.100.10-198.51.100.20 }")
      t.sh("sh", "-c", line)
      expect(s.diff(d, await s.observe({ desired: d, ownership: own }), own)).toEqual([])
    }),
  )
})
