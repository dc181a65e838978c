import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { formatIssues, RtnlDesiredSchema, RtnlOwnershipSchema } from "./schema.ts"

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
      'links.0.name: "this-name-is-far-too-long" is not a valid link name (1–15 characters, no "/", ":" or spaces)',
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
      "routes.0: a unicast route needs via, dev or nexthops",
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
