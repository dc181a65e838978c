// Helpers over packed route records (desired-index.ts): the key's hash and equality, an
// address compare, and positions grouped by a small id.
import { ipv4Number, parseIp, parsePrefix } from "@linx/netlink/ip"
import * as c from "../wire/constants.ts"
import { KEY_WORDS, putBytes } from "../wire/route-table.ts"

// A desired record (desired-index.ts): the key's words as in an observed record (head,
// table, priority, dst), then these.
export const D_KIND = 7 // scope | type << 8 | pref << 16
export const D_BITS = 8 // HAS_* bits as an observed record's, and these:
export const ONLINK = 256
export const HAS_DEV = 512
// what the spec said that a record cannot keep otherwise (spec(i) of a list packed without specs)
export const SAID_DEFAULT = 1024 // dst "default"
export const SAID_TABLE = 2048
export const SAID_MAIN = 4096 // table "main"
export const SAID_METRIC = 8192
/** gateway and prefsrc: ids in the address table (next hops repeat: a full table has a few) */
export const D_GATEWAY = 9
export const D_PREFSRC = 10
export const D_MTU = 11
export const D_DEV = 12
export const RECORD = 13

export function hashKey(w: Uint32Array, at: number): number {
  let h = 0x811c9dc5
  for (let k = 0; k < KEY_WORDS; k++) h = Math.imul(h ^ w[at + k]!, 0x01000193) ^ (h >>> 15)
  return (h ^ (h >>> 13)) >>> 0
}

/** An empty open-addressing table for n keys (at most half full). */
export function hashSlots(n: number): Int32Array {
  let size = 16
  while (size < n * 2) size *= 2
  return new Int32Array(size)
}

/** Positions grouped by a small id: those of id k are positions[start[k] … start[k + 1]). */
export interface Grouped {
  start: Int32Array
  positions: Int32Array
}

export function sameKey(a: Uint32Array, ai: number, b: Uint32Array, bi: number): boolean {
  for (let k = 0; k < KEY_WORDS; k++) if (a[ai + k] !== b[bi + k]) return false
  return true
}

/** Both without the address, or both with it, of one length and the same bytes. */
export function sameIp(
  bits: number,
  has: number,
  six: number,
  w: Uint32Array,
  at: number,
  oBits: number,
  o: Uint32Array,
  ot: number,
): boolean {
  if ((bits & has) !== (oBits & has)) return false
  if (!(bits & has)) return true
  if ((bits & six) !== (oBits & six)) return false
  const words = bits & six ? 4 : 1
  for (let k = 0; k < words; k++) if (w[at + k] !== o[ot + k]) return false
  return true
}

/**
 * Positions grouped by their id in `key` (below `count`; -1 for none), in order within a
 * group: a counting walk, then a filling walk, no object or call per position.
 */
export function groupPositions(key: Int32Array, count: number): Grouped {
  const start = new Int32Array(count + 1)
  const n = key.length
  for (let i = 0; i < n; i++) if (key[i]! >= 0) start[key[i]! + 1]!++
  for (let k = 0; k < count; k++) start[k + 1]! += start[k]!
  const positions = new Int32Array(start[count]!)
  const next = start.slice(0, count)
  for (let i = 0; i < n; i++) {
    const k = key[i]!
    if (k >= 0) positions[next[k]!++] = i
  }
  return { start, positions }
}

/** Devices and addresses of packed records, by small ids (next hops and devices repeat: a full table has a few). */
export class IdTables {
  /** device names, by id */
  readonly devs: string[] = []
  /** addresses by id: 4 words each, an IPv4 one in the first */
  addrs = new Uint32Array(64)
  /** the same addresses' text, by id */
  readonly addrTexts: string[] = []
  readonly #devIds = new Map<string, number>()
  readonly #addrIds = new Map<string, number>()

  /** The id of an address (text), added when new. */
  addr(text: string): number {
    let id = this.#addrIds.get(text)
    if (id === undefined) {
      id = this.addrTexts.length
      this.#addrIds.set(text, id)
      this.addrTexts.push(text)
      if ((id + 1) * 4 > this.addrs.length) {
        const next = new Uint32Array(this.addrs.length * 2)
        next.set(this.addrs)
        this.addrs = next
      }
      const v4 = ipv4Number(text)
      if (v4 >= 0) this.addrs[id * 4] = v4
      else putBytes(this.addrs, id * 4, parseIp(text)!.bytes)
    }
    return id
  }

  /** The id of a device name, added when new. */
  dev(name: string): number {
    let id = this.#devIds.get(name)
    if (id === undefined) {
      id = this.devs.length
      this.devs.push(name)
      this.#devIds.set(name, id)
    }
    return id
  }
}

/** The key words of a readable route key ("254 10.0.0.0/8 0 0"; IPv6 without tos) into `k`; false when it is none. */
export function keyWords(key: string, k: Uint32Array): boolean {
  const parts = key.split(" ")
  const p = parsePrefix(parts[1] ?? "")
  if (!p) return false
  const inet = p.bytes.length === 4
  if (parts.length !== (inet ? 4 : 3)) return false
  const table = Number(parts[0])
  const tos = inet ? Number(parts[2]) : 0
  const priority = Number(parts[inet ? 3 : 2])
  if (!Number.isInteger(table) || !Number.isInteger(tos) || !Number.isInteger(priority)) return false
  k.fill(0)
  k[0] = (inet ? c.AF_INET : c.AF_INET6) | (p.prefixLen << 8) | (tos << 16)
  k[1] = table >>> 0
  k[2] = priority >>> 0
  if (p.prefixLen > 0) putBytes(k, 3, p.bytes)
  return true
}
