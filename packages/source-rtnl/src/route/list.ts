// The desired route list, validated fast: a full BGP table is a million routes of one
// simple shape ({ dst, via, dev, table, metric }), and valibot's general object walk costs
// microseconds each. A route of that shape that passes every check RouteSpecSchema would
// make is built here directly, with the same output; any other route (another key, a bad
// value) goes through RouteSpecSchema itself, so every error message and path is its own.
import * as v from "valibot"
import {
  canonicalIp,
  formatPrefix,
  ipv4Number,
  ipv4PrefixNumber,
  isNetworkAddress,
  parsePrefix,
} from "@linx/netlink/ip"
import { isValidLinkName } from "../schema-common.ts"
import { RT_TABLE_LOCAL } from "../wire/constants.ts"
import { DesiredRoutes } from "./desired-index.ts"
import { packedRouteList, packedRoutes } from "./packed-list.ts"
import { RouteSpecSchema } from "./schema.ts"

type RouteSpecOut = v.InferOutput<typeof RouteSpecSchema>

/** (type only as "unicast": what this list's own output says, so validated state validates fast again) */
const SIMPLE_KEYS = new Set(["dst", "via", "dev", "table", "metric", "type"])

const isU32 = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffffffff

/** The canonical prefix when `s` is one already (with zero host bits), else undefined. */
function canonicalDst(s: unknown): string | undefined {
  if (typeof s !== "string") return undefined
  if (s === "default" || ipv4PrefixNumber(s) >= 0) return s // the common case: no parse into bytes
  const p = parsePrefix(s)
  return p && isNetworkAddress(p) && formatPrefix(p) === s ? s : undefined
}

/** RouteSpecSchema's output for a route of the simple shape that passes all its checks; else undefined. */
export function simpleRoute(x: unknown, goodNames: Set<string>): RouteSpecOut | undefined {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return undefined
  const r = x as Record<string, unknown>
  for (const k in r) if (!SIMPLE_KEYS.has(k)) return undefined
  const dst = canonicalDst(r.dst)
  if (dst === undefined) return undefined
  const six = dst.includes(":")
  if (!simpleValid(six, dst === "default", r.via, r.dev, r.table, r.metric, r.type, goodNames)) return undefined
  const out: Record<string, unknown> = { dst }
  if (r.via !== undefined) out.via = r.via
  if (r.dev !== undefined) out.dev = r.dev
  if (r.table !== undefined) out.table = r.table
  if (r.metric !== undefined) out.metric = r.metric
  out.type = "unicast"
  return out as RouteSpecOut
}

/**
 * The checks RouteSpecSchema makes of a simple route's values, its dst aside (canonical
 * already: IPv6 when `six`, or "default"); values one at a time, so that a reader of bytes
 * checks without making the object.
 */
export function simpleValid(
  six: boolean,
  isDefault: boolean,
  via: unknown,
  dev: unknown,
  table: unknown,
  metric: unknown,
  type: unknown,
  goodNames: Set<string>,
): boolean {
  if (type !== undefined && type !== "unicast") return false
  if (via !== undefined) {
    if (typeof via !== "string" || (ipv4Number(via) < 0 && canonicalIp(via) !== via)) return false
    // one family: a default route takes its gateway's; a prefix must match it
    if (!isDefault && six !== via.includes(":")) return false
  }
  if (dev !== undefined) {
    if (typeof dev !== "string") return false
    if (!goodNames.has(dev)) {
      if (!isValidLinkName(dev)) return false
      goodNames.add(dev)
    }
  }
  if (via === undefined && dev === undefined) return false // a unicast route needs one
  if (table !== undefined && table !== "main" && !(isU32(table) && table >= 1 && table !== RT_TABLE_LOCAL)) return false
  return metric === undefined || isU32(metric)
}

/**
 * A list of simple routes this long or longer is kept packed once validated: its records
 * (route/desired-index.ts) are what the diff reads, and a million route objects kept beside
 * them were ~120 B a route of a loop's memory. The list reads as the array it was
 * (route/packed-list.ts: each item made from its record when read).
 */
export const PACK_FROM = 4096

/** Validated simple routes packed, as the list a packed JSON read makes; undefined when two share a key (the schema says so). */
function packed(routes: readonly RouteSpecOut[]): readonly RouteSpecOut[] | undefined {
  const packer = DesiredRoutes.packer(routes.length)
  for (let i = 0; i < routes.length; i++) packer.add(routes[i]!)
  const d = packer.done()
  return d && packedRouteList(d)
}

/** An array of routes: each simple one built directly, any other checked by RouteSpecSchema. */
export const RouteListSchema = Object.assign(
  v.pipe(
    // a list, taken as it is: v.array would walk a million items through v.unknown first
    v.custom<unknown[]>(
      (x) => Array.isArray(x),
      (i) => `Invalid type: Expected Array but received ${v._stringify(i.input)}`,
    ),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const input = dataset.value
      // read from a file's bytes and checked route by route as it was packed
      if (packedRoutes(input)) return input as RouteSpecOut[]
      const out: RouteSpecOut[] = new Array(input.length)
      const goodNames = new Set<string>()
      let failed = false
      let allSimple = true
      for (let i = 0; i < input.length; i++) {
        const item = input[i]
        const simple = simpleRoute(item, goodNames)
        if (simple) {
          out[i] = simple
          continue
        }
        allSimple = false
        const r = v.safeParse(RouteSpecSchema, item)
        if (r.success) {
          out[i] = r.output
          continue
        }
        failed = true
        for (const issue of r.issues) {
          const at = { type: "array", origin: "value", input, key: i, value: item }
          addIssue({ message: issue.message, path: [at, ...(issue.path ?? [])] as never })
        }
      }
      if (failed) return NEVER
      return (allSimple && out.length >= PACK_FROM && packed(out)) || out
    }),
  ),
  // what reconcile's did-you-mean walks into (valibot's pipe never reads it)
  { item: RouteSpecSchema },
)
