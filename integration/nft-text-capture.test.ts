// Rules written as nft text are compiled without a kernel: nft's own batch, captured on
// two threads (text-capture.ts). Against the real kernel in fresh namespaces: what was
// written is what nft writes for the same text; the key an observed rule is compared by
// is learned from the next look only when nothing was committed since the source's own
// commit (anything else is compiled the slow way, and healed); a rule the kernel refuses
// fails its transaction whole, in nft's words; nft asking other questions is learned.
import { describe, expect, test } from "bun:test"
import { readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { createNftSource, NftDesiredSchema, type NftOwnership } from "@linx/source-netfilter"
import * as v from "valibot"
import { captureRuns } from "../packages/source-netfilter/src/capture-pool.ts"
import { answerRequests } from "../packages/source-netfilter/src/text-capture.ts"
import { textCompileCounts } from "../packages/source-netfilter/src/text.ts"
import { forgetCompiledText } from "../packages/source-netfilter/src/text-compile.ts"
import { freshNetns, type TestNetns } from "./netns.ts"

const own: NftOwnership = { tables: [{ family: "inet", name: "lx" }] }
const table = (chains: { name: string; rules: string[]; type?: string; hook?: string; priority?: number }[]) =>
  v.parse(NftDesiredSchema, { tables: [{ family: "inet", name: "lx", chains }] })

/** nft's listing of a chain without its handles and counters. */
const listed = (t: TestNetns, table: string, chain: string) =>
  t
    .sh("nft", "list", "chain", "inet", table, chain)
    .split("\n")
    .slice(2)
    .join("\n")
    .replace(/packets \d+ bytes \d+/g, "packets 0 bytes 0")

describe("nft text compiled from nft's own batch", () => {
  test("3000 rules: captured on two threads, written as nft writes them, keys learned from the next look", async () => {
    using t = freshNetns()
    const rules = Array.from({ length: 3000 }, (_, i) =>
      i % 7
        ? `ip saddr != 10.${i >> 8}.${i & 255}.0/24 tcp dport ${1000 + i} meta mark set mark or 0x4000 accept`
        : `tcp dport { 22, ${1000 + i} } ct state new counter accept`,
    )
    const before = { ...textCompileCounts }
    const worker = captureRuns.worker
    forgetCompiledText()
    const d = table([{ name: "c", rules }])
    expect(textCompileCounts.captured).toBe(before.captured + 1)
    expect(textCompileCounts.scratch).toBe(before.scratch)
    expect(captureRuns.worker).toBeGreaterThan(worker) // the second thread took a share
    const s = createNftSource({ netns: t.ns })
    try {
      const seen = await s.observe({ desired: d, ownership: own })
      expect((await s.reconcile(s.diff(d, seen, own), seen)).failed).toEqual([])
      // the next look, nothing committed since: nothing to do, and nothing compiled the slow way
      const again = await s.observe({ desired: d, ownership: own })
      expect(s.diff(d, again, own)).toEqual([])
      expect(textCompileCounts.slowly).toBe(before.slowly)
      // the same text added by nft itself, beside it: the same listing
      t.nftFile(`table inet ref {\n chain c {\n${rules.join("\n")}\n }\n}\n`)
      expect(listed(t, "lx", "c")).toBe(listed(t, "ref", "c"))
      // each rule's key is now the kernel's own: it equals nft's rule at the same place
      const ref = (await s.observe({ desired: d, ownership: { tables: [{ family: "inet", name: "ref" }] } })).tables
        .find((x) => x.name === "ref")!
        .chains!.find((c) => c.name === "c")!.rules
      d.tables[0]!.chains[0]!.rules.forEach((r, i) => {
        expect(ref[i]!.bytesKey).toBe((r as { key: string }).key)
      })
    } finally {
      await s.close()
    }
  })

  test("right after a first apply the source looks once and learns: a foreign flush then heals without the slow way", async () => {
    using t = freshNetns()
    forgetCompiledText()
    const chains = Array.from({ length: 20 }, (_, k) => ({
      name: `svc-${k}`,
      rules: Array.from({ length: 50 }, (_, i) => `ip saddr != 10.${k}.${i}.0/24 meta mark set mark or 0x${k + 1}`),
    }))
    const d = table(chains)
    const before = textCompileCounts.slowly
    const s = createNftSource({ netns: t.ns })
    try {
      const seen = await s.observe({ desired: d, ownership: own })
      expect((await s.reconcile(s.diff(d, seen, own), seen)).failed).toEqual([])
      await Bun.sleep(50) // the source's own look, off the pass
      t.sh("nft", "flush", "chain", "inet", "lx", "svc-7")
      const look = await s.observe({ desired: d, ownership: own })
      // the flushed chain is rewritten (it is empty: no flush); the other 19 compare equal by their learned keys
      expect(s.diff(d, look, own).map(s.describe)).toEqual([
        chains[7]!.rules.map((r) => `nft add rule inet lx svc-7 ${r}`).join("; "),
      ])
      expect(textCompileCounts.slowly).toBe(before)
    } finally {
      await s.close()
    }
  })

  test("a rule swapped between the commit and the next look is not taken for ours: it is seen, and healed", async () => {
    using t = freshNetns()
    forgetCompiledText()
    const d = table([{ name: "c", rules: ["tcp dport 22 accept", "ip saddr != 10.0.0.0/8 meta mark set mark or 0x1"] }])
    const before = textCompileCounts.slowly
    const s = createNftSource({ netns: t.ns })
    try {
      const seen = await s.observe({ desired: d, ownership: own })
      expect((await s.reconcile(s.diff(d, seen, own), seen)).failed).toEqual([])
      const handles = JSON.parse(t.sh("nft", "-j", "-a", "list", "chain", "inet", "lx", "c"))
        .nftables.filter((x: { rule?: unknown }) => x.rule)
        .map((x: { rule: { handle: number } }) => x.rule.handle)
      // same place, almost the same bytes: the mark differs
      t.sh(
        "nft",
        "replace",
        "rule",
        "inet",
        "lx",
        "c",
        "handle",
        String(handles[1]),
        "ip saddr != 10.0.0.0/8 meta mark set mark or 0x2",
      )
      const look = await s.observe({ desired: d, ownership: own })
      const ops = s.diff(d, look, own)
      expect(ops.map(s.describe)).toEqual([
        "nft flush chain inet lx c; nft add rule inet lx c tcp dport 22 accept; nft add rule inet lx c ip saddr != 10.0.0.0/8 meta mark set mark or 0x1",
      ])
      expect(textCompileCounts.slowly).toBe(before + 1) // the keys came from the scratch namespace
      expect((await s.reconcile(ops, look)).failed).toEqual([])
      expect(listed(t, "lx", "c")).toContain("meta mark set meta mark | 0x00000001")
      expect(s.diff(d, await s.observe({ desired: d, ownership: own }), own)).toEqual([])
    } finally {
      await s.close()
    }
  })

  test("a commit elsewhere before the next look: keys compiled the slow way, still nothing to do", async () => {
    using t = freshNetns()
    forgetCompiledText()
    const d = table([{ name: "c", rules: ["tcp dport { 22, 80 } accept", "meta mark set mark or 0x4000"] }])
    const before = textCompileCounts.slowly
    const s = createNftSource({ netns: t.ns })
    try {
      const seen = await s.observe({ desired: d, ownership: own })
      expect((await s.reconcile(s.diff(d, seen, own), seen)).failed).toEqual([])
      t.sh("nft", "add", "table", "ip", "firewalld")
      expect(s.diff(d, await s.observe({ desired: d, ownership: own }), own)).toEqual([])
      expect(textCompileCounts.slowly).toBe(before + 1)
    } finally {
      await s.close()
    }
  })

  test("a rule nft accepts but the kernel refuses: nothing applied, nft's words under that rule", async () => {
    using t = freshNetns()
    forgetCompiledText()
    const bad = "tcp flags syn tcp option maxseg size set rt mtu" // rt mtu: not in the input hook
    const d = table([{ name: "in", type: "filter", hook: "input", priority: 0, rules: ["tcp dport 22 accept", bad] }])
    const s = createNftSource({ netns: t.ns })
    try {
      const seen = await s.observe({ desired: d, ownership: own })
      const report = await s.reconcile(s.diff(d, seen, own), seen)
      expect(report.applied).toEqual([])
      const rules = report.failed.find((f) => f.op.kind === "replace")!.error.message
      expect(rules).toContain("Could not process rule: Operation not supported")
      expect(rules).toContain(`\n  ${bad}\n  ^`)
      expect(t.sh("nft", "list", "ruleset").trim()).toBe("")
    } finally {
      await s.close()
    }
  })

  test("no descriptor or file left behind by 20 compiles (sockets, nft contexts, the worker's share, the nft files)", () => {
    const rules = Array.from(
      { length: 2500 },
      (_, i) => `tcp dport ${1000 + i} ip saddr 10.0.${i >> 8}.${i & 255} accept`,
    )
    const compile = () => {
      forgetCompiledText()
      table([{ name: "c", rules }])
    }
    compile() // the worker and the scratch namespace exist from now on
    const fds = readdirSync("/proc/self/fd").length
    const files = readdirSync(tmpdir()).filter((f) => f.startsWith(`linx-nft-${process.pid}-`)).length
    const worker = captureRuns.worker
    for (let i = 0; i < 20; i++) compile()
    expect(captureRuns.worker).toBeGreaterThan(worker)
    expect(readdirSync("/proc/self/fd").length).toBe(fds)
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`linx-nft-${process.pid}-`)).length).toBe(files)
  })

  test("nft asking other questions than expected: the compile learns them and still captures", () => {
    forgetCompiledText()
    const before = { ...textCompileCounts }
    answerRequests([0xa10]) // as if nft asked for the generation only
    try {
      const d = table([{ name: "c", rules: ["tcp dport 22 accept"] }])
      expect(textCompileCounts.captured).toBe(before.captured + 1)
      expect(textCompileCounts.scratch).toBe(before.scratch)
      expect((d.tables[0]!.chains[0]!.rules[0] as { text: string }).text).toBe("tcp dport 22 accept")
    } finally {
      answerRequests()
    }
  })

  test("a chain or set nft cannot name (a keyword) sends the table to the scratch namespace", () => {
    forgetCompiledText()
    const before = { ...textCompileCounts }
    const d = v.parse(NftDesiredSchema, {
      tables: [
        {
          family: "ip",
          name: "lx",
          chains: [{ name: "fwd", type: "filter", hook: "forward", rules: ["ip ttl 1 drop"] }],
        },
      ],
    })
    expect(d.tables[0]!.chains[0]!.rules.length).toBe(1)
    expect(textCompileCounts.scratch).toBe(before.scratch + 1)
    expect(textCompileCounts.captured).toBe(before.captured)
  })
})
