// A kube-proxy-shaped ruleset (the chains, sets, verdict maps and rules of its public
// nftables proxier: services dispatched by `ip daddr . meta l4proto . th dport vmap`,
// endpoints picked by `numgen random mod N vmap`, masquerade marks) written as nft text,
// applied by a loop beside a firewalld-style table of the same family that has a chain
// of the same name; converged in one pass, healed after `nft flush chain` and `nft delete
// element`, the foreign table untouched throughout.
import { describe, expect, test } from "bun:test"
import { createReconciler } from "@linx/reconcile"
import { createNftSource, NftDesiredSchema } from "@linx/source-netfilter"
import * as v from "valibot"
import { kubeProxyNftText, kubeProxyRuleset } from "../examples/kube-proxy.ts"
import { freshNetns } from "./netns.ts"

const SERVICES = 200

const FIREWALLD = `table ip firewalld {
  chain filter_INPUT {
    type filter hook input priority filter + 10; policy accept;
    ct state established,related accept
    iifname "lo" accept
  }
  chain services {
    tcp dport 22 accept
  }
}
`

describe("a kube-proxy-shaped ruleset written as nft text", () => {
  test(`${SERVICES} services: one pass, healed after nft flush chain and nft delete element, firewalld's table untouched`, async () => {
    using t = freshNetns()
    const path = `/tmp/linx-firewalld-${process.pid}.nft`
    await Bun.write(path, FIREWALLD)
    t.sh("nft", "-f", path)
    const foreign = t.sh("nft", "list", "table", "ip", "firewalld")
    const desired = v.parse(NftDesiredSchema, kubeProxyRuleset(SERVICES))
    const loop = createReconciler({
      source: createNftSource({ netns: t.ns }),
      desired,
      ownership: { tables: [{ family: "ip", name: "kube-proxy" }] },
      resyncMs: 600_000,
    })
    try {
      const first = await loop.start()
      expect(first.failed).toEqual([])
      expect(first.converged).toBe(true)
      const plan = await loop.plan()
      expect(plan.ops).toEqual([])
      const listed = t.sh("nft", "list", "table", "ip", "kube-proxy")
      for (const line of [
        "type filter hook prerouting priority dstnat - 10; policy accept;",
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        "numgen random mod 2 vmap { 0 : goto ep-7-0, 1 : goto ep-7-1 }",
        "meta mark set meta mark | 0x00004000",
        "masquerade fully-random",
        "meta l4proto tcp dnat to 10.244.0.14:8080",
        "type ipv4_addr . inet_proto . inet_service : verdict",
        "10.96.0.7 . tcp . 80 : goto svc-7",
      ])
        expect(listed).toContain(line)
      // nft itself, given the same ruleset as one file in another namespace, lists the same table
      using ref = freshNetns()
      const refPath = `/tmp/linx-kube-proxy-${process.pid}.nft`
      await Bun.write(refPath, kubeProxyNftText(SERVICES))
      ref.sh("nft", "-f", refPath)
      expect(listed).toBe(ref.sh("nft", "list", "table", "ip", "kube-proxy"))
      const pristine = t.sh("nft", "list", "table", "ip", "kube-proxy")
      const healed = async (what: string) => {
        let now = ""
        for (let i = 0; i < 400; i++) {
          now = t.sh("nft", "list", "table", "ip", "kube-proxy")
          if (now === pristine) break
          await Bun.sleep(5)
        }
        expect(`${what}: ${now === pristine}`).toBe(`${what}: true`)
      }
      t.sh("nft", "flush", "chain", "ip", "kube-proxy", "services")
      await healed("flushed services")
      t.sh("nft", "flush", "chain", "ip", "kube-proxy", "svc-42")
      await healed("flushed svc-42")
      t.sh("nft", "delete", "element", "ip", "kube-proxy", "service-ips", "{ 10.96.0.5 . tcp . 80 }")
      await healed("deleted element")
      expect(loop.status().lastPass?.applied.join("\n")).toContain(
        "nft add element ip kube-proxy service-ips { 10.96.0.5 . tcp . 80 : goto svc-5 }",
      )
      expect(t.sh("nft", "list", "table", "ip", "firewalld")).toBe(foreign)
    } finally {
      await loop.stop()
    }
  }, 60_000)
})
