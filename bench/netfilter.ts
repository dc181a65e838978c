// @linx/source-netfilter vs `nft`: apply a 10k-rule ruleset (one transaction vs
// `nft -f`), and observe it (dump + decode vs `nft list ruleset`).
import { createReconciler } from "@linx/reconcile"
import { createNftSource, NftDesiredSchema } from "@linx/source-netfilter"
import * as v from "valibot"
import { kubeProxyNftText, kubeProxyRuleset } from "../examples/kube-proxy.ts"
import { forgetCompiledText } from "../packages/source-netfilter/src/text-compile.ts"
import { addAbsolute, addRatio, benchNetns, fmtMs, percentile, timeMedianAsync } from "./harness.ts"

export async function benchNetfilter(count = 10_000): Promise<void> {
  using t = benchNetns()
  const rules = Array.from({ length: count }, (_, i) => ({
    match: { ip: { saddr: `10.${(i >> 8) & 255}.${i & 255}.0/24` }, tcp: { dport: 1000 + (i % 5000) } },
    verdict: "accept" as const,
  }))
  const desired = v.parse(NftDesiredSchema, {
    tables: [
      {
        family: "inet",
        name: "bench",
        chains: [{ name: "c", type: "filter", hook: "input", priority: 0, policy: "accept", rules }],
      },
    ],
  })
  const own = { tables: [{ family: "inet" as const, name: "bench" }] }
  const source = createNftSource({ netns: t.ns })
  const flush = () => void t.sh("nft", "flush", "ruleset")
  const ours = await timeMedianAsync(
    async () => {
      const seen = await source.observe({ desired, ownership: own })
      const r = await source.reconcile(source.diff(desired, seen, own), seen)
      if (r.failed.length) throw new Error(r.failed[0]!.error.message)
    },
    3,
    flush,
  )
  const lines = ["table inet bench {", "  chain c {", "    type filter hook input priority 0; policy accept;"]
  for (const r of rules) lines.push(`    ip saddr ${r.match.ip.saddr} tcp dport ${r.match.tcp.dport} accept`)
  lines.push("  }", "}")
  const file = `/tmp/linx-bench-nft-${process.pid}.nft`
  await Bun.write(file, `${lines.join("\n")}\n`)
  const nft = await timeMedianAsync(async () => void t.sh("nft", "-f", file), 5, flush)
  addRatio(`netfilter: apply a ${count / 1000}k-rule ruleset`, ours, nft, "nft -f", 1.0)

  // observe: the ruleset as nft -f left it
  const observe = await timeMedianAsync(async () => {
    const o = await source.observe()
    const n = o.tables[0]?.chains?.[0]?.rules.length ?? 0
    if (n !== count) throw new Error(`observed ${n} rules, expected ${count}`)
  })
  const list = await timeMedianAsync(async () => void t.sh("nft", "list", "ruleset"), 5)
  addRatio(`netfilter: observe ${count / 1000}k rules`, observe, list, "nft list ruleset", 0.5)
  await source.close()
}

/** Change one element of a 100k-element set: the transaction sends one element. */
export async function benchNetfilterSet(count = 100_000): Promise<void> {
  using t = benchNetns()
  const els = Array.from({ length: count }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)
  const mk = (list: string[]) =>
    v.parse(NftDesiredSchema, {
      tables: [
        {
          family: "inet",
          name: "bench",
          sets: [{ name: "blocked", type: "ipv4_addr", elements: list }],
          chains: [
            {
              name: "c",
              type: "filter",
              hook: "input",
              priority: 0,
              rules: [{ match: { ip: { saddr: "@blocked" } }, verdict: "drop" }],
            },
          ],
        },
      ],
    })
  const own = { tables: [{ family: "inet" as const, name: "bench" }] }
  const source = createNftSource({ netns: t.ns })
  const seen0 = await source.observe({ desired: mk(els), ownership: own })
  const first = await source.reconcile(source.diff(mk(els), seen0, own), seen0)
  if (first.failed.length) throw new Error(first.failed[0]!.error.message)
  const times: number[] = []
  let sent = 0
  for (let i = 0; i < 5; i++) {
    const next = [...els.slice(0, count - 1), `192.0.${i}.1`]
    const seen = await source.observe({ desired: mk(next), ownership: own })
    const ops = source.diff(mk(next), seen, own)
    const op = ops.find((o) => o.kind === "update" && o.object === "elements") as
      | { add: string[]; remove: string[] }
      | undefined
    if (!op || ops.length !== 1)
      throw new Error(`expected one element op, got ${ops.map((o) => source.describe(o)).join("; ")}`)
    sent = op.add.length + op.remove.length
    const s = performance.now()
    const r = await source.reconcile(ops, seen)
    times.push(performance.now() - s)
    if (r.failed.length) throw new Error(r.failed[0]!.error.message)
    els[count - 1] = `192.0.${i}.1`
  }
  times.sort((a, b) => a - b)
  const ms = times[2]!
  addAbsolute(
    `netfilter: change one element of a ${count / 1000}k-element set`,
    `${ms.toFixed(2)} ms, ${sent} elements sent (1 added, 1 removed)`,
    "≤ 5 ms, one element sent",
    ms <= 5,
  )
  await source.close()
}

/**
 * A 10k-rule ruleset written as nft text, shaped like kube-proxy's (a base chain jumping
 * to 100 per-service chains of 100 rules): nft's parse (compile) + diff + one transaction
 * vs `nft -f`; then the heal of one service chain flushed by nft.
 */
export async function benchNetfilterText(count = 10_000, trials = 20): Promise<void> {
  using t = benchNetns()
  const per = 100
  const services = Math.max(1, Math.floor(count / per))
  const rule = (i: number) =>
    i % 10 === 0
      ? `ip saddr 10.${(i >> 8) & 255}.${i & 255}.0/24 tcp dport { ${1000 + (i % 5000)}, ${7000 + (i % 500)} } ct state new counter accept`
      : `ip saddr != 10.${(i >> 8) & 255}.${i & 255}.0/24 tcp dport ${1000 + (i % 5000)} meta mark set mark or 0x4000 accept`
  const chains = Array.from({ length: services }, (_, s) => ({
    name: `svc-${s}`,
    rules: Array.from({ length: per }, (_, k) => rule(s * per + k)),
  }))
  const base = {
    name: "in",
    type: "filter",
    hook: "input",
    priority: 0,
    policy: "accept",
    rules: chains.map((c, s) => `ip daddr 172.16.${s >> 8}.${s & 255} tcp dport 80 jump ${c.name}`),
  }
  const input = { tables: [{ family: "inet", name: "bench", chains: [base, ...chains] }] }
  const own = { tables: [{ family: "inet" as const, name: "bench" }] }
  const source = createNftSource({ netns: t.ns })
  const flush = () => void t.sh("nft", "flush", "ruleset")
  // a desired state given as text, then applied: what a first `linx apply` of such a file does
  const ours = await timeMedianAsync(
    async () => {
      const desired = v.parse(NftDesiredSchema, structuredClone(input))
      const seen = await source.observe({ desired, ownership: own })
      const r = await source.reconcile(source.diff(desired, seen, own), seen)
      if (r.failed.length) throw new Error(r.failed[0]!.error.message)
    },
    5,
    () => {
      flush()
      forgetCompiledText() // each run compiles, as a first apply does
    },
  )
  const lines = ["table inet bench {"]
  for (const c of chains) lines.push(`  chain ${c.name} {`, ...c.rules.map((r) => `    ${r}`), "  }")
  lines.push(
    "  chain in {",
    "    type filter hook input priority 0; policy accept;",
    ...base.rules.map((r) => `    ${r}`),
  )
  lines.push("  }", "}")
  const file = `/tmp/linx-bench-nft-text-${process.pid}.nft`
  await Bun.write(file, `${lines.join("\n")}\n`)
  const nft = await timeMedianAsync(async () => void t.sh("nft", "-f", file), 5, flush)
  const total = services * per + services
  addRatio(
    `netfilter: apply a ${(total / 1000).toFixed(1)}k-rule ruleset written as nft text`,
    ours,
    nft,
    "nft -f",
    1.0,
  )
  await source.close()

  // heal: one service chain flushed by nft, timed from nft's exit to the end of the pass that rewrote it
  flush()
  const loop = createReconciler({
    source: createNftSource({ netns: t.ns }),
    desired: v.parse(NftDesiredSchema, structuredClone(input)),
    ownership: own,
    resyncMs: 600_000,
    contest: { threshold: Number.MAX_SAFE_INTEGER },
  })
  await loop.start()
  let waiting: ((at: number) => void) | undefined
  loop.on("pass", (p) => {
    if (p.applied.length > 0) waiting?.(performance.now())
  })
  const ms: number[] = []
  for (let i = 0; i < trials; i++) {
    const done = new Promise<number>((resolve) => (waiting = resolve))
    t.sh("nft", "flush", "chain", "inet", "bench", `svc-${(i * 37) % services}`)
    const t0 = performance.now()
    ms.push((await done) - t0)
    do await Bun.sleep(2)
    while (loop.status().busy)
  }
  await loop.stop()
  const sorted = ms.sort((a, b) => a - b)
  const p50 = percentile(sorted, 50)
  addAbsolute(
    `netfilter: heal a flushed 100-rule chain in that ruleset (${trials} trials)`,
    `p50 ${fmtMs(p50)}, p99 ${fmtMs(percentile(sorted, 99))}`,
    "p50 ≤ 10 ms",
    p50 <= 10,
  )
}

/**
 * A kube-proxy-shaped ruleset (examples/kube-proxy.ts) for `services` services: first
 * apply (nft's parse included) vs `nft -f` of the same ruleset; observe vs `nft list`;
 * heal of a flushed service chain and of a deleted map element.
 */
export async function benchKubeProxy(services = 10_000, trials = 20): Promise<void> {
  using t = benchNetns()
  const input = kubeProxyRuleset(services)
  const own = { tables: [{ family: "ip" as const, name: "kube-proxy" }] }
  const source = createNftSource({ netns: t.ns })
  const flush = () => void t.sh("nft", "flush", "ruleset")
  const ours = await timeMedianAsync(
    async () => {
      const desired = v.parse(NftDesiredSchema, structuredClone(input))
      const seen = await source.observe({ desired, ownership: own })
      const r = await source.reconcile(source.diff(desired, seen, own), seen)
      if (r.failed.length) throw new Error(r.failed[0]!.error.message)
    },
    5,
    () => {
      flush()
      forgetCompiledText()
    },
  )
  const file = `/tmp/linx-bench-kube-proxy-${process.pid}.nft`
  await Bun.write(file, kubeProxyNftText(services))
  const nft = await timeMedianAsync(async () => void t.sh("nft", "-f", file), 5, flush)
  const k = `${services / 1000}k`
  addRatio(`netfilter: kube-proxy-shaped ruleset, ${k} services, first apply (nft text)`, ours, nft, "nft -f", 1.0)
  const desired = v.parse(NftDesiredSchema, structuredClone(input))
  const observe = await timeMedianAsync(async () => void (await source.observe({ desired, ownership: own })))
  const list = await timeMedianAsync(async () => void t.sh("nft", "list", "ruleset"), 5)
  addRatio(`netfilter: observe that ruleset (${k} services)`, observe, list, "nft list ruleset", 0.5)
  await source.close()

  const loop = createReconciler({
    source: createNftSource({ netns: t.ns }),
    desired,
    ownership: own,
    resyncMs: 600_000,
    contest: { threshold: Number.MAX_SAFE_INTEGER },
  })
  await loop.start()
  let waiting: ((at: number) => void) | undefined
  loop.on("pass", (p) => {
    if (p.applied.length > 0) waiting?.(performance.now())
  })
  for (const [what, breakIt] of [
    [
      "a flushed service chain",
      (i: number) => ["nft", "flush", "chain", "ip", "kube-proxy", `svc-${(i * 37) % services}`],
    ],
    [
      "a deleted service-ips element",
      (i: number) => {
        const s = (i * 37) % services
        return [
          "nft",
          "delete",
          "element",
          "ip",
          "kube-proxy",
          "service-ips",
          `{ 10.96.${s >> 8}.${s & 255} . tcp . 80 }`,
        ]
      },
    ],
  ] as const) {
    const ms: number[] = []
    for (let i = 0; i < trials; i++) {
      const done = new Promise<number>((resolve) => (waiting = resolve))
      t.sh(...breakIt(i))
      const t0 = performance.now()
      ms.push((await done) - t0)
      do await Bun.sleep(2)
      while (loop.status().busy)
    }
    const sorted = ms.sort((a, b) => a - b)
    const p50 = percentile(sorted, 50)
    addAbsolute(
      `netfilter: heal ${what} (${k} services, ${trials} trials)`,
      `p50 ${fmtMs(p50)}, p99 ${fmtMs(percentile(sorted, 99))}`,
      "p50 ≤ 10 ms",
      p50 <= 10,
    )
  }
  await loop.stop()
}
