// @linx/source-sysctl vs `sysctl -p`: observe + apply 100 per-interface keys in a
// fresh namespace (20 veth ends × 5 keys), from values that all differ.
import { createSysctlSource, SysctlDesiredSchema } from "@linx/source-sysctl"
import * as v from "valibot"
import { addRatio, benchNetns, timeMedianAsync } from "./harness.ts"

const KEYS = ["rp_filter", "accept_redirects", "send_redirects", "arp_ignore", "arp_announce"]

export async function benchSysctl(): Promise<void> {
  using t = benchNetns()
  const ifaces: string[] = []
  for (let i = 0; i < 10; i++) {
    t.sh("ip", "link", "add", `sy${i}a`, "type", "veth", "peer", "name", `sy${i}b`)
    ifaces.push(`sy${i}a`, `sy${i}b`)
  }
  const target: Record<string, number> = {}
  const reset: string[] = []
  for (const ifc of ifaces) {
    for (const k of KEYS) {
      const key = `net.ipv4.conf.${ifc}.${k}`
      const now = Number(t.sh("sysctl", "-n", key).trim())
      target[key] = now === 2 ? 1 : 2
      reset.push(`${key} = ${now}`)
    }
  }
  const resetFile = `/tmp/linx-bench-sysctl-reset-${process.pid}.conf`
  const targetFile = `/tmp/linx-bench-sysctl-target-${process.pid}.conf`
  await Bun.write(resetFile, `${reset.join("\n")}\n`)
  await Bun.write(
    targetFile,
    `${Object.entries(target)
      .map(([k, val]) => `${k} = ${val}`)
      .join("\n")}\n`,
  )
  const desired = v.parse(SysctlDesiredSchema, target)
  const source = createSysctlSource({ netns: t.ns })
  source.diff(desired, await source.observe()) // learn the keys, as a running loop has
  const doReset = () => void t.sh("sysctl", "-q", "-p", resetFile)
  const ours = await timeMedianAsync(
    async () => {
      const ops = source.diff(desired, await source.observe())
      if (ops.length !== 100) throw new Error(`expected 100 ops, got ${ops.length}`)
      const r = await source.reconcile(ops)
      if (r.failed.length) throw new Error(r.failed[0]!.error.message)
    },
    7,
    doReset,
  )
  await source.close()
  const base = await timeMedianAsync(async () => void t.sh("sysctl", "-q", "-p", targetFile), 7, doReset)
  addRatio("sysctl: observe + apply 100 keys", ours, base, "sysctl -p", 1.0)
}
