// Helpers over packed route records (desired-index.ts): the key's hash and equality, an
// address compare, and positions grouped by a small id.
import { KEY_WORDS } from "../wire/route-table.ts"

export function hashKey(w: Uint32Array, at: number): number {
  let h = 0x811c9dc5
  for (let k = 0; k < KEY_WORDS; k++) h = Math.imul(h ^ w[at + k]!, 0x01000193) ^ (h >>> 15)
  return (h ^ (h >>> 13)) >>> 0
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
