// The rtnl source on the fake kernel: diff, ordering, apply, ownership. No root needed.
import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { type RtnlDesired, RtnlDesiredSchema, type RtnlOwnership } from "./schema.ts"
import { PHASE_CHUNK } from "./apply.ts"
import { withRouteId } from "./route/model.ts"
import { createRtnlSource } from "./source.ts"
import { FakeRtnlKernel } from "./testing/fake.ts"

const HOST = {
  links: [
    { name: "br-lan", kind: "bridge", up: true, mtu: 1500 },
    { name: "lan-a", kind: "veth", peer: { name: "lan-b" }, master: "br-lan", up: true },
  ],
  addresses: [
    { link: "br-lan", address: "10.10.0.1/24" },
    { link: "br-lan", address: "fd10::1/64" },
  ],
  routes: [
    { dst: "10.20.0.0/16", via: "10.10.0.254" },
    { dst: "default", via: "10.10.0.254", table: 100, metric: 50 },
  ],
}
const OWN: RtnlOwnership = { links: ["br-lan", "lan-*"], routeProtocol: 77 }

const parse = (x: unknown): RtnlDesired => v.parse(RtnlDesiredSchema, x)

async function setup(desired = HOST, ownership = OWN) {
  const kernel = new FakeRtnlKernel()
  const source = createRtnlSource({ kernel })
  const d = parse(desired)
  const ops = source.diff(d, await source.observe(), ownership)
  const report = await source.reconcile(ops)
  return { kernel, source, d, ops, report }
}

async function plan(source: ReturnType<typeof createRtnlSource>, d: RtnlDesired, own = OWN): Promise<string[]> {
  return source.diff(d, await source.observe(), own).map((op) => source.describe(op))
}

describe("a phase of many ops", () => {
  test("is sent in batches of PHASE_CHUNK ops, and each failure still lands on its own op", async () => {
    const kernel = new FakeRtnlKernel()
    const source = createRtnlSource({ kernel })
    const count = PHASE_CHUNK * 2 + 100
    const dst = (i: number) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32`
    const d = parse({
      links: [{ name: "lan-a", kind: "veth", peer: { name: "lan-b" }, up: true }],
      routes: Array.from({ length: count }, (_, i) => ({ dst: dst(i), dev: "lan-a" })),
    })
    await source.reconcile(source.diff(parse({ links: d.links }), await source.observe(), OWN))
    const observed = await source.observe()
    const ops = source.diff(d, observed, OWN)
    // another agent adds three of them after the look: one in each batch
    const theirs = [5, PHASE_CHUNK + 7, count - 1]
    const oif = kernel.links().find((l) => l.name === "lan-a")!.index
    for (const i of theirs)
      kernel.routeTable.push(
        withRouteId({
          family: "inet",
          dst: dst(i),
          tos: 0,
          table: 254,
          protocol: 99,
          scope: 253,
          type: 1,
          flags: 0,
          priority: 0,
          oif,
        }),
      )
    let sends = 0
    const send = kernel.send.bind(kernel)
    kernel.send = (requests) => {
      sends++
      expect(requests.length).toBeLessThanOrEqual(PHASE_CHUNK)
      return send(requests)
    }
    const report = await source.reconcile(ops, observed)
    expect(sends).toBe(3)
    expect(report.applied.length).toBe(count - theirs.length)
    expect(report.failed.map((f) => source.describe(f.op))).toEqual(
      theirs.map((i) => `ip route add ${dst(i)} dev lan-a proto 77`),
    )
    expect(report.failed.every((f) => f.error.message.includes("appeared after the look"))).toBe(true)
  })
})

describe("rtnl source on the fake kernel", () => {
  test("applies a desired state in dependency order and converges in one pass", async () => {
    const { source, d, ops, report, kernel } = await setup()
    expect(ops.map((o) => source.describe(o))).toEqual([
      "ip link add br-lan group 77 type bridge; ip link set dev br-lan mtu 1500 up",
      "ip link add lan-a group 77 type veth peer name lan-b; ip link set dev lan-a master br-lan up",
      "ip addr add 10.10.0.1/24 dev br-lan proto 77",
      "ip addr add fd10::1/64 dev br-lan proto 77",
      "ip route add 10.20.0.0/16 via 10.10.0.254 proto 77",
      "ip route add default via 10.10.0.254 table 100 metric 50 proto 77",
    ])
    expect(report.failed).toEqual([])
    expect(report.applied.length).toBe(6)
    expect(await plan(source, d)).toEqual([])
    const lanA = kernel.linkByName("lan-a")!
    expect(lanA.masterIndex).toBe(kernel.linkByName("br-lan")!.index)
    expect(kernel.linkByName("lan-b")?.up).toBe(true) // the peer follows its pair's up
  })

  test("diff is deterministic and a state diffed with itself is empty", async () => {
    const kernel = new FakeRtnlKernel()
    const source = createRtnlSource({ kernel })
    const d = parse(HOST)
    const obs = await source.observe()
    expect(source.diff(d, obs, OWN)).toEqual(source.diff(d, obs, OWN))
    await source.reconcile(source.diff(d, obs, OWN))
    const after = await source.observe()
    expect(source.diff(d, after, OWN)).toEqual([])
  })

  test("a changed attribute gives only the minimal op", async () => {
    const { source } = await setup()
    const mtu = parse({ ...HOST, links: [{ ...HOST.links[0], mtu: 9000 }, HOST.links[1]] })
    expect(await plan(source, mtu)).toEqual(["ip link set dev br-lan mtu 9000  # was mtu 1500"])
    const via = parse({ ...HOST, routes: [{ dst: "10.20.0.0/16", via: "10.10.0.253" }, HOST.routes[1]] })
    expect(await plan(source, via)).toEqual(["ip route replace 10.20.0.0/16 via 10.10.0.253 proto 77  # via differs"])
  })

  test("a route metric change adds the new route and deletes the old one", async () => {
    const { source, kernel } = await setup()
    const d = parse({ ...HOST, routes: [{ dst: "10.20.0.0/16", via: "10.10.0.254", metric: 10 }, HOST.routes[1]] })
    const ops = source.diff(d, await source.observe(), OWN)
    expect(ops.map((o) => source.describe(o))).toEqual([
      "ip route del 10.20.0.0/16 via 10.10.0.254 dev br-lan metric 0 proto 77",
      "ip route add 10.20.0.0/16 via 10.10.0.254 metric 10 proto 77",
    ])
    await source.reconcile(ops)
    expect(kernel.routeTable.filter((r) => r.dst === "10.20.0.0/16").map((r) => r.priority)).toEqual([10])
  })

  test("an address whose label changes is replaced (the kernel cannot change it in place)", async () => {
    const { source } = await setup()
    const d = parse({
      ...HOST,
      addresses: [{ link: "br-lan", address: "10.10.0.1/24", label: "br-lan:x" }, HOST.addresses[1]],
    })
    expect(await plan(source, d)).toEqual([
      "ip addr del 10.10.0.1/24 dev br-lan",
      "ip addr add 10.10.0.1/24 dev br-lan label br-lan:x proto 77",
    ])
  })

  test("owned objects that leave desired state are deleted; foreign ones never", async () => {
    const { source, kernel } = await setup()
    kernel.addForeignRoute({
      dst: "10.77.0.0/16",
      oif: kernel.linkByName("br-lan")!.index,
      gateway: "10.10.0.9",
      protocol: 3,
    })
    const d = parse({ links: [HOST.links[0]], addresses: [HOST.addresses[0]], routes: [] })
    const ops = await plan(source, d)
    expect(ops).toEqual([
      "ip route del 10.20.0.0/16 via 10.10.0.254 dev br-lan metric 0 proto 77",
      "ip route del default via 10.10.0.254 dev br-lan table 100 metric 50 proto 77",
      "ip addr del fd10::1/64 dev br-lan",
      "ip link del dev lan-a",
    ])
    await source.reconcile(source.diff(d, await source.observe(), OWN))
    expect(kernel.linkByName("lan-a")).toBeUndefined()
    expect(kernel.linkByName("lan-b")).toBeUndefined()
    expect(kernel.routeTable.some((r) => r.dst === "10.77.0.0/16")).toBe(true)
    expect(await plan(source, d)).toEqual([])
  })

  test("without link globs nothing is deleted; a link outside ownership is never touched", async () => {
    const { source } = await setup(HOST, { routeProtocol: 77 })
    const d = parse({ links: [HOST.links[0]], addresses: [], routes: [] })
    expect((await plan(source, d, { routeProtocol: 77 })).filter((o) => o.startsWith("ip link del"))).toEqual([])
  })

  test("a desired route that collides with a foreign one is a conflict, unless adopted", async () => {
    const { source, kernel } = await setup()
    kernel.routeTable = kernel.routeTable.filter((r) => r.dst !== "10.20.0.0/16")
    kernel.addForeignRoute({
      dst: "10.20.0.0/16",
      gateway: "10.10.0.254",
      oif: kernel.linkByName("br-lan")!.index,
      protocol: 4,
    })
    const d = parse(HOST)
    const ops = source.diff(d, await source.observe(), OWN)
    expect(ops.map((o) => source.describe(o))).toEqual([
      "# conflict: route 10.20.0.0/16 table 254 metric 0 exists with proto 4, not 77 (set ownership.adopt to take it over)",
    ])
    const report = await source.reconcile(ops)
    expect(report.applied).toEqual([])
    expect(kernel.routeTable.find((r) => r.dst === "10.20.0.0/16")?.protocol).toBe(4)
    const adopt = { ...OWN, adopt: true }
    await source.reconcile(source.diff(d, await source.observe(), adopt))
    expect(kernel.routeTable.find((r) => r.dst === "10.20.0.0/16")?.protocol).toBe(77)
  })

  test("owned links are deleted one by one, by the ifindex observed (a veth pair by one end)", async () => {
    const { source, kernel } = await setup({
      links: [
        { name: "lan-a", kind: "veth", peer: { name: "lan-b" } },
        { name: "lan-c", kind: "veth", peer: { name: "lan-d" } },
        { name: "lan-br", kind: "bridge" },
      ],
      addresses: [],
      routes: [],
    } as never)
    const before = kernel.requests.length
    const ops = source.diff(parse({}), await source.observe(), OWN)
    expect(ops.map((o) => source.describe(o))).toEqual([
      "ip link del dev lan-a",
      "ip link del dev lan-c",
      "ip link del dev lan-br",
    ])
    await source.reconcile(ops)
    expect(kernel.requests.length - before).toBe(3)
    expect([...kernel.linkTable.values()].map((l) => l.name)).toEqual(["lo"])
  })

  test("a kernel refusal is reported for its op with the kernel's message; the rest applies", async () => {
    const kernel = new FakeRtnlKernel()
    const source = createRtnlSource({ kernel })
    const d = parse({
      links: [{ name: "lan-a", kind: "veth", peer: { name: "lan-b" }, up: false }],
      addresses: [{ link: "lan-a", address: "10.1.0.1/24" }],
      routes: [
        { dst: "10.9.0.0/16", via: "10.1.0.254", onlink: true, dev: "lan-a" },
        { dst: "10.99.0.0/16", type: "blackhole" },
      ],
    })
    const report = await source.reconcile(source.diff(d, await source.observe(), OWN))
    expect(report.failed.map((f) => [source.describe(f.op), f.error.message])).toEqual([
      [
        "ip route add 10.9.0.0/16 via 10.1.0.254 dev lan-a onlink proto 77",
        'Nexthop device is not up (ENETDOWN in "ip route add 10.9.0.0/16 via 10.1.0.254 dev lan-a onlink proto 77")',
      ],
    ])
    expect(report.applied.length).toBe(3)
    expect(kernel.routeTable.some((r) => r.dst === "10.99.0.0/16")).toBe(true)
  })

  test("an unsupported link kind fails that op with the kernel's words", async () => {
    const kernel = new FakeRtnlKernel({ unsupportedKinds: ["dummy"] })
    const source = createRtnlSource({ kernel })
    const d = parse({
      links: [
        { name: "d0", kind: "dummy" },
        { name: "b0", kind: "bridge" },
      ],
    })
    const report = await source.reconcile(source.diff(d, await source.observe(), OWN))
    expect(report.failed.map((f) => f.error.message)).toEqual([
      'Unknown device type (EOPNOTSUPP in "ip link add d0 group 77 type dummy")',
    ])
    expect(kernel.linkByName("b0")).toBeDefined()
  })

  test("a missing device is a conflict, never a create", async () => {
    const kernel = new FakeRtnlKernel()
    const source = createRtnlSource({ kernel })
    const d = parse({ links: [{ name: "eth9", kind: "device", mtu: 9000 }] })
    expect(await plan(source, d)).toEqual(["# conflict: device eth9 does not exist (Linx never creates devices)"])
  })

  test("a link of the wrong kind is replaced when ours (by name or by the group marker), a conflict when not", async () => {
    const kernel = new FakeRtnlKernel()
    const source = createRtnlSource({ kernel })
    await source.reconcile(
      source.diff(parse({ links: [{ name: "lan-x", kind: "bridge" }] }), await source.observe(), OWN),
    )
    // another agent's bridge: no group marker, not named by ownership.links
    kernel.send([{ object: "link", label: "foreign", request: { op: "create", name: "other-x", kind: "bridge" } }])
    const d = parse({ links: [{ name: "lan-x", kind: "veth", peer: { name: "lan-y" } }] })
    const replaced = ["ip link del dev lan-x", "ip link add lan-x group 77 type veth peer name lan-y"]
    expect(await plan(source, d)).toEqual(replaced)
    // without link names, the group marker (77: this loop made it) still says it is ours
    expect(await plan(source, d, { routeProtocol: 77 })).toEqual(replaced)
    const foreign = parse({ links: [{ name: "other-x", kind: "veth", peer: { name: "other-y" } }] })
    expect(await plan(source, foreign, { routeProtocol: 77 })).toEqual([
      "# conflict: link other-x exists and is not this loop's (group 0, not 77): list it in ownership.links, or set ownership.adopt to take it over",
    ])
    // a foreign link of the same kind: its settings are not touched either (a desired name is not ownership)
    const sameKind = parse({ links: [{ name: "other-x", kind: "bridge", mtu: 1400, up: false }] })
    expect((await plan(source, sameKind, { routeProtocol: 77 }))[0]).toStartWith("# conflict: link other-x exists")
    // adopted: changed, and given the marker so it is recognised from now on
    expect(await plan(source, sameKind, { routeProtocol: 77, adopt: true })).toEqual([
      "ip link set dev other-x mtu 1400 group 77  # was mtu 1500, group 0",
    ])
  })

  test("a device's settings are managed when ownership.links names it, never its existence", async () => {
    const kernel = new FakeRtnlKernel()
    kernel.addDevice("eth0")
    const source = createRtnlSource({ kernel })
    const d = parse({ links: [{ name: "eth0", kind: "device", mtu: 1400 }] })
    expect(await plan(source, d, { links: ["eth0"] })).toEqual(["ip link set dev eth0 mtu 1400  # was mtu 1500"])
    expect(await plan(source, d)).toEqual([
      "# conflict: device eth0 is not this loop's: list it in ownership.links to manage its settings",
    ])
    // adopt does not reach devices: a NIC is managed only when named
    expect((await plan(source, d, { adopt: true }))[0]).toStartWith("# conflict: device eth0")
    expect(await plan(source, parse({ links: [] }), { links: ["*"] })).toEqual([])
    // loopback is the kernel's: never changed, never deleted, whatever a glob says
    expect(await plan(source, parse({ links: [{ name: "lo", kind: "device", up: false }] }))).toEqual([
      "# conflict: lo is the kernel's loopback: Linx never changes it",
    ])
  })

  test("a read-only kernel (no CAP_NET_ADMIN) fails every op with EPERM, nothing half-applied silently", async () => {
    const kernel = new FakeRtnlKernel({ readOnly: true })
    const source = createRtnlSource({ kernel })
    const report = await source.reconcile(source.diff(parse(HOST), await source.observe(), OWN))
    expect(report.applied).toEqual([])
    expect(
      report.failed.every(
        (f) => (f.error as { code?: string }).code === "EPERM" || f.error.message.includes("does not exist"),
      ),
    ).toBe(true)
  })

  test("ECMP routes compare order-insensitively", async () => {
    const d = parse({
      links: [{ name: "lan-a", kind: "veth", peer: { name: "lan-b" }, up: true }],
      addresses: [{ link: "lan-a", address: "10.1.0.1/24" }],
      routes: [{ dst: "10.30.0.0/16", nexthops: [{ via: "10.1.0.253" }, { via: "10.1.0.254", weight: 2 }] }],
    })
    const { source } = await setup(d as never)
    expect(await plan(source, d)).toEqual([])
    const swapped = parse({
      ...d,
      routes: [{ dst: "10.30.0.0/16", nexthops: [{ via: "10.1.0.254", weight: 2 }, { via: "10.1.0.253" }] }],
    })
    expect(await plan(source, swapped)).toEqual([])
  })

  test("a scoped look after a link event covers exactly the routes through that link", async () => {
    const d = parse({
      links: [
        { name: "lan-a", kind: "veth", peer: { name: "lan-b" }, up: true },
        { name: "lan-c", kind: "veth", peer: { name: "lan-d" }, up: true },
      ],
      addresses: [
        { link: "lan-a", address: "10.1.0.1/24" },
        { link: "lan-c", address: "10.2.0.1/24" },
      ],
      routes: [
        { dst: "10.11.0.0/16", via: "10.1.0.254" }, // via-only, on lan-a by its gateway
        { dst: "10.12.0.0/16", dev: "lan-a" },
        { dst: "10.21.0.0/16", via: "10.2.0.254" }, // on lan-c
      ],
    })
    const { source, kernel } = await setup(d as never)
    expect(await plan(source, d)).toEqual([])
    // someone downs lan-a: the kernel drops its IPv4 routes silently
    const lanA = kernel.linkByName("lan-a")!
    kernel.send([
      { object: "link", label: "ip link set lan-a down", request: { op: "set", index: lanA.index, up: false } },
    ])
    const routeDumpsBefore = kernel.dumps.routes
    const scoped = await source.observe({
      scope: [{ kind: "link", key: "lan-a" }, { kind: "addresses" }, { kind: "routesOnLink", key: "lan-a" }],
    })
    // a down link carries no IPv4 route: one filtered IPv6 dump, never the whole table
    expect(kernel.dumps.routes - routeDumpsBefore).toBe(1)
    expect(source.diff(d, scoped, OWN).map((o) => source.describe(o))).toEqual([
      "ip link set dev lan-a up  # was down",
      "ip route add 10.11.0.0/16 via 10.1.0.254 proto 77",
      "ip route add 10.12.0.0/16 dev lan-a proto 77",
    ])
    await source.reconcile(source.diff(d, scoped, OWN))
    expect(await plan(source, d)).toEqual([])
  })

  test("with tables, route dumps ask the kernel for those tables only", async () => {
    const kernel = new FakeRtnlKernel()
    kernel.addForeignRoute({ dst: "10.1.0.0/16", table: 254, type: 6 })
    kernel.addForeignRoute({ dst: "10.2.0.0/16", table: 100, type: 6 })
    const source = createRtnlSource({ kernel, tables: [100] })
    const o = await source.observe()
    expect(o.routes!.toArray().map((r) => r.dst)).toEqual(["10.2.0.0/16"])
  })
})
