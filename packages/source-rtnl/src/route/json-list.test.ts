// A route list read packed from JSON bytes is the list JSON.parse and the schema make: the
// same items (key for key, in order), the same packed records for the diff, and every
// list it cannot say exactly is given up (the caller then reads it the usual way).
import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { RtnlDesiredSchema, type RouteSpec } from "../schema.ts"
import { DesiredRoutes } from "./desired-index.ts"
import { scanRouteList } from "./json-list.ts"
import { runSteps } from "../steps.ts"
import { packedRouteList, packedRoutes } from "./packed-list.ts"
import { wantedRoute } from "./model.ts"
import { diffRoutes, PackedRouteCreate } from "./diff.ts"
import { RouteTable } from "../wire/route-table.ts"
import { describeRouteOp } from "./describe.ts"
import { TextBytes } from "@linx/netlink/ip"
import { resolveOwnership } from "../ownership.ts"

const bytes = (s: string) => new TextEncoder().encode(s)

/** What the usual way makes of the list: JSON.parse, then the whole desired schema. */
function usual(text: string): RouteSpec[] | undefined {
  const r = v.safeParse(RtnlDesiredSchema, { routes: JSON.parse(text) })
  return r.success ? (r.output.routes as RouteSpec[]) : undefined
}

function random(seed: number): () => number {
  let s = seed
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return s / 2 ** 32
  }
}

/** Simple routes of every form: IPv4 and IPv6 prefixes, default, via and/or dev, table, metric, type. */
function randomRoutes(n: number, seed: number): Record<string, unknown>[] {
  const r = random(seed)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!
  const out: Record<string, unknown>[] = []
  for (let i = 0; i < n; i++) {
    const six = r() < 0.25
    const len = six ? pick([0, 48, 64, 128]) : pick([0, 8, 16, 24, 32])
    const route: Record<string, unknown> = {}
    if (len === 0) route.dst = r() < 0.5 ? "default" : six ? "::/0" : "0.0.0.0/0"
    else if (six) route.dst = `fd${(i % 256).toString(16)}:${i.toString(16)}::/${len}`
    else {
      const a = ((10 << 24) | (i << 8)) >>> 0
      const masked = len === 32 ? a : (a >>> (32 - len)) << (32 - len)
      route.dst = `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`
    }
    const v6 = six || (route.dst === "default" && r() < 0.3)
    if (r() < 0.8) route.via = v6 ? pick(["fd00::1", "fe80::1"]) : pick(["10.255.0.254", "192.0.2.1"])
    if (route.dst === "default" && !route.via) route.via = "10.0.0.1"
    else if (!route.via || r() < 0.5) route.dev = pick(["eth0", "bench0", "a.b-c"])
    if (r() < 0.2) route.table = pick(["main", 100, 254, 4294967295])
    if (r() < 0.2) route.metric = pick([0, 5, 1024, 4294967295])
    if (r() < 0.1) route.type = "unicast"
    out.push(route)
  }
  // one route per kernel key: the later of two the same is dropped here (the schema refuses them)
  const seen = new Set<string>()
  return out.filter((x) => {
    const w = wantedRoute(v.parse(RtnlDesiredSchema, { routes: [x] }).routes[0]!)
    const k = `${w.family} ${w.table} ${w.dst} ${w.priority}`
    return !seen.has(k) && !!seen.add(k)
  })
}

describe("a route list read packed from JSON bytes", () => {
  test("is the list the schema makes, item for item and key for key, over 4,000 random routes", () => {
    const routes = randomRoutes(4000, 7)
    // compact, and spaced as JSON.stringify(x, null, 2) writes it
    for (const text of [JSON.stringify(routes), JSON.stringify(routes, null, 2)]) {
      const b = bytes(`  ${text}  ,`)
      const got = scanRouteList(b, 0)!
      expect(got).toBeDefined()
      expect(b[got.end]).toBe(32) // after the list's "]"
      const want = usual(text)!
      expect(got.list.length).toBe(want.length)
      expect(JSON.stringify(got.list)).toBe(JSON.stringify(want))
      expect([...got.list]).toEqual(want)
    }
  })

  test("packs the records the diff reads as the usual list packs them", () => {
    const routes = randomRoutes(3000, 11)
    const text = JSON.stringify(routes)
    const packed = packedRoutes(scanRouteList(bytes(text), 0)!.list) as DesiredRoutes
    const want = usual(text)!
    const built = runSteps(DesiredRoutes.build(want))
    expect(packed.length).toBe(built.length)
    const table = new RouteTable()
    for (let i = 0; i < want.length; i++) {
      // the resolved route from the record is wantedRoute's, and each key is found where the usual index has it
      expect(packed.wanted(i)).toEqual(wantedRoute(want[i]!))
      table.push({ ...withKernelFields(packed.wanted(i)) })
    }
    for (let j = 0; j < table.length; j++)
      expect(packed.find(table.words, table.at(j))).toBe(built.find(table.words, table.at(j)))
  })

  test("a diff over it is the usual diff: creates that read their route when asked, the same text", () => {
    const routes = randomRoutes(500, 3)
    const text = JSON.stringify(routes)
    const list = scanRouteList(bytes(text), 0)!.list
    const owner = resolveOwnership({})
    const fast = diffRoutes(list, [], () => undefined, owner).ops
    const slow = diffRoutes(usual(text)!, [], () => undefined, owner).ops
    expect(fast.length).toBe(slow.length)
    expect(fast.every((op) => op instanceof PackedRouteCreate)).toBe(true)
    expect(JSON.parse(JSON.stringify(fast))).toEqual(JSON.parse(JSON.stringify(slow)))
    for (let i = 0; i < fast.length; i++) expect(fast[i]!.route).toEqual(slow[i]!.route)
  })

  test("a create writes as bytes the text describeRouteOp gives the usual one, over 4,000 random routes", () => {
    const routes = randomRoutes(4000, 11)
    const text = JSON.stringify(routes)
    const list = scanRouteList(bytes(text), 0)!.list
    for (const protocol of [77, 0, 255]) {
      const owner = resolveOwnership({ routeProtocol: protocol })
      const fast = diffRoutes(list, [], () => undefined, owner).ops as PackedRouteCreate[]
      const slow = diffRoutes(usual(text)!, [], () => undefined, owner).ops
      // chunks of 64 bytes: lines cut anywhere between two chunks
      const chunks: string[] = []
      const out = new TextBytes((c) => void chunks.push(Buffer.from(c).toString("latin1")), 64)
      for (const op of fast) {
        out.text("<")
        op.describeInto(out)
      }
      out.end()
      expect(chunks.every((c) => c.length <= 64)).toBe(true)
      expect(chunks.join("")).toBe(slow.map((op) => `<${describeRouteOp(op)}`).join(""))
    }
    // from the record, not from a route made for it (a list with specs has none to write from)
    const d = packedRoutes(list) as DesiredRoutes
    const sink = new TextBytes(() => {})
    for (let i = 0; i < d.length; i++) expect(d.describeCreate(sink, i, 77)).toBe(true)
    const built = runSteps(DesiredRoutes.build(usual(text)!))
    expect(built.describeCreate(sink, 0, 77)).toBe(false)
  })

  test("gives up on every list it cannot say exactly (the usual way then says it)", () => {
    const give = [
      '[{"dst":"10.0.0.0/8","via":"10.0.0.\\u0031"}]', // an escape
      '[{"dst":"10.0.0.0/8","dev":"eth\\u0030"}]', // one whose raw text is a valid name too
      '[{"dst":"10.0.0.0/8","dev":"é0"}]', // not ASCII
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","via":"10.0.0.2"}]', // a key twice
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","mtu":1400}]', // another key
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","metric":1.5}]',
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","metric":1e3}]',
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","metric":-1}]',
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","metric":99999999999}]',
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","metric":007}]',
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","metric":"5"}]',
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","table":255}]',
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","type":"blackhole"}]',
      '[{"dst":"10.0.0.0/8","via":null}]',
      '[{"dst":"10.0.0.0/8","via":true}]',
      '[{"dst":"10.0.0.0/8"}]', // neither via nor dev
      '[{"via":"10.0.0.1"}]', // no dst
      "[{}]",
      '[{"dst":"10.1.2.3/8","via":"10.0.0.1"}]', // host bits
      '[{"dst":"FD00::/64","via":"fd00::1"}]', // not canonical
      '[{"dst":"10.0.0.0/8","via":"fd00::1"}]', // two families
      '[{"dst":"10.0.0.0/8","dev":"a/b"}]',
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1"},{"dst":"10.0.0.0/8","dev":"eth0"}]', // one key twice
      '[{"dst":"default","via":"10.0.0.1"},{"dst":"0.0.0.0/0","dev":"eth0"}]', // the same to the kernel
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1"},]', // trailing comma
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1"}', // unterminated
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1"} {"dst":"10.1.0.0/16","via":"10.0.0.1"}]',
      '[["10.0.0.0/8"]]',
      '{"dst":"10.0.0.0/8"}',
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1}]',
    ]
    for (const text of give) expect({ text, got: scanRouteList(bytes(text), 0) }).toEqual({ text, got: undefined })
    // and these it reads: an empty list, whitespace anywhere JSON allows it
    expect(scanRouteList(bytes("[]"), 0)!.list.length).toBe(0)
    const spaced = '\n[ {\t"dst" : "10.0.0.0/8" ,\r\n "via":"10.0.0.1" } , {"dev":"eth0","dst":"default"} ]'
    expect([...scanRouteList(bytes(spaced), 0)!.list]).toEqual(usual(spaced)!)
  })
})

test("the packer grows past the room it was given, each route kept", () => {
  const p = DesiredRoutes.packer(1)
  for (let i = 0; i < 5000; i++) p.addIpv4((((10 << 24) | (i << 8)) >>> 0) * 64 + 24, "10.255.0.254", "eth0")
  const d = p.done()!
  expect(d.length).toBe(5000)
  for (const i of [0, 1, 2, 4095, 4999]) {
    expect(d.spec(i)).toEqual({
      dst: `10.${i >> 8}.${i & 255}.0/24`,
      via: "10.255.0.254",
      dev: "eth0",
      type: "unicast",
    })
    expect(d.findKey(`254 10.${i >> 8}.${i & 255}.0/24 0 0`)).toBe(i)
  }
})

describe("a packed list", () => {
  const list = scanRouteList(
    bytes('[{"dst":"10.0.0.0/8","via":"10.0.0.1","table":"main","metric":0},{"dst":"fd00::/64","dev":"eth0"}]'),
    0,
  )!.list

  test("reads as the array the schema makes", () => {
    expect(Array.isArray(list)).toBe(true)
    expect(list.length).toBe(2)
    expect(list[1]).toEqual({ dst: "fd00::/64", dev: "eth0", type: "unicast" })
    expect(list[2]).toBeUndefined()
    expect(1 in list).toBe(true)
    expect(2 in list).toBe(false)
    expect(Object.keys(list)).toEqual(["0", "1"])
    expect(list.map((r) => r.dst)).toEqual(["10.0.0.0/8", "fd00::/64"])
    expect(list.at(-1)?.dev).toBe("eth0")
    expect(JSON.stringify(list)).toBe(
      '[{"dst":"10.0.0.0/8","via":"10.0.0.1","table":"main","metric":0,"type":"unicast"},{"dst":"fd00::/64","dev":"eth0","type":"unicast"}]',
    )
    // and validates again as it is (the loop's start validates what it was given)
    expect(v.parse(RtnlDesiredSchema, { routes: list as unknown as RouteSpec[] }).routes).toBe(
      list as unknown as RouteSpec[],
    )
  })

  test("refuses writes", () => {
    expect(() => {
      ;(list as unknown as RouteSpec[])[0] = { dst: "10.9.0.0/16", via: "10.0.0.1" } as RouteSpec
    }).toThrow()
    expect(() => (list as unknown as RouteSpec[]).push({ dst: "10.9.0.0/16" } as RouteSpec)).toThrow()
    expect(list.length).toBe(2)
  })

  test("a list not made packed is not one", () => {
    expect(packedRoutes([])).toBeUndefined()
    expect(packedRoutes(null)).toBeUndefined()
    expect(packedRoutes(packedRouteList(packedRoutes(list)!))).toBe(packedRoutes(list))
  })
})

/** A desired route as the kernel would report it after an add (for lookups by key). */
function withKernelFields(w: ReturnType<typeof wantedRoute>) {
  return {
    id: "",
    family: w.family,
    dst: w.dst,
    tos: w.tos,
    table: w.table,
    protocol: 77,
    scope: w.scope,
    type: w.type,
    flags: 0,
    priority: w.priority,
    oif: 0,
  }
}
