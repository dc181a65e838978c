// The packed route path against the object one it replaces: a route decoded into a
// RouteTable reads back as decodeRoute reads it, and a desired record compared with an
// observed one gives routeDiffers' answer, over thousands of random pairs.
import { describe, expect, test } from "bun:test"
import { parseIp, parsePrefix } from "@linx/netlink/ip"
import { MessageWriter, parseMessages } from "@linx/netlink/wire"
import type { RouteSpec } from "../schema.ts"
import { runSteps } from "../steps.ts"
import * as c from "../wire/constants.ts"
import { decodeRoute, encodeRouteRequest, type Route, type RouteRequest } from "../wire/route.ts"
import { RouteTable } from "../wire/route-table.ts"
import { DesiredRoutes } from "./desired-index.ts"
import { observedRouteKey, routeDiffers, wantedRoute, wantedRouteKey, withRouteId } from "./model.ts"

/** A small seeded generator: a failure names its seed and replays. */
function rng(seed: number) {
  let s = seed >>> 0
  const next = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 0x100000000
  }
  return <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!
}

const LINKS: Record<number, string> = { 1: "eth0", 2: "eth1" }
const linkName = (i: number) => LINKS[i]

function randomSpec(pick: ReturnType<typeof rng>): RouteSpec {
  const six = pick([false, true])
  const s: Record<string, unknown> = {
    dst: six ? pick(["2001:db8:1::/48", "::/0", "2001:db8::1/128"]) : pick(["10.1.0.0/16", "default", "192.0.2.7/32"]),
    table: pick(["main", 100, 70000]),
  }
  if (six) s.family = "inet6"
  const m = pick([undefined, 0, 5, 1024])
  if (m !== undefined) s.metric = m
  const type = pick(["unicast", "unicast", "unicast", "blackhole"])
  s.type = type
  if (!six && pick([false, false, true])) s.tos = 8
  if (type === "unicast") {
    const via = six ? pick([undefined, "2001:db8::fe", "fe80::1"]) : pick([undefined, "10.0.0.1", "10.0.0.2"])
    if (via) s.via = via
    const dev = pick([via ? undefined : "eth0", "eth0", "eth1"])
    if (dev) s.dev = dev
    if (pick([false, false, true])) s.onlink = true
    if (pick([false, true])) s.scope = pick(["link", "global", "host"])
  }
  if (pick([false, false, true])) s.src = six ? "2001:db8::5" : pick(["10.0.0.5", "10.0.0.6"])
  if (pick([false, true])) s.mtu = pick([1400, 1500])
  if (six && pick([false, true])) s.pref = pick(["low", "medium", "high"])
  if (pick([false, false, false, true])) s.hoplimit = pick([10, 64])
  const whole = pick([0, 0, 0, 0, 1, 2])
  if (whole === 1 && type === "unicast") {
    delete s.via
    delete s.dev
    s.nexthops = [
      { via: six ? "2001:db8::fe" : "10.0.0.1", dev: "eth0" },
      { dev: "eth1", weight: pick([1, 3]) },
    ]
  } else if (whole === 2 && type === "unicast") {
    delete s.via
    delete s.dev
    s.nhid = pick([7, 8])
  }
  return s as unknown as RouteSpec
}

const bytes = (s: string) => parseIp(s)!.bytes

/** A kernel route of the wanted one's key, with random differences, as a dump message. */
function randomObserved(pick: ReturnType<typeof rng>, spec: RouteSpec): RouteRequest {
  const w = wantedRoute(spec)
  const p = parsePrefix(w.dst)!
  const six = w.family === "inet6"
  const r: RouteRequest = {
    op: "create",
    family: w.family,
    dst: p.bytes,
    dstLen: p.prefixLen,
    table: w.table,
    protocol: pick([77, 77, 77, 2]),
    scope: pick([w.scope, w.scope, w.scope, 0, 253]),
    type: pick([w.type, w.type, w.type, c.RTN_UNICAST, c.RTN_BLACKHOLE]),
    tos: w.tos,
    priority: w.priority,
    flags: pick([w.onlink ? c.RTNH_F_ONLINK : 0, 0, c.RTNH_F_ONLINK]),
    oif: pick([1, 2, 3]),
  }
  const gw = pick([w.gateway, w.gateway, undefined, six ? "2001:db8::fe" : "10.0.0.2"])
  if (gw) r.gateway = bytes(gw)
  const src = pick([w.prefsrc, w.prefsrc, undefined, six ? "2001:db8::5" : "10.0.0.5"])
  if (src) r.prefsrc = bytes(src)
  const mtu = pick([w.mtu, w.mtu, undefined, 1500])
  if (mtu !== undefined) r.mtu = mtu
  const metrics = pick([w.metrics, w.metrics, undefined, { hoplimit: 64 }])
  if (metrics) r.metrics = metrics
  if (six) r.pref = pick([w.pref ?? 0, 0, 1, 3])
  const nhid = pick([w.nhid, w.nhid, undefined, 9])
  if (nhid !== undefined) r.nhid = nhid
  if (pick([!!w.nexthops, !!w.nexthops, false, true]))
    r.multipath = [
      { oif: 1, gateway: bytes(six ? "2001:db8::fe" : "10.0.0.1"), weight: 1, flags: 0 },
      { oif: pick([2, 3]), weight: pick([1, 3]), flags: 0 },
    ]
  return r
}

/** The kernel's route for a desired one (its key and gateway). */
function observedOf(s: RouteSpec): Route {
  const w = wantedRoute(s)
  const r = {
    family: w.family,
    dst: w.dst,
    tos: w.tos,
    table: w.table,
    priority: w.priority,
    type: w.type,
    scope: w.scope,
  }
  return withRouteId({ ...r, protocol: 77, flags: 0, oif: 1, ...(w.gateway ? { gateway: w.gateway } : {}) })
}

function message(r: RouteRequest) {
  const w = new MessageWriter()
  encodeRouteRequest(w, r)
  return parseMessages(w.finish())[0]!
}

describe("packed routes", () => {
  test("a route decoded into a table reads back as decodeRoute reads it: fields, id, key", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const pick = rng(seed)
      const m = message(randomObserved(pick, randomSpec(pick)))
      const want = decodeRoute(m)
      const t = new RouteTable()
      t.add(m, () => true)
      expect({ seed, route: t.route(0) }).toEqual({ seed, route: want })
      expect(t.id(0)).toBe(want.id)
      // and the same from the object (fakes, events)
      const back = RouteTable.of([want])
      expect({ seed, route: back.route(0), id: back.id(0) }).toEqual({ seed, route: want, id: want.id })
    }
  })

  test("a desired record compared with an observed one says what routeDiffers says, in its words", () => {
    const seen = new Map<string, number>()
    for (let seed = 1; seed <= 5000; seed++) {
      const pick = rng(seed)
      const spec = randomSpec(pick)
      const m = message(randomObserved(pick, spec))
      const o: Route = decodeRoute(m)
      const t = new RouteTable()
      t.add(m, () => true)
      const d = runSteps(DesiredRoutes.build([spec]))
      expect(d.find(t.words, t.at(0))).toBe(0)
      const want = routeDiffers(wantedRoute(spec), o, linkName)
      expect({ seed, why: d.differs(0, t, 0, linkName) }).toEqual({ seed, why: want })
      seen.set(want ?? "same", (seen.get(want ?? "same") ?? 0) + 1)
    }
    // the generator reaches every answer, equal included, many times
    for (const why of [
      "same",
      "type",
      "scope",
      "via",
      "dev",
      "src",
      "mtu",
      "pref",
      "metrics",
      "onlink",
      "nexthops",
      "nhid",
    ])
      expect({ why, n: (seen.get(why) ?? 0) >= 20 }).toEqual({ why, n: true })
  })

  test("the routes through some links are those the old by-device and by-gateway index named", () => {
    const pick = rng(99)
    const specs = Array.from({ length: 3000 }, () => randomSpec(pick))
    const d = runSteps(DesiredRoutes.build(specs))
    const inPrefix = (ip: string, prefix: string) => ip.startsWith(prefix.split("/")[0]!.replace(/0+$/, ""))
    for (const [links, prefixes] of [
      [["eth0"], []],
      [["eth1"], ["10.0.0.0/24"]],
      [
        ["eth0", "eth1"],
        ["2001:db8::/64", "fe80::/64"],
      ],
      [["nothing"], ["10.0.0.0/24"]],
    ] as const) {
      // the index the diff used to build on the first link event, from resolved routes
      const want: number[] = []
      specs.forEach((s, i) => {
        const w = wantedRoute(s)
        if (!w.nexthops) {
          if (w.dev ? links.includes(w.dev as never) : w.gateway && prefixes.some((p) => inPrefix(w.gateway!, p)))
            want.push(i)
          return
        }
        const devs = w.nexthops.flatMap((n) => (n.dev ? [n.dev] : []))
        const hit = devs.length
          ? devs.some((x) => links.includes(x as never))
          : w.nexthops.some((n) => n.gateway && prefixes.some((p) => inPrefix(n.gateway!, p)))
        if (hit) want.push(i)
      })
      const got = d.onLinks(new Set(links), [...prefixes], inPrefix).sort((a, b) => a - b)
      expect({ links, got }).toEqual({ links, got: want })
      expect(want.length).toBeGreaterThan(0)
    }
  })

  test("an event's readable key finds its desired route (IPv4 with tos, IPv6 without, default routes)", () => {
    const specs = [
      { dst: "10.1.0.0/16", via: "10.0.0.1", metric: 20, tos: 8 },
      { dst: "default", via: "10.0.0.1", table: 100000 },
      { dst: "2001:db8::/64", dev: "eth0" },
      { dst: "default", via: "2001:db8::1" },
      { dst: "192.0.2.0/24", via: "10.0.0.1", metric: 5, table: 7 },
    ] as unknown as RouteSpec[]
    const d = runSteps(DesiredRoutes.build(specs))
    for (const [i, s] of specs.entries()) expect(d.findKey(wantedRouteKey(wantedRoute(s)))).toBe(i)
    const t = RouteTable.of(specs.map(observedOf))
    for (let j = 0; j < t.length; j++) expect(d.findKey(observedRouteKey(t.route(j)))).toBe(j)
    for (const k of [
      "",
      "254",
      "254 10.0.0.0/8",
      "254 10.0.0.0/8 0",
      "x 10.0.0.0/8 0 0",
      "254 nope 0 0",
      "254 ::/0 0 0",
    ])
      expect(d.findKey(k)).toBe(-1)
    expect(d.findKey("254 10.1.0.0/16 0 20")).toBe(-1) // the tos is part of the key
  })

  test("many keys in one hash: each finds its own, a later duplicate takes the place", () => {
    const specs = Array.from({ length: 50_000 }, (_, i) => ({
      dst: `10.${i >> 8}.${i & 255}.0/24`,
      via: "10.255.0.1",
      metric: i % 3,
    })) as unknown as RouteSpec[]
    specs.push({ ...specs[7]!, via: "10.255.0.2" } as RouteSpec)
    const d = runSteps(DesiredRoutes.build(specs))
    const t = RouteTable.of(specs.slice(0, 50_000).map(observedOf))
    for (let j = 0; j < t.length; j++) expect(d.find(t.words, t.at(j))).toBe(j === 7 ? 50_000 : j)
  })
})
