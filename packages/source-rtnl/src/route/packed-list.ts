// A desired route list kept packed (route/json-list.ts reads one from a file's bytes): it
// is the array the schema makes in every way a reader can tell, with its items made from
// their records when read, and the diff finds its packed records without packing again.
import type * as v from "valibot"
import type { RouteSpecSchema } from "./schema.ts"

type RouteSpec = v.InferOutput<typeof RouteSpecSchema>

/** What a packed list reads its items from (route/desired-index.ts DesiredRoutes; not imported: it imports the schema this list is part of). */
export interface PackedItems {
  readonly length: number
  spec(i: number): RouteSpec
}

const lists = new WeakMap<object, PackedItems>()

/** The packed routes behind a list made by packedRouteList, or undefined for any other list. */
export function packedRoutes(list: unknown): PackedItems | undefined {
  return typeof list === "object" && list !== null ? lists.get(list) : undefined
}

/** Whether a desired route list is one read packed (from a JSON file's bytes). */
export const isPackedRouteList = (list: unknown): boolean => packedRoutes(list) !== undefined

const isIndex = (key: string | symbol, n: number): key is string => {
  if (typeof key !== "string" || key.length === 0 || key.length > 10) return false
  const i = Number(key)
  return Number.isInteger(i) && i >= 0 && i < n && String(i) === key
}

/**
 * The packed routes as the read-only array the schema would have made: its length, each
 * item (made from its record when read: no million objects kept), iteration and every
 * array method read through it; writes are refused.
 */
export function packedRouteList(d: PackedItems): readonly RouteSpec[] {
  const list = new Proxy([] as RouteSpec[], {
    get(target, key, receiver) {
      if (key === "length") return d.length
      if (isIndex(key, d.length)) return d.spec(Number(key))
      return Reflect.get(target, key, receiver)
    },
    has: (target, key) => isIndex(key, d.length) || Reflect.has(target, key),
    getOwnPropertyDescriptor(target, key) {
      if (key === "length") return { value: d.length, writable: true, enumerable: false, configurable: false }
      if (isIndex(key, d.length))
        return { value: d.spec(Number(key)), writable: false, enumerable: true, configurable: true }
      return Reflect.getOwnPropertyDescriptor(target, key)
    },
    ownKeys: () => [...Array.from({ length: d.length }, (_, i) => String(i)), "length"],
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  })
  lists.set(list, d)
  return list
}
