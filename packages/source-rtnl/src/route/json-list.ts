// A route list read straight from a JSON file's bytes into packed records: a full table
// is a million routes of one simple shape, and JSON.parse plus validation make two objects
// and a string per route that the diff never needs (half of `linx plan`'s time at 1M).
// Each route is checked by route/list.ts's simpleValid (the checks its simpleRoute makes for
// the schema) and packed; anything else — another key, an escape, a non-ASCII byte, a duplicate key, a
// route the schema would refuse — gives up, and the caller reads the file the usual way,
// so every error message stays the schema's.
import type { RouteSpec } from "../schema.ts"
import { ipv4PrefixNumberIn } from "@linx/netlink/ip"
import { DesiredRoutes, type SimplePacker } from "./desired-index.ts"
import { simpleRoute, simpleValid } from "./list.ts"
import { packedRouteList } from "./packed-list.ts"

const QUOTE = 34
const COMMA = 44
const COLON = 58
const OPEN = 123
const CLOSE = 125
const LIST_OPEN = 91
const LIST_CLOSE = 93
const BACKSLASH = 92

/** Keys a simple route may have, by index (a key said twice gives up: JSON.parse would take the last). */
const KEYS = ["dst", "via", "dev", "table", "metric", "type"].map((name) => new TextEncoder().encode(name))
const DST = 0
const VIA = 1
const DEV = 2
const TABLE = 3
const METRIC = 4
const TYPE = 5

/** The shortest route a list can hold ({"dst":"default","via":"::1"} and the like): sizes the records. */
const MIN_ROUTE_BYTES = 24
/** Room made at once at most (2M routes, 104 MB unwritten); a longer list grows it. */
const MAX_ROOM = 1 << 21

/** Reads a simple route list from JSON bytes; every step says false (or undefined, -1) to give up. */
class Reader {
  at: number
  readonly #text: Buffer
  /** the last string read at each key, by its bytes: next hops and devices repeat */
  readonly #lastStart = new Int32Array(KEYS.length).fill(-1)
  readonly #lastEnd = new Int32Array(KEYS.length)
  readonly #lastText: string[] = KEYS.map(() => "")

  constructor(
    readonly b: Uint8Array,
    at: number,
  ) {
    this.at = at
    this.#text = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  }

  /** The next byte that is not JSON whitespace (its position is `at`), or -1 at the end. */
  peek(): number {
    const b = this.b
    while (this.at < b.length) {
      const x = b[this.at]!
      if (x !== 32 && x !== 10 && x !== 13 && x !== 9) return x
      this.at++
    }
    return -1
  }

  expect(x: number): boolean {
    if (this.peek() !== x) return false
    this.at++
    return true
  }

  /** Passes a string of printable ASCII without escapes; returns where its text ends (at the quote), or -1. */
  #skipString(): number {
    if (!this.expect(QUOTE)) return -1
    const b = this.b
    for (let i = this.at; i < b.length; i++) {
      const x = b[i]!
      if (x === QUOTE) {
        this.at = i + 1
        return i
      }
      if (x === BACKSLASH || x < 0x20 || x > 0x7e) return -1
    }
    return -1
  }

  /** The index in KEYS of the key here, read by its bytes (no string made), or -1. */
  key(): number {
    this.peek()
    const start = this.at + 1
    const end = this.#skipString()
    if (end < 0) return -1
    for (let k = 0; k < KEYS.length; k++)
      if (KEYS[k]!.length === end - start && sameBytes(this.b, start, KEYS[k]!, 0, end - start)) return k
    return -1
  }

  /** The string here, as `key`'s last one when its bytes are the same (no string made then). */
  string(key: number): string | undefined {
    this.peek()
    const start = this.at + 1
    const end = this.#skipString()
    if (end < 0) return undefined
    const ls = this.#lastStart[key]!
    if (ls >= 0 && this.#lastEnd[key]! - ls === end - start && sameBytes(this.b, ls, this.b, start, end - start))
      return this.#lastText[key]
    const text = this.#text.toString("latin1", start, end)
    this.#lastStart[key] = start
    this.#lastEnd[key] = end
    this.#lastText[key] = text
    return text
  }

  /** A non-negative integer of at most 10 digits (a larger one is the schema's error to say). */
  integer(): number | undefined {
    const b = this.b
    let i = this.at
    const start = i
    let n = 0
    while (i < b.length && b[i]! >= 48 && b[i]! <= 57 && i - start < 11) n = n * 10 + (b[i++]! - 48)
    const digits = i - start
    if (digits === 0 || digits > 10 || (digits > 1 && b[start] === 48)) return undefined
    const next = b[i]
    if (next === 46 || next === 101 || next === 69) return undefined // a fraction or exponent
    this.at = i
    return n
  }

  /**
   * One route object packed into `packer`, or false: its values read (the dst as bytes, an
   * IPv4 one never made a string), checked by simpleValid, packed.
   */
  route(packer: SimplePacker, goodNames: Set<string>): boolean {
    if (!this.expect(OPEN) || this.peek() === CLOSE) return false // {} is no route: the schema says why
    let dstStart = -1
    let dstEnd = -1
    let via: string | undefined
    let dev: string | undefined
    let table: string | number | undefined
    let metric: string | number | undefined
    let type: string | number | undefined
    let seen = 0
    for (;;) {
      const key = this.key()
      if (key < 0 || seen & (1 << key) || !this.expect(COLON)) return false
      seen |= 1 << key
      if (key === DST) {
        this.peek()
        dstStart = this.at + 1
        dstEnd = this.#skipString()
        if (dstEnd < 0) return false
      } else {
        const value = this.peek() === QUOTE ? this.string(key) : this.integer()
        if (value === undefined) return false
        if (key === VIA)
          via = value as string // (a number there: simpleValid says no)
        else if (key === DEV) dev = value as string
        else if (key === TABLE) table = value
        else if (key === METRIC) metric = value
        else if (key === TYPE) type = value
      }
      if (this.expect(CLOSE)) break
      if (!this.expect(COMMA)) return false
    }
    if (dstStart < 0) return false
    const v4 = ipv4PrefixNumberIn(this.b, dstStart, dstEnd)
    if (v4 >= 0) {
      if (!simpleValid(false, false, via, dev, table, metric, type, goodNames)) return false
      packer.addIpv4(v4, via, dev, table as "main" | number | undefined, metric as number | undefined)
      return true
    }
    // IPv6 or "default": the object way (a full table's IPv6 part is a fifth of it)
    const dst = this.#text.toString("latin1", dstStart, dstEnd)
    const spec = simpleRoute({ dst, via, dev, table, metric, type }, goodNames)
    if (!spec) return false
    packer.add(spec)
    return true
  }
}

function sameBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[ai + k] !== b[bi + k]) return false
  return true
}

/**
 * The JSON array of routes at `bytes[at]` (whitespace first allowed), packed, and where it
 * ends; undefined when any part of it is not a simple route the schema accepts as it is
 * written, or two routes share the kernel's key: read it the usual way then.
 */
export function scanRouteList(bytes: Uint8Array, at: number): { list: readonly RouteSpec[]; end: number } | undefined {
  const r = new Reader(bytes, at)
  if (!r.expect(LIST_OPEN)) return undefined
  const packer = DesiredRoutes.packer(Math.min(MAX_ROOM, Math.ceil((bytes.length - at) / MIN_ROUTE_BYTES)))
  const goodNames = new Set<string>()
  if (!r.expect(LIST_CLOSE))
    for (;;) {
      if (!r.route(packer, goodNames)) return undefined
      if (r.expect(LIST_CLOSE)) break
      if (!r.expect(COMMA)) return undefined
    }
  const d = packer.done()
  return d ? { list: packedRouteList(d), end: r.at } : undefined
}
