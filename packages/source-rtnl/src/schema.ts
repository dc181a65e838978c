// What users write: the desired state (links, addresses, routes: each kind's schema is
// with the kind) and ownership, checked as a whole (names used twice, routes with the
// same kernel key). Every issue is reported as `path: message`.
import * as v from "valibot"
import { ipv4PrefixNumber } from "@linx/netlink/ip"
import { clip, isValidLinkName, issuePath } from "./schema-common.ts"
import { RouteListSchema } from "./route/list.ts"
import { NumberIndex } from "./route/number-index.ts"
import { packedRoutes } from "./route/packed-list.ts"
import { defaultMetric, NexthopSchema, RouteSpecSchema, RouteTable, routeFamilyOf } from "./route/schema.ts"
import { RuleSpecSchema } from "./rule/schema.ts"
import { NeighborSpecSchema } from "./neighbor/schema.ts"
import { FdbSpecSchema } from "./fdb/schema.ts"
import { NexthopObjectSchema } from "./nexthop/schema.ts"

import { type AddressSpec, AddressSpecSchema } from "./address/schema.ts"
import {
  type BridgeSpec,
  type IpvlanSpec,
  type LinkKind,
  type LinkSpec,
  LinkSpecSchema,
  type MacvlanSpec,
  type VethSpec,
  type VlanSpec,
} from "./link/schema.ts"

export { clip, isValidLinkName, routeFamilyOf, RouteSpecSchema, NexthopSchema, LinkSpecSchema, AddressSpecSchema }
export type { AddressSpec, BridgeSpec, IpvlanSpec, LinkKind, LinkSpec, MacvlanSpec, VethSpec, VlanSpec }

export const RtnlDesiredSchema = v.pipe(
  v.strictObject({
    links: v.optional(v.array(LinkSpecSchema), []),
    addresses: v.optional(v.array(AddressSpecSchema), []),
    routes: v.optional(RouteListSchema, []),
    /** policy rules (ip rule): [{ priority: 100, from: 10.1.0.0/16, table: 100 }] */
    rules: v.optional(v.array(RuleSpecSchema), []),
    /** static neighbours (ip neigh): [{ link: eth0, address: 10.0.0.2, lladdr: "02:00:00:00:00:02" }] */
    neighbors: v.optional(v.array(NeighborSpecSchema), []),
    /** bridge forwarding entries (bridge fdb): a vxlan's remotes, a port's pinned MACs */
    fdb: v.optional(v.array(FdbSpecSchema), []),
    /** nexthop objects (ip nexthop), used by routes as nhid */
    nexthops: v.optional(v.array(NexthopObjectSchema), []),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const { links, addresses } = dataset.value
    const names = new Map<string, number>()
    const note = (name: string, i: number, path: (string | number)[]) => {
      const prev = names.get(name)
      if (prev !== undefined) {
        addIssue({
          message: `link name "${name}" is used twice (also links.${prev})`,
          path: path.map((key) => ({
            type: "object",
            origin: "value",
            input: dataset.value,
            key,
            value: undefined,
          })) as never,
        })
      } else names.set(name, i)
    }
    links.forEach((l, i) => {
      note(l.name, i, ["links", i, "name"])
      if (l.kind === "veth") note(l.peer.name, i, ["links", i, "peer", "name"])
      if (l.master === l.name) {
        addIssue({
          message: `link "${l.name}" cannot be its own master`,
          path: [{ type: "object", origin: "value", input: dataset.value, key: "links", value: links }] as never,
        })
      }
    })
    const seen = new Set<string>()
    addresses.forEach((a, i) => {
      const key = `${a.link} ${a.address}`
      if (seen.has(key)) {
        addIssue({
          message: `address ${a.address} on ${a.link} is listed twice (addresses.${i})`,
          path: [
            { type: "object", origin: "value", input: dataset.value, key: "addresses", value: addresses },
          ] as never,
        })
      }
      seen.add(key)
    })
    // the kernel's key of a route: family, table, destination, tos (IPv4), metric; in
    // keyed by the values themselves (no key string per route: a full table is a million
    // of them): a bucket per (table, tos, metric), the last one kept at hand (a full
    // table's routes share one); an IPv4 prefix goes into one number index as
    // bucket * 2^38 + its number, anything else into the bucket's map by its text
    // (a packed list refused its duplicates as it was packed: not read again here)
    const routes = packedRoutes(dataset.value.routes) ? [] : dataset.value.routes
    const buckets = new Map<string, { id: number; other: Map<string, number> }>()
    const v4 = new NumberIndex(routes.length)
    let at: [string | number, number, number] = ["", -1, -1]
    let last: { id: number; other: Map<string, number> } | undefined
    routes.forEach((r, i) => {
      const family = routeFamilyOf(r)
      const metric = r.metric ?? defaultMetric(family)
      const table = r.table ?? "main"
      const tos = r.tos ?? 0
      if (!last || at[0] !== table || at[1] !== tos || at[2] !== metric) {
        const key = `${table} ${tos} ${metric}`
        last = buckets.get(key) ?? { id: buckets.size, other: new Map() }
        buckets.set(key, last)
        at = [table, tos, metric]
      }
      const n = last.id < 1 << 14 ? ipv4PrefixNumber(r.dst) : -1
      const dst = r.dst === "default" ? `default ${family}` : r.dst
      let prev: number | undefined
      if (n >= 0) {
        const p = v4.getOrSet(last.id * 2 ** 38 + n, i)
        prev = p < 0 ? undefined : p
      } else {
        prev = last.other.get(dst)
        if (prev === undefined) last.other.set(dst, i)
      }
      if (prev !== undefined)
        addIssue({
          message: `routes.${prev} and routes.${i} are the same route to the kernel (${r.dst}, table ${r.table ?? "main"}, metric ${metric}): one would replace the other every pass`,
          path: issuePath(dataset.value, ["routes", i, "dst"]),
        })
    })
  }),
)

const Glob = v.pipe(v.string(), v.minLength(1), v.maxLength(64))

export const RtnlOwnershipSchema = v.strictObject({
  /** link names or globs ("c1-*") this owner may create, change and delete */
  links: v.optional(v.array(Glob)),
  /** rtm_protocol stamped on and used to recognise owned routes (default 77) */
  routeProtocol: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(3, "routeProtocol 0–2 are the kernel's"), v.maxValue(255)),
  ),
  /** IFA_PROTO stamped on owned addresses (default: routeProtocol) */
  addressProtocol: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(4, "addressProtocol 0–3 are the kernel's"), v.maxValue(255)),
  ),
  /** route tables to look at for owned routes (default: every table but local) */
  tables: v.optional(v.array(RouteTable)),
  /** IFLA_GROUP stamped on created links so many can be deleted in one request (default 77) */
  linkGroup: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff))),
  /** take over a desired object that exists but was made by someone else (default false) */
  adopt: v.optional(v.boolean()),
  /**
   * Markers this owner used before (a changed routeProtocol, addressProtocol or
   * linkGroup): objects carrying them are still this loop's. Desired ones are rewritten
   * with the current marker in place; the others are deleted. `linx run` fills this in
   * when a reload changes a marker, so nothing is orphaned.
   */
  former: v.optional(
    v.strictObject({
      routeProtocols: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(3), v.maxValue(255)))),
      addressProtocols: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(4), v.maxValue(255)))),
      linkGroups: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff)))),
    }),
  ),
})

export type { RouteSpec } from "./route/schema.ts"
export type NexthopSpec = v.InferOutput<typeof NexthopSchema>
export type RtnlDesired = v.InferOutput<typeof RtnlDesiredSchema>
export type RtnlDesiredInput = v.InferInput<typeof RtnlDesiredSchema>
export type RtnlOwnership = v.InferOutput<typeof RtnlOwnershipSchema>

export const DEFAULT_ROUTE_PROTOCOL = 77
export const DEFAULT_LINK_GROUP = 77

/** Formats valibot issues as `path: message` lines. */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.map((i) => {
    const path = v.getDotPath(i)
    return path ? `${path}: ${i.message}` : i.message
  })
}
