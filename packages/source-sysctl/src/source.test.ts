// The sysctl source on a fake /proc/sys. No root needed.
import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { keyName, keyPath, normaliseValue } from "./key.ts"
import { SysctlDesiredSchema } from "./schema.ts"
import { createSysctlSource } from "./source.ts"
import { FakeSysctlKernel } from "./testing/fake.ts"

const parse = (x: unknown) => v.parse(SysctlDesiredSchema, x)

function fake() {
  const k = new FakeSysctlKernel({
    "net/ipv4/ip_forward": "0",
    "net/ipv4/conf/all/rp_filter": "0",
    "net/ipv4/conf/eth0.100/rp_filter": "0",
    "net/ipv4/conf/v0/rp_filter": "0",
    "net/ipv4/ip_local_port_range": "32768\t60999",
    "kernel/domainname": "(none)",
  })
  k.interfaces.add("eth0.100").add("v0")
  return k
}

async function pass(source: ReturnType<typeof createSysctlSource>, d: ReturnType<typeof parse>) {
  const ops = source.diff(d, await source.observe({ desired: d }))
  return { ops: ops.map((o) => source.describe(o)), report: await source.reconcile(ops) }
}

describe("sysctl keys", () => {
  test("both spellings, interface names with dots", () => {
    expect(keyPath("net.ipv4.ip_forward")).toBe("net/ipv4/ip_forward")
    expect(keyPath("net/ipv4/ip_forward")).toBe("net/ipv4/ip_forward")
    expect(keyPath("net.ipv4.conf.eth0/100.rp_filter")).toBe("net/ipv4/conf/eth0.100/rp_filter")
    expect(keyPath("net/ipv4/conf/eth0.100/rp_filter")).toBe("net/ipv4/conf/eth0.100/rp_filter")
    expect(keyName("net/ipv4/conf/eth0.100/rp_filter")).toBe("net.ipv4.conf.eth0/100.rp_filter")
    expect(normaliseValue("20000   40000 ")).toBe("20000 40000")
    expect(normaliseValue(1)).toBe("1")
  })

  test("invalid keys and values are refused with readable issues", () => {
    const r = v.safeParse(SysctlDesiredSchema, {
      "net.ipv4.*.rp_filter": 1,
      "net.ipv4.ip_forward": 1.5,
      "net/ipv4/ip_forward": 1,
      "net..x": 1,
    })
    expect(r.success).toBe(false)
    const issues = r.success ? [] : r.issues.map((i) => `${v.getDotPath(i) ?? ""}: ${i.message}`)
    expect(issues).toContain(
      'net.ipv4.*.rp_filter: "net.ipv4.*.rp_filter" is not a sysctl key (like net.ipv4.ip_forward; no globs)',
    )
    expect(issues).toContain("net.ipv4.ip_forward: a numeric value must be an integer")
    expect(issues.some((i) => i.includes('"net..x" is not a sysctl key'))).toBe(true)
    const dup = v.safeParse(SysctlDesiredSchema, { "net.ipv4.ip_forward": 1, "net/ipv4/ip_forward": 1 })
    expect(dup.success ? [] : dup.issues.map((i) => i.message)).toEqual([
      '"net/ipv4/ip_forward" is the same key as "net.ipv4.ip_forward"',
    ])
  })
})

describe("sysctl source on a fake /proc/sys", () => {
  test("first pass sets only what differs; then diffs are empty", async () => {
    const k = fake()
    const source = createSysctlSource({ kernel: k })
    const d = parse({
      "net.ipv4.ip_forward": 1,
      "net.ipv4.conf.eth0/100.rp_filter": 2,
      "net/ipv4/ip_local_port_range": "32768 60999",
    })
    const first = await pass(source, d)
    expect(first.report.failed).toEqual([])
    expect(k.writes).toEqual([
      ["net/ipv4/ip_forward", "1"],
      ["net/ipv4/conf/eth0.100/rp_filter", "2"],
    ])
    expect((await pass(source, d)).ops).toEqual([])
  })

  test("a changed value is one op, described as sysctl -w with the old value", async () => {
    const k = fake()
    const source = createSysctlSource({ kernel: k })
    const d = parse({ "net.ipv4.ip_local_port_range": "20000 40000" })
    await pass(source, d)
    k.values.set("net/ipv4/ip_local_port_range", "1024\t2048")
    expect((await pass(source, d)).ops).toEqual([
      'sysctl -w net.ipv4.ip_local_port_range="20000 40000"  # was "1024 2048"',
    ])
  })

  test("a key of a missing interface is pending, and applied when the interface appears", async () => {
    const k = fake()
    k.values.set("net/ipv4/conf/late0/rp_filter", "0")
    const source = createSysctlSource({ kernel: k })
    const d = parse({ "net.ipv4.conf.late0.rp_filter": 2 })
    const o = await source.observe({ desired: d })
    expect([...o.pending]).toEqual(["net/ipv4/conf/late0/rp_filter"])
    expect(source.diff(d, o)).toEqual([])
    k.interfaces.add("late0")
    expect((await pass(source, d)).ops).toEqual(["sysctl -w net.ipv4.conf.late0.rp_filter=2  # was 0"])
    expect(k.values.get("net/ipv4/conf/late0/rp_filter")).toBe("2")
  })

  test("failures are classified with what to do", async () => {
    const k = fake()
    k.readOnly.add("net/ipv4/ip_forward")
    k.accepts.set("net/ipv4/conf/all/rp_filter", (v) => ["0", "1", "2"].includes(v))
    const source = createSysctlSource({ kernel: k })
    const d = parse({ "net.ipv4.ip_forward": 1, "net.ipv4.conf.all.rp_filter": 7, "net.ipv4.no_such_key": 1 })
    const { report } = await pass(source, d)
    expect(report.failed.map((f) => f.error.message)).toEqual([
      "permission denied writing net.ipv4.ip_forward: run as root (CAP_NET_ADMIN in the namespace's user namespace) or check the key is writable (EACCES)",
      "the kernel refused net.ipv4.conf.all.rp_filter=7: out of range or wrong format (EINVAL)",
      "no such sysctl key: net.ipv4.no_such_key (check the spelling: sysctl -a | grep no_such_key)",
    ])
    expect(report.failed.every((f) => (f.error as { terminal?: boolean }).terminal)).toBe(true)
  })

  test("global keys are a conflict unless allowed", async () => {
    const k = fake()
    const source = createSysctlSource({ kernel: k })
    const d = parse({ "kernel.domainname": "lab" })
    expect(source.diff(d, await source.observe({ desired: d })).map((o) => source.describe(o))).toEqual([
      "# conflict: kernel.domainname is global to the machine, not per namespace: set ownership.allowGlobalKeys to write it",
    ])
    expect(source.diff(d, await source.observe({ desired: d }), { allowGlobalKeys: true }).map((o) => o.kind)).toEqual([
      "set",
    ])
  })

  test("restoreOnRelease puts back the values found before the first write", async () => {
    const k = fake()
    const source = createSysctlSource({ kernel: k, restoreOnRelease: true })
    await pass(source, parse({ "net.ipv4.ip_forward": 1, "net.ipv4.conf.all.rp_filter": 2 }))
    expect(k.values.get("net/ipv4/ip_forward")).toBe("1")
    // a key that leaves desired state is restored
    expect((await pass(source, parse({ "net.ipv4.conf.all.rp_filter": 2 }))).ops).toEqual([
      "sysctl -w net.ipv4.ip_forward=0  # restore",
    ])
    expect(k.values.get("net/ipv4/ip_forward")).toBe("0")
    // the rest on close
    await source.close()
    expect(k.values.get("net/ipv4/conf/all/rp_filter")).toBe("0")
    expect(k.closed).toBe(true)
  })
})
