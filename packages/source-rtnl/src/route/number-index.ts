// Positions by non-negative integer keys below 2^53 in two typed arrays (open addressing):
// what the duplicate-route check of a million IPv4 routes looks up, where a Map of a
// million numbers costs most of the validation (its entries and rehashes).
export class NumberIndex {
  #keys: Float64Array
  /** position + 1; 0 = empty */
  #vals: Int32Array
  #mask: number
  #size = 0

  constructor(expect = 16) {
    let cap = 16
    while (cap < expect * 2) cap *= 2
    this.#keys = new Float64Array(cap)
    this.#vals = new Int32Array(cap)
    this.#mask = cap - 1
  }

  /** The position stored for `key`, or -1 after storing `pos` for it. */
  getOrSet(key: number, pos: number): number {
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow()
    const keys = this.#keys
    const vals = this.#vals
    for (let s = slotOf(key) & this.#mask; ; s = (s + 1) & this.#mask) {
      const v = vals[s]!
      if (v === 0) {
        keys[s] = key
        vals[s] = pos + 1
        this.#size++
        return -1
      }
      if (keys[s] === key) return v - 1
    }
  }

  #grow(): void {
    const keys = this.#keys
    const vals = this.#vals
    this.#keys = new Float64Array(keys.length * 2)
    this.#vals = new Int32Array(keys.length * 2)
    this.#mask = keys.length * 2 - 1
    this.#size = 0
    for (let s = 0; s < keys.length; s++) if (vals[s] !== 0) this.getOrSet(keys[s]!, vals[s]! - 1)
  }
}

function slotOf(key: number): number {
  const lo = key >>> 0
  const hi = Math.floor(key / 0x100000000) >>> 0
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi + 0x7f4a7c15, 0xc2b2ae35)
  h ^= h >>> 15
  return Math.imul(h, 0x27d4eb2d) ^ (h >>> 13)
}
