// Room is not zeroed (room.ts): the packed route tables and desired routes read the same
// when it is full of ones as when it is zeroed, so no record relies on what was there.
import { afterEach, expect, test } from "bun:test"
import * as v from "valibot"
import { ipv4PrefixNumber } from "@linx/netlink/ip"
import { poisonRoom } from "./room.ts"
import { RouteTable } from "./route-table.ts"
import type { Route } from "./route.ts"
import { DesiredRoutes } from "../route/desired-index.ts"
import { RtnlDesiredSchema } from "../schema.ts"
import { runSteps } from "../steps.ts"

afterEach(() => poisonRoom(undefined))

function routes(n: number): Route[] {
  return Array.from({ length: n }, (_, i) => {
    const six = i % 4 === 3
    const r: Route = {
      id: "", // (push reads the fields, not this)
      family: six ? "inet6" : "inet",
      dst: six ? `fd00:${i.toString(16)}::/64` : i % 5 === 0 ? "0.0.0.0/0" : `10.${i >> 8}.${i & 255}.0/24`,
      tos: 0,
      table: i % 7 === 0 ? 100 : 254,
      protocol: 77,
      scope: 0,
      type: 1,
      flags: 0,
      priority: i % 5 === 0 ? i : 0,
      oif: 2,
    }
    if (i % 3 === 0) r.gateway = six ? "fd00::1" : "10.255.0.254"
    if (i % 11 === 0) r.mtu = 1400
    return r
  })
}

/** A table grown from room for 2 (its room made four times over) and one made with room for all. */
function tables(list: Route[]): RouteTable[] {
  const small = new RouteTable(2)
  const large = new RouteTable(list.length)
  for (const r of list) {
    small.push(r)
    large.push(r)
  }
  return [small, large]
}

test("a route table reads the same from room full of ones", () => {
  const list = routes(3000)
  const clean = tables(list)
  poisonRoom(0xffffffff)
  const dirty = tables(list)
  for (let t = 0; t < 2; t++)
    for (let j = 0; j < list.length; j++) {
      expect(dirty[t]!.route(j)).toEqual(clean[t]!.route(j))
      expect(dirty[t]!.id(j)).toBe(clean[t]!.id(j))
    }
})

test("desired routes, built or packed one by one, read the same from room full of ones", () => {
  const specs = routes(3000).map((r) => ({
    dst: r.dst,
    ...(r.gateway ? { via: r.gateway } : { dev: "eth0" }),
    ...(r.table === 100 ? { table: 100 } : {}),
    ...(r.priority ? { metric: r.priority } : {}),
  }))
  const valid = v.parse(RtnlDesiredSchema, { routes: specs }).routes
  const make = () => {
    const packer = DesiredRoutes.packer(2)
    for (const s of valid) packer.add(s)
    // the byte reader's way: an IPv4 route by its values (route/json-list.ts)
    const byValues = DesiredRoutes.packer(2)
    for (const s of valid) {
      const prefix = ipv4PrefixNumber(s.dst)
      if (prefix < 0) byValues.add(s)
      else byValues.addIpv4(prefix, s.via, s.dev, s.table, s.metric)
    }
    return [runSteps(DesiredRoutes.build(valid)), packer.done()!, byValues.done()!]
  }
  const clean = make()
  poisonRoom(0xffffffff)
  const dirty = make()
  const observed = tables(routes(3000))[1]!
  for (let d = 0; d < 3; d++) {
    for (let i = 0; i < valid.length; i++) {
      expect(dirty[d]!.wanted(i)).toEqual(clean[d]!.wanted(i))
      expect(dirty[d]!.spec(i)).toEqual(clean[d]!.spec(i))
    }
    for (let j = 0; j < observed.length; j++)
      expect(dirty[d]!.find(observed.words, observed.at(j))).toBe(clean[d]!.find(observed.words, observed.at(j)))
  }
  // (the lookups found something: the desired keys are the observed ones)
  expect(clean[1]!.find(observed.words, observed.at(1))).toBe(1)
  expect(clean[2]!.find(observed.words, observed.at(1))).toBe(1)
})
