// @linx/source-sysctl against the real kernel, in fresh namespaces, cross-checked with
// `sysctl -n` run inside them.
import { describe, expect, test } from "bun:test"
import { createReconciler } from "@linx/reconcile"
import { createSysctlSource, SysctlDesiredSchema } from "@linx/source-sysctl"
import * as v from "valibot"
import { freshNetns, type TestNetns } from "./netns.ts"

const sysctl = (t: TestNetns, key: string) => t.sh("sysctl", "-n", key).trim().split(/\s+/).join(" ")
const parse = (x: unknown) => v.parse(SysctlDesiredSchema, x)

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error("timed out")
    await Bun.sleep(2)
  }
}

describe("sysctl source on the kernel", () => {
  test("sets forwarding, a per-interface rp_filter and the port range in its own namespace only", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "add", "sy0", "type", "veth", "peer", "name", "sy1")
    const mine = { fwd: sysctl(t, "net.ipv4.ip_forward") }
    const outside = {
      fwd: Bun.spawnSync(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.toString().trim(),
      range: Bun.spawnSync(["sysctl", "-n", "net.ipv4.ip_local_port_range"]).stdout.toString().trim(),
    }
    expect(mine.fwd).toBe("0")
    const source = createSysctlSource({ netns: t.ns })
    const d = parse({
      "net.ipv4.ip_forward": 1,
      "net.ipv4.conf.sy0.rp_filter": 2,
      "net/ipv4/ip_local_port_range": "20000 40000",
    })
    const report = await source.reconcile(source.diff(d, await source.observe({ desired: d })))
    expect(report.failed).toEqual([])
    expect(sysctl(t, "net.ipv4.ip_forward")).toBe("1")
    expect(sysctl(t, "net.ipv4.conf.sy0.rp_filter")).toBe("2")
    expect(sysctl(t, "net.ipv4.ip_local_port_range")).toBe("20000 40000")
    const o = await source.observe({ desired: d })
    expect(source.diff(d, o)).toEqual([])
    expect(o.values.get("net/ipv4/ip_forward")?.trim()).toBe("1")
    // the namespace this process runs in was not touched
    expect(Bun.spawnSync(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.toString().trim()).toBe(outside.fwd)
    expect(Bun.spawnSync(["sysctl", "-n", "net.ipv4.ip_local_port_range"]).stdout.toString().trim()).toBe(outside.range)
    await source.close()
  })

  test("a loop heals sysctl -w (netconf events) and applies a key when its interface appears", async () => {
    using t = freshNetns()
    const loop = createReconciler({
      source: createSysctlSource({ netns: t.ns }),
      desired: {
        "net.ipv4.ip_forward": 1,
        "net.ipv4.conf.late0.rp_filter": 2,
        "net.ipv4.ip_local_port_range": "20000 40000",
      },
      ownership: {},
      resyncMs: 500,
    })
    try {
      const first = await loop.start()
      expect(first.failed).toEqual([])
      expect(sysctl(t, "net.ipv4.ip_forward")).toBe("1")
      // forwarding has a netconf event: healed without waiting for the resync
      const t0 = Date.now()
      t.sh("sysctl", "-w", "net.ipv4.ip_forward=0")
      await until(() => sysctl(t, "net.ipv4.ip_forward") === "1")
      expect(Date.now() - t0).toBeLessThan(400)
      // the port range has no event: the resync heals it
      t.sh("sysctl", "-w", "net.ipv4.ip_local_port_range=1024 2048")
      await until(() => sysctl(t, "net.ipv4.ip_local_port_range") === "20000 40000")
      // a key of an interface that appears later
      t.sh("ip", "link", "add", "late0", "type", "veth", "peer", "name", "late1")
      await until(() => sysctl(t, "net.ipv4.conf.late0.rp_filter") === "2")
    } finally {
      await loop.stop()
    }
  })

  test("invalid keys and values are refused with clear messages", async () => {
    using t = freshNetns()
    const source = createSysctlSource({ netns: t.ns })
    const d = parse({
      "net.ipv4.no_such_key": 1,
      "net.ipv4.ip_local_port_range": "40000 20000",
      "net.ipv4.ip_forward": "yes",
    })
    const report = await source.reconcile(source.diff(d, await source.observe({ desired: d })))
    expect(report.failed.map((f) => f.error.message).sort()).toEqual([
      "no such sysctl key: net.ipv4.no_such_key (check the spelling: sysctl -a | grep no_such_key)",
      "the kernel refused net.ipv4.ip_forward=yes: out of range or wrong format (EINVAL)",
      "the kernel refused net.ipv4.ip_local_port_range=40000 20000: out of range or wrong format (EINVAL)",
    ])
    expect(sysctl(t, "net.ipv4.ip_local_port_range")).not.toBe("40000 20000")
    await source.close()
    expect(v.safeParse(SysctlDesiredSchema, { "net.ipv4.*": 1 }).success).toBe(false)
  })

  test("restoreOnRelease puts the old values back", async () => {
    using t = freshNetns()
    const before = sysctl(t, "net.ipv4.ip_local_port_range")
    const source = createSysctlSource({ netns: t.ns, restoreOnRelease: true })
    const d = parse({ "net.ipv4.ip_forward": 1, "net.ipv4.ip_local_port_range": "20000 40000" })
    await source.reconcile(source.diff(d, await source.observe({ desired: d })))
    expect(sysctl(t, "net.ipv4.ip_forward")).toBe("1")
    await source.close()
    expect(sysctl(t, "net.ipv4.ip_forward")).toBe("0")
    expect(sysctl(t, "net.ipv4.ip_local_port_range")).toBe(before)
  })
})
