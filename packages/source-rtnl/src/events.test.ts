// Events → scoped observe → heal, on the fake kernel (which sends hints as rtnetlink
// would), and what apply does with deletes that find nothing. No root needed.
import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { type RtnlDesired, RtnlDesiredSchema, type RtnlOwnership } from "./schema.ts"
import type { RtnlHint } from "./scope.ts"
import { createRtnlSource } from "./source.ts"
import { FakeRtnlKernel } from "./testing/fake.ts"

const OWN: RtnlOwnership = { links: ["lan-*"], routeProtocol: 77 }
const D: RtnlDesired = v.parse(RtnlDesiredSchema, {
  links: [{ name: "lan-a", kind: "veth", peer: { name: "lan-b" }, up: true }],
  addresses: [{ link: "lan-a", address: "10.1.0.1/24" }],
  routes: [{ dst: "10.2.0.0/16", via: "10.1.0.254" }],
})

async function converged() {
  const kernel = new FakeRtnlKernel()
  const source = createRtnlSource({ kernel })
  const seen = await source.observe({ desired: D, ownership: OWN })
  await source.reconcile(source.diff(D, seen, OWN), seen)
  return { kernel, source }
}

/** Subscribes, runs `change`, and returns the hint that came out of it. */
async function hintAfter(source: ReturnType<typeof createRtnlSource>, change: () => void): Promise<RtnlHint> {
  const hints: RtnlHint[] = []
  using _sub = source.subscribe((h) => hints.push(h))
  change()
  await Bun.sleep(0)
  expect(hints.length).toBe(1)
  return hints[0]!
}

describe("rtnl events on the fake kernel", () => {
  test("a deleted route: the hint carries the event, the scoped look needs no route dump, one op heals it", async () => {
    const { kernel, source } = await converged()
    const hint = await hintAfter(source, () => kernel.deleteRoute("10.2.0.0/16"))
    expect(hint.scope).toEqual([{ kind: "route", key: "254 10.2.0.0/16 0 0", event: null }])
    const dumps = kernel.dumps.routes
    const scoped = await source.observe({ desired: D, ownership: OWN, scope: hint.scope! })
    expect(kernel.dumps.routes).toBe(dumps)
    const ops = source.diff(D, scoped, OWN)
    expect(ops.map((o) => source.describe(o))).toEqual(["ip route add 10.2.0.0/16 via 10.1.0.254 proto 77"])
    const echo = await hintAfter(source, () => void source.reconcile(ops, scoped))
    // our own write comes back as an event carrying the route: the next look, from the event alone, is clean
    const after = await source.observe({ desired: D, ownership: OWN, scope: echo.scope! })
    expect(kernel.dumps.routes).toBe(dumps)
    expect(after.routes?.toArray().map((r) => r.dst)).toEqual(["10.2.0.0/16"])
    expect(source.diff(D, after, OWN)).toEqual([])
  })

  test("a foreign route replacing ours: the event's content is what the diff compares", async () => {
    const { kernel, source } = await converged()
    const hint = await hintAfter(source, () => {
      kernel.deleteRoute("10.2.0.0/16")
      kernel.addForeignRoute({ dst: "10.2.0.0/16", protocol: 4, type: 6 })
    })
    const scoped = await source.observe({ desired: D, ownership: OWN, scope: hint.scope! })
    expect(source.diff(D, scoped, OWN).map((o) => source.describe(o))).toEqual([
      "# conflict: route 10.2.0.0/16 table 254 metric 0 exists with proto 4, not 77 (set ownership.adopt to take it over)",
    ])
  })

  test("a link taken down: its routes are looked at through that link, and healed", async () => {
    const { kernel, source } = await converged()
    const lanA = kernel.linkByName("lan-a")!
    const hint = await hintAfter(
      source,
      () =>
        void kernel.send([
          { object: "link", label: "ip link set lan-a down", request: { op: "set", index: lanA.index, up: false } },
        ]),
    )
    expect(hint.scope).toContainEqual({ kind: "routesOnLink", key: "lan-a" })
    const scoped = await source.observe({ desired: D, ownership: OWN, scope: hint.scope! })
    const ops = source.diff(D, scoped, OWN)
    expect(ops.map((o) => source.describe(o))).toEqual([
      "ip link set dev lan-a up  # was down",
      "ip route add 10.2.0.0/16 via 10.1.0.254 proto 77",
    ])
    await source.reconcile(ops, scoped)
    expect(source.diff(D, await source.observe({ desired: D, ownership: OWN }), OWN)).toEqual([])
  })

  test("a delete that finds nothing (someone deleted it first) counts as done, not failed", async () => {
    const { kernel, source } = await converged()
    const seen = await source.observe({ desired: D, ownership: OWN })
    const ops = source.diff(
      { links: D.links, addresses: D.addresses, routes: [], rules: [], neighbors: [], fdb: [], nexthops: [] },
      seen,
      OWN,
    )
    expect(ops.map((o) => source.describe(o))).toEqual([
      "ip route del 10.2.0.0/16 via 10.1.0.254 dev lan-a metric 0 proto 77",
    ])
    kernel.deleteRoute("10.2.0.0/16") // gone between observe and apply
    const report = await source.reconcile(ops, seen)
    expect(report.failed).toEqual([])
    expect(report.applied).toEqual(ops)
  })

  test("a failure keeps the kernel's error as cause, with its code and message lifted", async () => {
    const kernel = new FakeRtnlKernel({ unsupportedKinds: ["dummy"] })
    const source = createRtnlSource({ kernel })
    const d = v.parse(RtnlDesiredSchema, { links: [{ name: "d0", kind: "dummy" }] })
    const seen = await source.observe({ desired: d, ownership: OWN })
    const report = await source.reconcile(source.diff(d, seen, OWN), seen)
    const e = report.failed[0]!.error as Error & { code?: string; kernelMessage?: string; cause?: { name?: string } }
    expect([e.name, e.code, e.kernelMessage, e.cause?.name]).toEqual([
      "ApplyError",
      "EOPNOTSUPP",
      "Unknown device type",
      "NetlinkError",
    ])
  })
})
