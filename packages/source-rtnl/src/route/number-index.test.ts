import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { RtnlDesiredSchema } from "../schema.ts"
import { NumberIndex } from "./number-index.ts"

describe("the duplicate-route check at scale", () => {
  test("NumberIndex answers as a Map would, through growth, for keys up to 2^53", () => {
    const idx = new NumberIndex(4)
    const map = new Map<number, number>()
    let seed = 11
    for (let i = 0; i < 200_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      const key = i % 3 === 0 ? seed % 5000 : (seed % 1000) * 2 ** 38 + Math.floor(seed / 7) * 64
      const want = map.get(key)
      if (want === undefined) map.set(key, i)
      expect(idx.getOrSet(key, i)).toBe(want ?? -1)
    }
    expect(idx.getOrSet(2 ** 53 - 1, 5)).toBe(-1)
    expect(idx.getOrSet(2 ** 53 - 1, 6)).toBe(5)
  })

  test("100k routes: the same route twice is found wherever it is, and only by its whole key", () => {
    const routes: Record<string, unknown>[] = Array.from({ length: 100_000 }, (_, i) => ({
      dst: `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`,
      via: "10.255.0.1",
    }))
    // the same prefix in another table, metric or tos is another route
    routes.push({ dst: "10.0.5.0/24", via: "10.255.0.1", table: 100 })
    routes.push({ dst: "10.0.5.0/24", via: "10.255.0.1", metric: 5 })
    routes.push({ dst: "10.0.5.0/24", via: "10.255.0.1", tos: 8 })
    expect(v.safeParse(RtnlDesiredSchema, { routes }).success).toBe(true)
    routes.push({ dst: "10.1.44.0/24", via: "10.255.0.9" })
    routes.push({ dst: "10.0.5.0/24", via: "10.255.0.1", metric: 5, dev: "eth0" })
    const r = v.safeParse(RtnlDesiredSchema, { routes })
    expect(r.success).toBe(false)
    expect(r.issues!.map((i) => i.message)).toEqual([
      "routes.300 and routes.100003 are the same route to the kernel (10.1.44.0/24, table main, metric 0): one would replace the other every pass",
      "routes.100001 and routes.100004 are the same route to the kernel (10.0.5.0/24, table main, metric 5): one would replace the other every pass",
    ])
  })
})
