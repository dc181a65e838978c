// The desired routes packed for the diff: one Uint32Array record per route (the key and
// what a compare reads), and an open-addressing hash of the keys over the same words as an
// observed RouteTable's, so a full diff over a million routes looks each observed route up
// without a string or an object. Routes a record cannot say (multipath, a nexthop object,
// metrics other than mtu) are marked WHOLE and compared the slow way (routeDiffers).
import { ipv4PrefixNumber, parsePrefix, type TextBytes } from "@linx/netlink/ip"
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
import { roomWords } from "../wire/room.ts"
import { defaultScope, routeDiffers, type WantedRoute, wantedRoute } from "./model.ts"
import { defaultMetric, type RouteSpec, tableNumber } from "./schema.ts"
import { recordSpec, recordWanted, writeRouteAdd } from "./record-read.ts"
import {
  D_BITS,
  D_DEV,
  D_GATEWAY,
  D_KIND,
  D_MTU,
  D_PREFSRC,
  type Grouped,
  groupPositions,
  HAS_DEV,
  hashKey,
  hashSlots,
  IdTables,
  keyWords,
  ONLINK,
  RECORD,
  SAID_DEFAULT,
  SAID_MAIN,
  SAID_METRIC,
  SAID_TABLE,
  sameIp,
  sameKey,
} from "./records.ts"

/** Packs simple routes one by one (DesiredRoutes.packer): add takes one of the simple shape, validated. */
export interface SimplePacker {
  add(spec: RouteSpec): void
  /** the same for an IPv4 one, by its values (its dst as ipv4PrefixNumber gives it): no object */
  addIpv4(prefix: number, via?: string, dev?: string, table?: "main" | number, metric?: number): void
  /** the packed routes, or undefined when two share a key */
  done(): DesiredRoutes | undefined
}

export class DesiredRoutes {
  /** the validated routes; undefined when packed from elsewhere (simple routes only, see packer) */
  readonly #specs: readonly RouteSpec[] | undefined
  #w: Uint32Array
  #n = 0
  #slots: Int32Array // position + 1 by hash; 0 = empty
  #mask: number
  /** devices (D_DEV) and addresses (D_GATEWAY, D_PREFSRC) by id */
  readonly #ids = new IdTables()
  /** positions of the multipath routes: the only ones whose devices a record does not hold */
  readonly #multipath: number[] = []
  /** what link scopes look up, made on the first one */
  #byLink: { dev: Grouped; gateway: Grouped } | undefined
  readonly #scratch = new Uint32Array(KEY_WORDS)

  /** `capacity`: room made at once (see RouteTable: room costs nothing until written) */
  private constructor(specs: readonly RouteSpec[] | undefined, capacity: number) {
    this.#specs = specs
    this.#w = roomWords(Math.max(1, capacity) * RECORD) // not zeroed: each record is, as packed
    this.#slots = hashSlots(capacity)
    this.#mask = this.#slots.length - 1
  }

  /** Packs `specs` in steps of STEP_ITEMS (a million routes let the event loop in). */
  static *build(specs: readonly RouteSpec[]): Steps<DesiredRoutes> {
    const d = new DesiredRoutes(specs, specs.length)
    for (let i = 0; i < specs.length; i++) {
      if (i % STEP_ITEMS === STEP_ITEMS - 1) yield
      d.#pack(i, specs[i]!, wantedRoute(specs[i]!))
      d.#insert(i)
    }
    d.#n = specs.length
    return d
  }

  /**
   * Packs validated routes of the simple shape (route/list.ts simpleRoute's output) one at a
   * time, keeping none of them: a list read straight from a file's bytes. `spec(i)` makes
   * each again from its record. `done()` is undefined when two routes share a key (the
   * schema's error to say, not this).
   */
  static packer(capacity: number): SimplePacker {
    const d = new DesiredRoutes(undefined, capacity)
    const room = () => {
      if ((d.#n + 1) * RECORD <= d.#w.length) return
      const next = roomWords(d.#w.length * 2)
      next.set(d.#w.subarray(0, d.#n * RECORD))
      d.#w = next
    }
    return {
      add(spec) {
        room()
        d.#pack(d.#n, spec, wantedRoute(spec))
        d.#n++
      },
      addIpv4(prefix, via, dev, table, metric) {
        room()
        d.#packIpv4(d.#n, prefix, via, dev, table, metric)
        d.#n++
      },
      done() {
        d.#slots = hashSlots(d.#n)
        d.#mask = d.#slots.length - 1
        for (let i = 0; i < d.#n; i++) if (!d.#insert(i)) return undefined
        return d
      },
    }
  }

  #pack(i: number, s: RouteSpec, r: WantedRoute): void {
    const ids = this.#ids
    const w = this.#w
    const at = i * RECORD
    for (let k = 0; k < RECORD; k++) w[at + k] = 0
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
    if (s.dst === "default") bits |= SAID_DEFAULT
    if (s.table !== undefined) bits |= s.table === "main" ? SAID_TABLE | SAID_MAIN : SAID_TABLE
    if (s.metric !== undefined) bits |= SAID_METRIC
    if (r.nexthops || r.nhid !== undefined || r.metrics) bits |= WHOLE
    if (r.nexthops) this.#multipath.push(i)
    if (r.gateway !== undefined) {
      w[at + D_GATEWAY] = ids.addr(r.gateway)
      bits |= HAS_GATEWAY | (r.gateway.includes(":") ? GATEWAY6 : 0)
    }
    if (r.prefsrc !== undefined) {
      w[at + D_PREFSRC] = ids.addr(r.prefsrc)
      bits |= HAS_PREFSRC | (r.prefsrc.includes(":") ? PREFSRC6 : 0)
    }
    if (r.mtu !== undefined) {
      bits |= HAS_MTU
      w[at + D_MTU] = r.mtu
    }
    if (r.pref !== undefined) bits |= HAS_PREF
    if (r.dev !== undefined) {
      bits |= HAS_DEV
      w[at + D_DEV] = ids.dev(r.dev)
    }
    w[at + D_BITS] = bits
  }

  /** What #pack makes of a simple IPv4 route ({dst, via, dev, table, metric}), from the dst's number (ipv4PrefixNumber). */
  #packIpv4(i: number, prefix: number, via?: string, dev?: string, table?: "main" | number, metric?: number): void {
    const w = this.#w
    const at = i * RECORD
    for (let k = 0; k < RECORD; k++) w[at + k] = 0
    const len = prefix % 64
    w[at] = c.AF_INET | (len << 8)
    w[at + 1] = tableNumber(table)
    w[at + 2] = metric ?? defaultMetric("inet")
    if (len > 0) w[at + 3] = Math.floor(prefix / 64)
    w[at + D_KIND] = defaultScope("inet", c.RTN_UNICAST, via !== undefined) | (c.RTN_UNICAST << 8)
    let bits = table === undefined ? 0 : table === "main" ? SAID_TABLE | SAID_MAIN : SAID_TABLE
    if (metric !== undefined) bits |= SAID_METRIC
    if (via !== undefined) {
      w[at + D_GATEWAY] = this.#ids.addr(via)
      bits |= HAS_GATEWAY
    }
    if (dev !== undefined) {
      bits |= HAS_DEV
      w[at + D_DEV] = this.#ids.dev(dev)
    }
    w[at + D_BITS] = bits
  }

  /** Indexes position i; a later route of the same key takes its place (false then). */
  #insert(i: number): boolean {
    const w = this.#w
    const at = i * RECORD
    for (let s = hashKey(w, at) & this.#mask; ; s = (s + 1) & this.#mask) {
      const x = this.#slots[s]!
      if (x === 0 || sameKey(w, (x - 1) * RECORD, w, at)) {
        this.#slots[s] = i + 1
        return x === 0
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
    return keyWords(key, this.#scratch) ? this.find(this.#scratch, 0) : -1
  }

  get length(): number {
    return this.#n
  }

  /** The validated route at position i: the one given, or (packed without) made again from its record. */
  spec(i: number): RouteSpec {
    return this.#specs ? this.#specs[i]! : recordSpec(this.#w, i * RECORD, this.#ids)
  }

  /**
   * Writes the `ip route add` text of route i's create op (what describeRouteOp says) as
   * bytes; false when it cannot (a list with specs, or a route not of the simple shape).
   */
  describeCreate(out: TextBytes, i: number, protocol: number): boolean {
    return this.#specs === undefined && writeRouteAdd(out, this.#w, i * RECORD, this.#ids, protocol)
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
    this.#ids.devs.forEach((d, id) => {
      if (links.has(d)) for (let k = dev.start[id]!; k < dev.start[id + 1]!; k++) out.push(dev.positions[k]!)
    })
    if (prefixes.length)
      this.#ids.addrTexts.forEach((a, id) => {
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
    const n = this.#n
    // each route's device id, or, naming none, its gateway id (-1: neither)
    const dev = new Int32Array(n).fill(-1)
    const gateway = new Int32Array(n).fill(-1)
    for (let i = 0, at = 0; i < n; i++, at += RECORD) {
      const bits = w[at + D_BITS]!
      if (bits & HAS_DEV) dev[i] = w[at + D_DEV]!
      else if (bits & HAS_GATEWAY) gateway[i] = w[at + D_GATEWAY]!
    }
    return {
      dev: groupPositions(dev, this.#ids.devs.length),
      gateway: groupPositions(gateway, this.#ids.addrTexts.length),
    }
  }

  /**
   * The resolved route at position i (made now: ops and slow compares only). Packed without
   * specs, it is read from the record (what wantedRoute makes of spec(i): tested so).
   */
  wanted(i: number): WantedRoute {
    return this.#specs ? wantedRoute(this.#specs[i]!) : recordWanted(this.#w, i * RECORD, this.#ids)
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
    const a = this.#ids.addrs
    if (!sameIp(bits, HAS_GATEWAY, GATEWAY6, a, w[at + D_GATEWAY]! * 4, oBits, o, ot + R_GATEWAY)) return "via"
    if (bits & HAS_DEV && linkName(o[ot + R_OIF]!) !== this.#ids.devs[w[at + D_DEV]!]) return "dev"
    if (!sameIp(bits, HAS_PREFSRC, PREFSRC6, a, w[at + D_PREFSRC]! * 4, oBits, o, ot + R_PREFSRC)) return "src"
    if ((bits & HAS_MTU) !== (oBits & HAS_MTU) || (bits & HAS_MTU && w[at + D_MTU] !== o[ot + R_MTU])) return "mtu"
    if (bits & HAS_PREF && ((oKind >>> 16) & 0xff) !== ((kind >>> 16) & 0xff)) return "pref"
    if (((o[ot + R_FLAGS]! & c.RTNH_F_ONLINK) !== 0) !== ((bits & ONLINK) !== 0)) return "onlink"
    return undefined
  }
}
