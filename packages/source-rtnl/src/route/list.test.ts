// The fast route list gives exactly what RouteSpecSchema gives: the same output for every
// route it builds itself, and the schema's own messages (with their paths) for the rest.
import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { RtnlDesiredSchema } from "../schema.ts"
import { PACK_FROM, simpleRoute } from "./list.ts"
import { isPackedRouteList } from "./packed-list.ts"
import { RouteSpecSchema } from "./schema.ts"

/** Each issue as "path: message" (the words are reconcile's; scripts/words.test.ts has them). */
function issueLines(issues: readonly v.BaseIssue<unknown>[] | undefined): string[] {
  return (issues ?? []).map((i) => `${(i.path ?? []).map((p) => String(p.key)).join(".")}: ${i.message}`)
}

const CASES: unknown[] = [
  { dst: "10.0.0.0/8", via: "10.255.0.254" },
  { dst: "10.1.2.0/24", dev: "eth0" },
  { dst: "default", via: "192.0.2.1", table: 100, metric: 50 },
  { dst: "default", via: "fe80::1", dev: "eth0" },
  { dst: "fd00::/64", via: "fd00::1", table: "main" },
  { dst: "172.16.0.1/32", via: "10.0.0.1", dev: "bench0", metric: 0 },
  // validated state validated again (the loop's start, setDesired with an earlier output)
  { dst: "10.0.0.0/8", via: "10.255.0.254", type: "unicast" },
  // each of these must go to the schema: not canonical, wrong, another key, another family
  { dst: "10.0.0.0/08", via: "10.0.0.1" },
  { dst: "10.1.2.3/16", via: "10.0.0.1" },
  { dst: "010.0.0.0/8", via: "10.0.0.1" },
  { dst: "FD00::/64", via: "fd00::1" },
  { dst: "10.0.0.0/8", via: "FE80::1" },
  { dst: "10.0.0.0/8", via: "fd00::1" },
  { dst: "10.0.0.0/8" },
  { dst: "10.0.0.0/8", dev: "a/b" },
  { dst: "10.0.0.0/8", dev: "way-too-long-name" },
  { dst: "10.0.0.0/8", via: "10.0.0.1", table: 255 },
  { dst: "10.0.0.0/8", via: "10.0.0.1", table: 0 },
  { dst: "10.0.0.0/8", via: "10.0.0.1", metric: -1 },
  { dst: "10.0.0.0/8", via: "10.0.0.1", metric: 1.5 },
  { dst: "10.0.0.0/8", via: "10.0.0.1", mtu: 1400 },
  { dst: "10.0.0.0/8", via: "10.0.0.1", mtuu: 1400 },
  { dst: "10.0.0.0/8", via: 5 },
  { dst: "10.0.0.0/8", via: "10.0.0.1", type: "blackhole" },
  { dst: "10.0.0.0/8", type: "blackhole" },
  { dst: "10.0.0.0/8", via: "10.0.0.1", type: "Unicast" },
  { dst: 7 },
  null,
  "10.0.0.0/8",
  [],
]

describe("route list", () => {
  test("each case: the same output as RouteSpecSchema, or the same issues at the same paths", () => {
    for (const c of CASES) {
      const fast = v.safeParse(RtnlDesiredSchema, { routes: [c] })
      const full = v.safeParse(v.object({ routes: v.array(RouteSpecSchema) }), { routes: [c] })
      expect(fast.success).toBe(full.success)
      if (fast.success && full.success) expect(fast.output.routes).toEqual(full.output.routes)
      else expect(issueLines(fast.issues)).toEqual(issueLines(full.issues))
    }
  })

  test("a validated list validates again by the fast path, to the same output", () => {
    const routes = Array.from({ length: 2000 }, (_, i) => ({ dst: `10.${i >> 8}.${i & 255}.0/24`, via: "10.0.0.1" }))
    const once = v.parse(RtnlDesiredSchema, { routes })
    const names = new Set<string>()
    expect(once.routes.every((r) => simpleRoute(r, names) !== undefined)).toBe(true)
    expect(v.parse(RtnlDesiredSchema, once).routes).toEqual(once.routes)
  })

  test("the fast path takes the simple canonical ones only", () => {
    const names = new Set<string>()
    expect(CASES.slice(0, 7).every((c) => simpleRoute(c, names) !== undefined)).toBe(true)
    expect(CASES.slice(7).filter((c) => simpleRoute(c, names) !== undefined)).toEqual([])
  })

  test(`a list of ${PACK_FROM} simple routes or more is kept packed, and reads as the list it was`, () => {
    // every simple form, repeated over distinct prefixes (one route per kernel key)
    const make = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const base = CASES[i % 6] as Record<string, unknown>
        const six = String(base.dst).includes(":") || String(base.via ?? "").includes(":")
        return { ...base, dst: six ? `fd00:${i.toString(16)}::/64` : `10.${i >> 8}.${i & 255}.0/24` }
      })
    const big = make(PACK_FROM)
    const small = make(PACK_FROM - 1)
    const packed = v.parse(RtnlDesiredSchema, { routes: big }).routes
    const plain = v.parse(RtnlDesiredSchema, { routes: small }).routes
    expect(isPackedRouteList(packed)).toBe(true)
    expect(isPackedRouteList(plain)).toBe(false)
    // the same items the object way gives (the shorter list is that way, item for item)
    expect(JSON.stringify(packed.slice(0, small.length))).toBe(JSON.stringify(plain))
    expect([...packed].slice(0, small.length)).toEqual([...plain])
    // validated again: passed through as it is
    expect(v.parse(RtnlDesiredSchema, { routes: packed }).routes).toBe(packed)
    // one route the fast path does not take, or two of one key: the object way, its errors
    const other = v.parse(RtnlDesiredSchema, { routes: [...big, { dst: "10.250.0.0/16", via: "10.0.0.1", mtu: 1400 }] })
    expect(isPackedRouteList(other.routes)).toBe(false)
    const twice = v.safeParse(RtnlDesiredSchema, { routes: [...big, big[0]] })
    const twiceSmall = v.safeParse(RtnlDesiredSchema, { routes: [...small.slice(0, 10), small[0]] })
    expect(twice.success).toBe(false)
    expect(issueLines(twice.issues)).toEqual(
      issueLines(twiceSmall.issues).map((l) => l.replace(/routes\.10\b/g, `routes.${PACK_FROM}`)),
    )
  })
})
