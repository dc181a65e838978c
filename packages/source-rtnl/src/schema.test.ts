import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { formatIssues, RtnlDesiredSchema, RtnlOwnershipSchema } from "./schema.ts"
import { createRtnlSource } from "./source.ts"
import { FakeRtnlKernel } from "./testing/fake.ts"

function issues(input: unknown): string[] {
  const r = v.safeParse(RtnlDesiredSchema, input)
  return r.success ? [] : formatIssues(r.issues)
}

describe("RtnlDesiredSchema", () => {
  test("accepts the README's host example and normalises addresses", () => {
    const r = v.parse(RtnlDesiredSchema, {
      links: [
        { name: "br-lan", kind: "bridge", up: true, mtu: 1500 },
        { name: "lan-a", kind: "veth", peer: { name: "lan-b" }, master: "br-lan", up: true },
      ],
      addresses: [{ link: "br-lan", address: "FD10:0::1/64" }],
      routes: [{ dst: "default", via: "10.10.0.254", table: 100, metric: 50 }],
    })
    expect(r.addresses[0]?.address).toBe("fd10::1/64")
    expect(r.routes[0]?.type).toBe("unicast")
  })

  test("every issue is reported with its path", () => {
    const out = issues({
      links: [
        { name: "this-name-is-far-too-long", kind: "bridge" },
        { name: "x0", kind: "wormhole" },
        { name: "v0", kind: "veth", peer: { name: "v1" }, mtu: 20 },
      ],
      addresses: [{ link: "br0", address: "10.0.0.300/24" }],
      routes: [{ dst: "10.1.2.3/16", via: "10.0.0.1" }],
    })
    expect(out).toContain(
      'links.0.name: "this-name-is-far-too-long" is not a valid link name (1–15 bytes, no "/", ":", spaces or control characters)',
    )
    expect(out.some((i) => i.startsWith('links.1.kind: unknown link kind "wormhole"'))).toBe(true)
    expect(out).toContain("links.2.mtu: mtu 20 is below the minimum of 68")
    expect(out).toContain(
      'addresses.0.address: "10.0.0.300/24" is not an address with prefix (10.0.0.1/24, fd00::1/64)',
    )
    expect(out).toContain("routes.0.dst: 10.1.2.3/16 has host bits set; did you mean 10.1.0.0/16?")
  })

  test("route consistency checks", () => {
    expect(issues({ routes: [{ dst: "10.0.0.0/8", via: "fd00::1" }] })).toEqual([
      "routes.0: dst, via, src and nexthops must all be IPv4 or all IPv6",
    ])
    expect(issues({ routes: [{ dst: "10.0.0.0/8", type: "blackhole", via: "10.0.0.1" }] })).toEqual([
      "routes.0: a blackhole route takes no via, dev or nexthops",
    ])
    expect(issues({ routes: [{ dst: "10.0.0.0/8" }] })).toEqual([
      "routes.0: a unicast route needs via, dev, nexthops or nhid",
    ])
    expect(issues({ routes: [{ dst: "10.0.0.0/8", nexthops: [{ via: "10.0.0.1" }] }] })).toEqual([
      "routes.0.nexthops: nexthops needs at least two entries (use via/dev for one)",
    ])
  })

  test("unknown fields and duplicates are refused", () => {
    expect(issues({ links: [{ name: "br0", kind: "bridge", mtuu: 1500 }] })[0]).toContain("links.0.mtuu")
    expect(
      issues({
        links: [
          { name: "a0", kind: "bridge" },
          { name: "a0", kind: "bridge" },
        ],
      }),
    ).toEqual(['links.1.name: link name "a0" is used twice (also links.0)'])
    expect(issues({ links: [{ name: "v0", kind: "veth", peer: { name: "v0" } }] })).toEqual([
      'links.0.peer.name: link name "v0" is used twice (also links.0)',
    ])
    expect(issues({ linkz: [] })[0]).toContain("linkz")
  })

  test("ownership schema", () => {
    expect(v.safeParse(RtnlOwnershipSchema, { links: ["c1-*"], routeProtocol: 77 }).success).toBe(true)
    const r = v.safeParse(RtnlOwnershipSchema, { routeProtocol: 2 })
    expect(r.success ? [] : formatIssues(r.issues)).toEqual(["routeProtocol: routeProtocol 0–2 are the kernel's"])
  })
})

describe("hostile and careless input (issue 12)", () => {
  test("every invalid dst is an issue with its path, never a TypeError", () => {
    for (const dst of ["10.0.0.0/33", "abc", "::/129", "", "1.2.3.4/-1", "10.0.0.0/8/8", "🙂"]) {
      expect(() => v.safeParse(RtnlDesiredSchema, { routes: [{ dst, dev: "x0" }] })).not.toThrow()
      expect(issues({ routes: [{ dst, dev: "x0" }] })[0]).toStartWith(`routes.0.dst: ${JSON.stringify(dst)} is not`)
    }
  })

  test("a NUL or any control character in a link name is refused (the kernel would truncate it)", () => {
    for (const name of ["a\0b", "tab\tx", "bell\x07", "del\x7f"])
      expect(issues({ links: [{ name, kind: "bridge" }] })[0]).toStartWith("links.0.name:")
  })

  test("two routes with the same kernel key are refused, naming both entries", () => {
    const out = issues({
      routes: [
        { dst: "10.0.0.0/8", dev: "x0" },
        { dst: "10.1.0.0/16", dev: "x0" },
        { dst: "10.0.0.0/8", type: "blackhole" },
        { dst: "default", via: "fd00::1" },
        { dst: "default", family: "inet6", dev: "x0", metric: 1024 },
      ],
    })
    expect(out).toEqual([
      "routes.2.dst: routes.0 and routes.2 are the same route to the kernel (10.0.0.0/8, table main, metric 0): one would replace the other every pass",
      "routes.4.dst: routes.3 and routes.4 are the same route to the kernel (default, table main, metric 1024): one would replace the other every pass",
    ])
    // a different metric or table is a different route
    expect(
      issues({
        routes: [
          { dst: "10.0.0.0/8", dev: "x0" },
          { dst: "10.0.0.0/8", dev: "x0", metric: 5 },
          { dst: "10.0.0.0/8", dev: "x0", table: 7 },
        ],
      }),
    ).toEqual([])
  })

  test("the kernel's local table is refused in desired routes and in ownership", () => {
    expect(issues({ routes: [{ dst: "10.0.0.0/8", dev: "x0", table: 255 }] })).toEqual([
      "routes.0.table: table 255 is the kernel's local table (the local and broadcast routes of addresses): Linx never writes or owns it",
    ])
    const own = v.safeParse(RtnlOwnershipSchema, { tables: [255] })
    expect(own.success).toBe(false)
  })

  test("a huge bad value is echoed at most 64 characters", () => {
    const huge = "x".repeat(10_000_000)
    const out = issues({ links: [{ name: huge, kind: "bridge" }], routes: [{ dst: huge, dev: "x0" }] })
    expect(out.length).toBe(2)
    for (const line of out) expect(line.length).toBeLessThan(200)
  })

  test("a million desired routes validate and diff without a stack overflow", async () => {
    const routes = Array.from({ length: 1_000_000 }, (_, i) => ({
      dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`,
      dev: "x0",
    }))
    const desired = v.parse(RtnlDesiredSchema, { routes })
    const source = createRtnlSource({ kernel: new FakeRtnlKernel() })
    const ops = source.diff(desired, await source.observe({ desired, ownership: {} }), {})
    expect(ops.length).toBe(1_000_000)
  }, 60_000)
})
