// Observed routes packed into one Uint32Array, a record of RECORD words per route: what a
// dump of a full table (a million routes) decodes into without a JavaScript object or a
// string per route. The full diff compares records; a route becomes a Route object only
// when an op or a reader needs one (route(i)). Routes the records cannot hold (metrics
// other than mtu, multipath) are kept whole beside them.
import { DecodeError } from "@linx/netlink"
import { forEachAttr, type Message, readU32, requireHeader } from "@linx/netlink/wire"
import { formatIp, parseIp, parsePrefix } from "@linx/netlink/ip"
import * as c from "./constants.ts"
import { roomWords } from "./room.ts"
import { decodeRoute, METRIC_NAMES, type Route } from "./route.ts"

// word offsets in a record
/** family | dstLen << 8 | tos << 16 (the key's small parts) */
const R_HEAD = 0
export const R_TABLE = 1
const R_PRIORITY = 2
/** dst: 4 words, big-endian; an IPv4 address in the first */
const R_DST = 3
/** scope | type << 8 | pref << 16 | bits << 24 */
export const R_KIND = 7
export const R_PROTOCOL = 8
export const R_FLAGS = 9
export const R_OIF = 10
export const R_GATEWAY = 11
export const R_PREFSRC = 15
export const R_MTU = 19
const R_NHID = 20
const RECORD = 21
/** the key: head, table, priority, dst */
export const KEY_WORDS = 7

// bits of R_KIND's top byte
export const HAS_GATEWAY = 1
export const HAS_PREFSRC = 2
export const HAS_MTU = 4
export const HAS_NHID = 8
export const HAS_PREF = 16
/** the gateway / prefsrc is 16 bytes (else 4) */
export const GATEWAY6 = 32
export const PREFSRC6 = 64
/** the whole Route is kept beside the record (metrics, multipath) */
export const WHOLE = 128

export class RouteTable {
  #w: Uint32Array
  #n = 0
  /** routes kept whole, by position */
  readonly #whole = new Map<number, Route>()

  /**
   * `capacity`: how many routes to make room for at once. Room costs nothing until it is
   * written (not zeroed: room.ts; each record is zeroed as it is appended), while growing
   * copies everything written so far into fresh pages: on this platform touching fresh
   * memory costs ~5 ms per MB, which made growing from small the larger part of a
   * million-route dump's decode.
   */
  constructor(capacity = 64) {
    this.#w = roomWords(RECORD * Math.max(1, capacity))
  }

  get length(): number {
    return this.#n
  }

  /** The words (read them at `at(i) + R_…`). */
  get words(): Uint32Array {
    return this.#w
  }

  at(i: number): number {
    return i * RECORD
  }

  /** Forgets the routes from position `n` on (a dump that is started again). */
  truncate(n: number): void {
    if (n >= this.#n) return
    for (const i of this.#whole.keys()) if (i >= n) this.#whole.delete(i)
    this.#n = n
  }

  /** A fresh record at the end (zeroed); returns its word offset. */
  #append(): number {
    const need = (this.#n + 1) * RECORD
    if (need > this.#w.length) {
      // ×4: room is free until written, a copy is not (see the constructor)
      const next = roomWords(this.#w.length * 4)
      next.set(this.#w.subarray(0, this.#n * RECORD))
      this.#w = next
    }
    const at = this.#n * RECORD
    const w = this.#w
    for (let k = 0; k < RECORD; k++) w[at + k] = 0
    this.#n++
    return at
  }

  /** Appends route `j` of `from`. */
  copyFrom(from: RouteTable, j: number): void {
    const at = this.#append()
    const src = from.#w
    const s = j * RECORD
    for (let k = 0; k < RECORD; k++) this.#w[at + k] = src[s + k]!
    const whole = from.#whole.get(j)
    if (whole) this.#whole.set(this.#n - 1, whole)
  }

  /** Appends a route object (fakes, events, tests). */
  push(r: Route): void {
    const at = this.#append()
    const w = this.#w
    const p = parsePrefix(r.dst)
    const dstLen = p?.prefixLen ?? 0
    w[at + R_HEAD] = (r.family === "inet" ? c.AF_INET : c.AF_INET6) | (dstLen << 8) | (r.tos << 16)
    w[at + R_TABLE] = r.table
    w[at + R_PRIORITY] = r.priority
    if (p && dstLen > 0) putBytes(w, at + R_DST, p.bytes)
    let bits = 0
    if (r.gateway !== undefined) bits |= HAS_GATEWAY | putIp(w, at + R_GATEWAY, r.gateway, GATEWAY6)
    if (r.prefsrc !== undefined) bits |= HAS_PREFSRC | putIp(w, at + R_PREFSRC, r.prefsrc, PREFSRC6)
    if (r.mtu !== undefined) {
      bits |= HAS_MTU
      w[at + R_MTU] = r.mtu
    }
    if (r.nhid !== undefined) {
      bits |= HAS_NHID
      w[at + R_NHID] = r.nhid
    }
    if (r.pref !== undefined) bits |= HAS_PREF
    if (r.metrics || r.nexthops) {
      bits |= WHOLE
      this.#whole.set(this.#n - 1, r)
    }
    w[at + R_KIND] = r.scope | (r.type << 8) | ((r.pref ?? 0) << 16) | (bits << 24)
    w[at + R_PROTOCOL] = r.protocol
    w[at + R_FLAGS] = r.flags
    w[at + R_OIF] = r.oif
  }

  /**
   * Appends the route of an RTM_NEWROUTE message, unless `keep` says no (it sees the
   * table and the type). Keeps nothing of the message: it may be a view into a buffer the
   * next read reuses.
   */
  add(m: Message, keep: (table: number, type: number) => boolean): void {
    const before = this.#n
    try {
      this.#decode(m, keep)
    } catch (e) {
      this.truncate(before) // a route that cannot be read leaves nothing behind
      throw e
    }
  }

  #decode(m: Message, keep: (table: number, type: number) => boolean): void {
    requireHeader(m, c.RTMSG_LEN, "rtmsg")
    const v = m.view
    const p = m.payload
    const familyNum = v.getUint8(p)
    const dstLen = v.getUint8(p + 1)
    if (dstLen > (familyNum === c.AF_INET ? 32 : 128))
      throw new DecodeError(m.offset, `route prefix length ${dstLen} is longer than the family's address`)
    const at = this.#append()
    const w = this.#w
    w[at + R_HEAD] = familyNum | (dstLen << 8) | (v.getUint8(p + 3) << 16)
    let table = v.getUint8(p + 4)
    let bits = 0
    let pref = 0
    let a = p + c.RTMSG_LEN
    const end = m.end
    while (a + 4 <= end) {
      const len = v.getUint16(a, true)
      if (len < 4 || a + len > end)
        throw new DecodeError(a + v.byteOffset, `route attribute length ${len} is malformed`)
      const type = v.getUint16(a + 2, true) & 0x3fff
      const off = a + 4
      const plen = len - 4
      switch (type) {
        case c.RTA_DST:
          if (dstLen > 0) readIp(w, at + R_DST, v, off, plen)
          break
        case c.RTA_TABLE:
          table = readU32(v, off, plen)
          break
        case c.RTA_PRIORITY:
          w[at + R_PRIORITY] = readU32(v, off, plen)
          break
        case c.RTA_OIF:
          w[at + R_OIF] = readU32(v, off, plen)
          break
        case c.RTA_GATEWAY:
          bits |= HAS_GATEWAY | (readIp(w, at + R_GATEWAY, v, off, plen) ? GATEWAY6 : 0)
          break
        case c.RTA_PREFSRC:
          bits |= HAS_PREFSRC | (readIp(w, at + R_PREFSRC, v, off, plen) ? PREFSRC6 : 0)
          break
        case c.RTA_METRICS:
          forEachAttr(v, off, off + plen, (mt, moff, mlen) => {
            if (mt === c.RTAX_MTU) {
              bits |= HAS_MTU
              w[at + R_MTU] = readU32(v, moff, mlen)
            } else if (METRIC_NAMES[mt]) bits |= WHOLE
          })
          break
        case c.RTA_MULTIPATH:
          bits |= WHOLE
          break
        case c.RTA_NH_ID:
          bits |= HAS_NHID
          w[at + R_NHID] = readU32(v, off, plen)
          break
        case c.RTA_PREF:
          bits |= HAS_PREF
          pref = v.getUint8(off)
          break
      }
      a += (len + 3) & ~3
    }
    const routeType = v.getUint8(p + 7)
    if (!keep(table, routeType)) {
      this.#n--
      return
    }
    w[at + R_TABLE] = table
    w[at + R_KIND] = v.getUint8(p + 6) | (routeType << 8) | (pref << 16) | (bits << 24)
    w[at + R_PROTOCOL] = v.getUint8(p + 5)
    w[at + R_FLAGS] = v.getUint32(p + 8, true)
    if (bits & WHOLE) this.#whole.set(this.#n - 1, decodeRoute(m))
  }

  /** The route at `i` as an object (made now unless kept whole). */
  route(i: number): Route {
    const whole = this.#whole.get(i)
    if (whole) return whole
    const w = this.#w
    const at = i * RECORD
    const head = w[at + R_HEAD]!
    const inet = (head & 0xff) === c.AF_INET
    const kind = w[at + R_KIND]!
    const bits = kind >>> 24
    const r: Route = {
      id: this.id(i),
      family: inet ? "inet" : "inet6",
      dst: `${addressText(w, at + R_DST, !inet)}/${(head >>> 8) & 0xff}`,
      tos: (head >>> 16) & 0xff,
      table: w[at + R_TABLE]!,
      protocol: w[at + R_PROTOCOL]!,
      scope: kind & 0xff,
      type: (kind >>> 8) & 0xff,
      flags: w[at + R_FLAGS]!,
      priority: w[at + R_PRIORITY]!,
      oif: w[at + R_OIF]!,
    }
    if (bits & HAS_GATEWAY) r.gateway = addressText(w, at + R_GATEWAY, (bits & GATEWAY6) !== 0)
    if (bits & HAS_PREFSRC) r.prefsrc = addressText(w, at + R_PREFSRC, (bits & PREFSRC6) !== 0)
    if (bits & HAS_MTU) r.mtu = w[at + R_MTU]!
    if (bits & HAS_NHID) r.nhid = w[at + R_NHID]!
    if (bits & HAS_PREF) r.pref = (kind >>> 16) & 0xff
    return r
  }

  /** The packed id (Route.id, see packRouteId) of the route at `i`. */
  id(i: number): string {
    const w = this.#w
    const at = i * RECORD
    const head = w[at + R_HEAD]!
    const t = w[at + R_TABLE]!
    const pr = w[at + R_PRIORITY]!
    const dstLen = (head >>> 8) & 0xff
    const units = [head & 0xff, t >>> 16, t & 0xffff, pr >>> 16, pr & 0xffff, (head >>> 16) & 0xff, dstLen]
    if (dstLen > 0) {
      const words = (head & 0xff) === c.AF_INET ? 1 : 4
      for (let k = 0; k < words; k++) units.push(w[at + R_DST + k]! >>> 16, w[at + R_DST + k]! & 0xffff)
    }
    return String.fromCharCode(...units)
  }

  *[Symbol.iterator](): IterableIterator<Route> {
    for (let i = 0; i < this.#n; i++) yield this.route(i)
  }

  toArray(): Route[] {
    return Array.from({ length: this.#n }, (_, i) => this.route(i))
  }

  static of(routes: Iterable<Route>): RouteTable {
    const t = new RouteTable()
    for (const r of routes) t.push(r)
    return t
  }
}

/** Reads a 4- or 16-byte address into 4 words; true when it is 16 bytes. */
function readIp(w: Uint32Array, at: number, v: DataView, off: number, len: number): boolean {
  if (len === 4) {
    w[at] = v.getUint32(off, false)
    return false
  }
  if (len !== 16) throw new DecodeError(off + v.byteOffset, `an address attribute holds ${len} bytes, not 4 or 16`)
  for (let k = 0; k < 4; k++) w[at + k] = v.getUint32(off + 4 * k, false)
  return true
}

/** Writes 4 or 16 address bytes as big-endian words at `at`. */
export function putBytes(w: Uint32Array, at: number, b: Uint8Array): void {
  for (let k = 0; k * 4 < b.length; k++)
    w[at + k] = ((b[4 * k]! << 24) | (b[4 * k + 1]! << 16) | (b[4 * k + 2]! << 8) | b[4 * k + 3]!) >>> 0
}

function putIp(w: Uint32Array, at: number, s: string, six: number): number {
  const ip = parseIp(s)
  if (!ip) return 0
  putBytes(w, at, ip.bytes)
  return ip.bytes.length === 16 ? six : 0
}

/** The text of the address in 4 words at `at` (IPv4 in the first). */
export function addressText(w: Uint32Array, at: number, six: boolean): string {
  const a = w[at]!
  if (!six) return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`
  const b = new Uint8Array(16)
  for (let k = 0; k < 4; k++) {
    const x = w[at + k]!
    b[4 * k] = x >>> 24
    b[4 * k + 1] = (x >>> 16) & 255
    b[4 * k + 2] = (x >>> 8) & 255
    b[4 * k + 3] = x & 255
  }
  return formatIp(b)
}
