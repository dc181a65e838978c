// A kube-proxy-shaped ruleset, written as nft text inside Linx's desired state: the
// chains, sets and verdict maps of kube-proxy's public nftables proxier (services found by
// `ip daddr . meta l4proto . th dport vmap @service-ips`, endpoints picked by `numgen
// random mod N vmap`, masquerading by mark). Used by a kernel test and `bun run bench`;
// run it to apply one to a private namespace and print the table:
//
//   unshare -n bun examples/kube-proxy.ts [services]   (as root; default 3)
import { assertNotInitialNetns, Netns } from "@linx/netlink"
import { createReconciler } from "@linx/reconcile"
import { createNftSource, NftDesiredSchema } from "@linx/source-netfilter"
import * as v from "valibot"

/** The desired state (netfilter) of a kube-proxy-shaped ruleset for `n` services of 2 endpoints each. */
export function kubeProxyRuleset(n: number) {
  const svcIp = (i: number) => `10.96.${i >> 8}.${i & 255}`
  const epIp = (i: number, k: number) => `10.244.${(2 * i + k) >> 8}.${(2 * i + k) & 255}`
  const serviceIps: Record<string, string> = {}
  const chains: unknown[] = [
    {
      name: "filter-prerouting",
      type: "filter",
      hook: "prerouting",
      priority: "dstnat - 10",
      rules: ["ct state new jump cluster-ips-check"],
    },
    { name: "cluster-ips-check", rules: ['ip daddr @cluster-ips reject comment "invalid port of a ClusterIP"'] },
    { name: "nat-prerouting", type: "nat", hook: "prerouting", priority: "dstnat", rules: ["jump services"] },
    { name: "nat-output", type: "nat", hook: "output", priority: -100, rules: ["jump services"] },
    { name: "nat-postrouting", type: "nat", hook: "postrouting", priority: "srcnat", rules: ["jump masquerading"] },
    {
      name: "masquerading",
      rules: ["meta mark & 0x4000 == 0 return", "meta mark set meta mark ^ 0x4000", "masquerade fully-random"],
    },
    { name: "mark-for-masquerade", rules: ["meta mark set meta mark | 0x4000"] },
    { name: "services", rules: ["ip daddr . meta l4proto . th dport vmap @service-ips"] },
  ]
  for (let i = 0; i < n; i++) {
    serviceIps[`${svcIp(i)} . tcp . 80`] = `goto svc-${i}`
    chains.push({
      name: `svc-${i}`,
      rules: [
        `ip daddr ${svcIp(i)} tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade`,
        `numgen random mod 2 vmap { 0 : goto ep-${i}-0, 1 : goto ep-${i}-1 }`,
      ],
    })
    for (const k of [0, 1])
      chains.push({
        name: `ep-${i}-${k}`,
        rules: [`ip saddr ${epIp(i, k)} jump mark-for-masquerade`, `meta l4proto tcp dnat to ${epIp(i, k)}:8080`],
      })
  }
  return {
    tables: [
      {
        family: "ip",
        name: "kube-proxy",
        sets: [
          { name: "cluster-ips", type: "ipv4_addr", elements: Array.from({ length: n }, (_, i) => svcIp(i)) },
          {
            name: "service-ips",
            type: "ipv4_addr . inet_proto . inet_service",
            map: "verdict",
            elements: serviceIps,
          },
        ],
        chains,
      },
    ],
  }
}

/** The same ruleset as one `nft -f` file (for comparison). */
export function kubeProxyNftText(n: number): string {
  const t = kubeProxyRuleset(n).tables[0]!
  const out = ["table ip kube-proxy {"]
  out.push(
    "  set cluster-ips {",
    "    type ipv4_addr",
    `    elements = { ${(t.sets[0]!.elements as string[]).join(", ")} }`,
    "  }",
  )
  const map = Object.entries(t.sets[1]!.elements as Record<string, string>).map(([k, val]) => `${k} : ${val}`)
  out.push(
    "  map service-ips {",
    "    type ipv4_addr . inet_proto . inet_service : verdict",
    `    elements = { ${map.join(", ")} }`,
    "  }",
  )
  for (const c of t.chains as { name: string; type?: string; hook?: string; priority?: string; rules: string[] }[]) {
    out.push(`  chain ${c.name} {`)
    if (c.hook) out.push(`    type ${c.type} hook ${c.hook} priority ${c.priority}; policy accept;`)
    for (const r of c.rules) out.push(`    ${r}`)
    out.push("  }")
  }
  out.push("}")
  return `${out.join("\n")}\n`
}

if (import.meta.main) {
  assertNotInitialNetns("the kube-proxy example")
  const ns = Netns.create()
  const loop = createReconciler({
    source: createNftSource({ netns: ns }),
    desired: v.parse(NftDesiredSchema, kubeProxyRuleset(Number(process.argv[2] ?? 3))),
    ownership: { tables: [{ family: "ip", name: "kube-proxy" }] },
  })
  const first = await loop.start()
  console.log(`converged: ${first.converged}, ${first.applied.length} ops in one transaction`)
  console.log(ns.run(() => Bun.spawnSync(["nft", "list", "ruleset"]).stdout.toString()))
  await loop.stop()
  ns.close()
}
