import { describe, expect, test } from "bun:test"
import { observedRouteKey, routeIdOfKey, wantedRoute, wantedRouteKey, withRouteId } from "./model.ts"

describe("a route's readable key and its packed id", () => {
  test("an event's key finds the route's packed id (IPv4 with tos, IPv6 without, default routes)", () => {
    const base = { tos: 0, protocol: 77, scope: 0, type: 1, flags: 0, oif: 2 }
    for (const r of [
      withRouteId({ ...base, family: "inet", dst: "10.1.0.0/16", table: 254, priority: 20, tos: 8 }),
      withRouteId({ ...base, family: "inet", dst: "0.0.0.0/0", table: 100000, priority: 0 }),
      withRouteId({ ...base, family: "inet6", dst: "2001:db8::/64", table: 254, priority: 1024 }),
      withRouteId({ ...base, family: "inet6", dst: "::/0", table: 254, priority: 1024 }),
    ])
      expect(routeIdOfKey(observedRouteKey(r))).toBe(r.id)
    const w = wantedRoute({ dst: "192.0.2.0/24", via: "10.0.0.1", metric: 5, table: 7 } as never)
    expect(routeIdOfKey(wantedRouteKey(w))).toBe(w.id)
  })

  test("anything else is no id", () => {
    for (const k of [
      "",
      "254",
      "254 10.0.0.0/8",
      "254 10.0.0.0/8 0",
      "x 10.0.0.0/8 0 0",
      "254 nope 0 0",
      "254 ::/0 0 0",
    ])
      expect(routeIdOfKey(k)).toBeUndefined()
  })
})
