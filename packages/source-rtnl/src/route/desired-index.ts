// The desired routes packed for the diff: one Uint32Array record per route (the key and
// what a compare reads), and an open-addressing hash of the keys over the same words as an
// observed RouteTable's, so a full diff over a million routes looks each observed route up
// without a string or an object. Routes a record cannot say (multipath, a nexthop object,
// metrics other than mtu) are marked WHOLE and compared the slow way (routeDiffers).
import { ipv4Number, ipv4PrefixNumber, parseIp, parsePrefix } from "@linx/netlink/ip"
import type { RouteSpec } from "../schema.ts"
import { STEP_ITEMS, type Steps } from "../steps.ts"
import * as c from "../wire/constants.ts"
import {
  GATEWAY6,
  HAS_GATEWAY,
  HAS_MTU,
  HAS_NHID,
  HAS_PREF,
  HAS_PREFSRC,
  KEY_WORDS,
  PREFSRC6,
  putBytes,
  R_FLAGS,
  R_GATEWAY,
  R_KIND,
  R_MTU,
  R_OIF,
  R_PREFSRC,
  type RouteTable,
  WHOLE,
} from "../wire/route-table.ts"
import { routeDiffers, type WantedRoute, wantedRoute } from "./model.ts"
import { type Grouped, groupPositions, hashKey, sameIp, sameKey } from "./records.ts"

// a desired record: the key's words as in an observed record (head, table, priority, dst)
const D_KIND = 7 // scope | type << 8 | pref << 16
const D_BITS = 8 // HAS_* bits as an observed record's, and these:
const ONLINK = 256
const HAS_DEV = 512
/** gateway and prefsrc: ids in the address table (next hops repeat: a full table has a few) */
const D_GATEWAY = 9
const D_PREFSRC = 10
const D_MTU = 11
const D_DEV = 12
const RECORD = 13

export class DesiredRoutes {
  readonly #specs: readonly RouteSpec[]
  readonly #w: Uint32Array
  /** position + 1 by hash; 0 = empty */
  readonly #slots: Int32Array
  readonly #mask: number
  /** device names, by the id in D_DEV */
  readonly #devs: string[] = []
  /** addresses (gateways, sources) by id: 4 words each, an IPv4 one in the first */
  #addrs = new Uint32Array(64)
  /** the same addresses' text, by id */
  readonly #addrTexts: string[] = []
  /** positions of the multipath routes: the only ones whose devices a record does not hold */
  readonly #multipath: number[] = []
  /** what link scopes look up, made on the first one */
  #byLink: { dev: Grouped; gateway: Grouped } | undefined
  readonly #scratch = new Uint32Array(KEY_WORDS)

  private constructor(specs: readonly RouteSpec[]) {
    this.#specs = specs
    this.#w = new Uint32Array(Math.max(1, specs.length) * RECORD)
    let size = 16
    while (size < specs.length * 2) size *= 2
    this.#slots = new Int32Array(size)
    this.#mask = size - 1
  }

  /** Packs `specs` in steps of STEP_ITEMS (a million routes let the event loop in). */
  static *build(specs: readonly RouteSpec[]): Steps<DesiredRoutes> {
    const d = new DesiredRoutes(specs)
    const ids = { devs: new Map<string, number>(), addrs: new Map<string, number>() }
    for (let i = 0; i < specs.length; i++) {
      if (i % STEP_ITEMS === STEP_ITEMS - 1) yield
      d.#pack(i, wantedRoute(specs[i]!), ids)
      d.#insert(i)
    }
    return d
  }

  /** The id of an address (text) in the address table, added when new. */
  #addr(text: string, ids: Map<string, number>): number {
    let id = ids.get(text)
    if (id === undefined) {
      id = ids.size
      ids.set(text, id)
      this.#addrTexts.push(text)
      if ((id + 1) * 4 > this.#addrs.length) {
        const next = new Uint32Array(this.#addrs.length * 2)
        next.set(this.#addrs)
        this.#addrs = next
      }
      const v4 = ipv4Number(text)
      if (v4 >= 0) this.#addrs[id * 4] = v4
      else putBytes(this.#addrs, id * 4, parseIp(text)!.bytes)
    }
    return id
  }

  #devId(dev: string, ids: Map<string, number>): number {
    let id = ids.get(dev)
    if (id === undefined) {
      id = this.#devs.length
      this.#devs.push(dev)
      ids.set(dev, id)
    }
    return id
  }

  #pack(i: number, r: WantedRoute, ids: { devs: Map<string, number>; addrs: Map<string, number> }): void {
    const w = this.#w
    const at = i * RECORD
    // an IPv4 prefix without an array (a million of them)
    const v4 = r.family === "inet" ? ipv4PrefixNumber(r.dst) : -1
    const p = v4 >= 0 ? undefined : parsePrefix(r.dst)!
    const len = p ? p.prefixLen : v4 % 64
    w[at] = (r.family === "inet" ? c.AF_INET : c.AF_INET6) | (len << 8) | (r.tos << 16)
    w[at + 1] = r.table
    w[at + 2] = r.priority
    if (len > 0) {
      if (p) putBytes(w, at + 3, p.bytes)
      else w[at + 3] = Math.floor(v4 / 64)
    }
    w[at + D_KIND] = r.scope | (r.type << 8) | ((r.pref ?? 0) << 16)
    let bits = r.onlink ? ONLINK : 0
    if (r.nexthops || r.nhid !== undefined || r.metrics) bits |= WHOLE
    if (r.nexthops) this.#multipath.push(i)
    if (r.gateway !== undefined) {
      w[at + D_GATEWAY] = this.#addr(r.gateway, ids.addrs)
      bits |= HAS_GATEWAY | (r.gateway.includes(":") ? GATEWAY6 : 0)
    }
    if (r.prefsrc !== undefined) {
      w[at + D_PREFSRC] = this.#addr(r.prefsrc, ids.addrs)
      bits |= HAS_PREFSRC | (r.prefsrc.includes(":") ? PREFSRC6 : 0)
    }
    if (r.mtu !== undefined) {
      bits |= HAS_MTU
      w[at + D_MTU] = r.mtu
    }
    if (r.pref !== undefined) bits |= HAS_PREF
    if (r.dev !== undefined) {
      bits |= HAS_DEV
      w[at + D_DEV] = this.#devId(r.dev, ids.devs)
    }
    w[at + D_BITS] = bits
  }

  /** Indexes position i; a later route of the same key takes its place. */
  #insert(i: number): void {
    const w = this.#w
    const at = i * RECORD
    for (let s = hashKey(w, at) & this.#mask; ; s = (s + 1) & this.#mask) {
      const x = this.#slots[s]!
      if (x === 0 || sameKey(w, (x - 1) * RECORD, w, at)) {
        this.#slots[s] = i + 1
        return
      }
    }
  }

  /** The position of the desired route with the key at `words[at…]`, or -1. */
  find(words: Uint32Array, at: number): number {
    const w = this.#w
    for (let s = hashKey(words, at) & this.#mask; ; s = (s + 1) & this.#mask) {
      const x = this.#slots[s]!
      if (x === 0) return -1
      if (sameKey(w, (x - 1) * RECORD, words, at)) return x - 1
    }
  }

  /** The position of the desired route with this readable key ("254 10.0.0.0/8 0 0"; IPv6 without tos), or -1. */
  findKey(key: string): number {
    const parts = key.split(" ")
    const p = parsePrefix(parts[1] ?? "")
    if (!p) return -1
    const inet = p.bytes.length === 4
    if (parts.length !== (inet ? 4 : 3)) return -1
    const table = Number(parts[0])
    const tos = inet ? Number(parts[2]) : 0
    const priority = Number(parts[inet ? 3 : 2])
    if (!Number.isInteger(table) || !Number.isInteger(tos) || !Number.isInteger(priority)) return -1
    const k = this.#scratch
    k.fill(0)
    k[0] = (inet ? c.AF_INET : c.AF_INET6) | (p.prefixLen << 8) | (tos << 16)
    k[1] = table >>> 0
    k[2] = priority >>> 0
    if (p.prefixLen > 0) putBytes(k, 3, p.bytes)
    return this.find(k, 0)
  }

  get length(): number {
    return this.#specs.length
  }

  /**
   * The positions of the routes through any of `links`: naming one as their device (a
   * nexthop's too), or, naming no device, with a gateway in one of `prefixes` (the links'
   * address prefixes). Looked up in positions grouped by device and by gateway, made from
   * the records on the first link event (two walks: ~10 ms per million routes).
   */
  onLinks(
    links: ReadonlySet<string>,
    prefixes: readonly string[],
    inPrefix: (ip: string, prefix: string) => boolean,
  ): number[] {
    this.#byLink ??= this.#groupByLink()
    const { dev, gateway } = this.#byLink
    const out: number[] = []
    this.#devs.forEach((d, id) => {
      if (links.has(d)) for (let k = dev.start[id]!; k < dev.start[id + 1]!; k++) out.push(dev.positions[k]!)
    })
    if (prefixes.length)
      this.#addrTexts.forEach((a, id) => {
        if (gateway.start[id] === gateway.start[id + 1] || !prefixes.some((p) => inPrefix(a, p))) return
        for (let k = gateway.start[id]!; k < gateway.start[id + 1]!; k++) out.push(gateway.positions[k]!)
      })
    for (const i of this.#multipath) {
      const nexthops = this.wanted(i).nexthops ?? []
      const devices = nexthops.filter((n) => n.dev)
      const hit = devices.length
        ? devices.some((n) => links.has(n.dev!))
        : nexthops.some((n) => n.gateway && prefixes.some((p) => inPrefix(n.gateway!, p)))
      if (hit) out.push(i)
    }
    return out
  }

  /** Positions grouped by device id (routes naming one), and by gateway id (routes naming none). */
  #groupByLink(): { dev: Grouped; gateway: Grouped } {
    const w = this.#w
    const n = this.#specs.length
    // each route's device id, or, naming none, its gateway id (-1: neither)
    const dev = new Int32Array(n).fill(-1)
    const gateway = new Int32Array(n).fill(-1)
    for (let i = 0, at = 0; i < n; i++, at += RECORD) {
      const bits = w[at + D_BITS]!
      if (bits & HAS_DEV) dev[i] = w[at + D_DEV]!
      else if (bits & HAS_GATEWAY) gateway[i] = w[at + D_GATEWAY]!
    }
    return { dev: groupPositions(dev, this.#devs.length), gateway: groupPositions(gateway, this.#addrTexts.length) }
  }

  /** The resolved route at position i (made now: ops and slow compares only). */
  wanted(i: number): WantedRoute {
    return wantedRoute(this.#specs[i]!)
  }

  /**
   * Why observed route j of `t` differs from desired route i (same key), or undefined: what
   * routeDiffers says, in its order, read from the two records (both WHOLE-free).
   */
  differs(i: number, t: RouteTable, j: number, linkName: (index: number) => string | undefined): string | undefined {
    const w = this.#w
    const at = i * RECORD
    const o = t.words
    const ot = t.at(j)
    const bits = w[at + D_BITS]!
    const oKind = o[ot + R_KIND]!
    const oBits = oKind >>> 24
    if (bits & WHOLE || oBits & (WHOLE | HAS_NHID)) return routeDiffers(this.wanted(i), t.route(j), linkName)
    const kind = w[at + D_KIND]!
    if (((oKind >>> 8) & 0xff) !== ((kind >>> 8) & 0xff)) return "type"
    if ((oKind & 0xff) !== (kind & 0xff)) return "scope"
    const a = this.#addrs
    if (!sameIp(bits, HAS_GATEWAY, GATEWAY6, a, w[at + D_GATEWAY]! * 4, oBits, o, ot + R_GATEWAY)) return "via"
    if (bits & HAS_DEV && linkName(o[ot + R_OIF]!) !== this.#devs[w[at + D_DEV]!]) return "dev"
    if (!sameIp(bits, HAS_PREFSRC, PREFSRC6, a, w[at + D_PREFSRC]! * 4, oBits, o, ot + R_PREFSRC)) return "src"
    if ((bits & HAS_MTU) !== (oBits & HAS_MTU) || (bits & HAS_MTU && w[at + D_MTU] !== o[ot + R_MTU])) return "mtu"
    if (bits & HAS_PREF && ((oKind >>> 16) & 0xff) !== ((kind >>> 16) & 0xff)) return "pref"
    if (((o[ot + R_FLAGS]! & c.RTNH_F_ONLINK) !== 0) !== ((bits & ONLINK) !== 0)) return "onlink"
    return undefined
  }
}
