import { describe, expect, test } from "bun:test"
import type { RtnlOp } from "./ops.ts"
import { orderOps, rank } from "./order.ts"

describe("dependency order of ops", () => {
  test("is a stable sort by rank: the same as sorting by (rank, position), for any mix", () => {
    const kinds: [string, string][] = [
      ["route", "create"],
      ["route", "delete"],
      ["nexthop", "create"],
      ["nexthop", "delete"],
      ["rule", "update"],
      ["address", "create"],
      ["address", "delete"],
      ["link", "create"],
      ["link", "update"],
      ["link", "delete"],
      ["", "conflict"],
    ]
    let seed = 3
    for (let round = 0; round < 200; round++) {
      const ops = Array.from({ length: round % 40 }, (_, i) => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
        const [object, kind] = kinds[seed % kinds.length]!
        return { object, kind, n: i } as unknown as RtnlOp
      })
      const want = ops
        .map((op, i) => ({ op, i }))
        .sort((a, b) => rank(a.op) - rank(b.op) || a.i - b.i)
        .map((x) => x.op)
      expect(orderOps(ops)).toEqual(want)
    }
  })
})
