// Desired routes: the route schema, and the family a route is in.
import * as v from "valibot"
import { familyOf, formatPrefix, isNetworkAddress, networkOf, parsePrefix } from "@linx/netlink/ip"
import { clip, Ip, LinkName, U32 } from "../schema-common.ts"
import { RT_TABLE_LOCAL, RT_TABLE_MAIN } from "../wire/constants.ts"

/** The family a desired route is in: its dst's, else its gateway's or source's, else `family`, else inet. */
export function routeFamilyOf(s: {
  dst: string
  via?: string | undefined
  src?: string | undefined
  family?: "inet" | "inet6" | undefined
  nexthops?: readonly { via?: string | undefined }[] | undefined
}): "inet" | "inet6" {
  const gateway = s.via ?? s.nexthops?.find((n) => n.via)?.via
  // a validated dst is canonical: a colon means IPv6 (no parse needed on this hot path)
  if (s.dst !== "default") return s.dst.includes(":") ? "inet6" : "inet"
  return (gateway ? familyOf(gateway) : undefined) ?? (s.src ? familyOf(s.src) : undefined) ?? s.family ?? "inet"
}

/** The kernel's metric of a route that names none (ip's too). */
export const defaultMetric = (family: "inet" | "inet6"): number => (family === "inet6" ? 1024 : 0)

export const RouteTable = v.union(
  [
    v.literal("main"),
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1, "table 0 is not a table (RT_TABLE_UNSPEC)"),
      v.maxValue(0xffffffff),
      v.check(
        (n) => n !== RT_TABLE_LOCAL,
        "table 255 is the kernel's local table (the local and broadcast routes of addresses): Linx never writes or owns it",
      ),
    ),
  ],
  'table must be "main" or a number 1–4294967295 other than 255 (local)',
)

export const NexthopSchema = v.strictObject({
  via: v.optional(Ip),
  dev: v.optional(LinkName),
  weight: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(256, "weight must be 1–256")), 1),
  onlink: v.optional(v.boolean()),
})

/** The families of a route's addresses, or "mixed" (they are validated and canonical here: a colon means IPv6). */
function routeFamily(r: {
  dst: string
  via?: string | undefined
  src?: string | undefined
  nexthops?: { via?: string | undefined }[] | undefined
}): "inet" | "inet6" | "mixed" | undefined {
  let fam: "inet" | "inet6" | undefined = r.dst === "default" ? undefined : r.dst.includes(":") ? "inet6" : "inet"
  for (const a of [r.via, r.src]) {
    if (!a) continue
    const f = a.includes(":") ? "inet6" : "inet"
    if (fam && fam !== f) return "mixed"
    fam = f
  }
  for (const n of r.nexthops ?? []) {
    if (!n.via) continue
    const f = n.via.includes(":") ? "inet6" : "inet"
    if (fam && fam !== f) return "mixed"
    fam = f
  }
  return fam
}

/** "default", or a prefix with zero host bits, made canonical: parsed once (a million routes are parsed here). */
const Dst = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const s = dataset.value
    if (s === "default") return s
    const p = parsePrefix(s)
    if (!p) {
      addIssue({ message: `${JSON.stringify(clip(s))} is not "default" or a prefix (10.0.0.0/8, fd00::/64)` })
      return NEVER
    }
    if (!isNetworkAddress(p)) {
      addIssue({ message: `${s} has host bits set; did you mean ${formatPrefix(networkOf(p))}?` })
      return NEVER
    }
    return formatPrefix(p)
  }),
)

export const RouteSpecSchema = v.pipe(
  v.strictObject({
    /** "default", "10.0.0.0/8", "fd00::/64"; host bits must be zero */
    dst: Dst,
    /** for "default" without via/src: which family (default inet) */
    family: v.optional(v.picklist(["inet", "inet6"])),
    via: v.optional(Ip),
    dev: v.optional(LinkName),
    src: v.optional(Ip),
    table: v.optional(RouteTable),
    metric: v.optional(U32),
    scope: v.optional(v.picklist(["universe", "global", "site", "link", "host"])),
    /** local (AnyIP: every address of dst is this host's; in a table other than local) */
    type: v.optional(v.picklist(["unicast", "blackhole", "unreachable", "prohibit", "throw", "local"]), "unicast"),
    /** IPv4 type of service: part of the route's key (ip route add … tos 0x10) */
    tos: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255))),
    /** an IPv6 route's preference (ip -6 route … pref low|medium|high) */
    pref: v.optional(v.picklist(["low", "medium", "high"])),
    mtu: v.optional(v.pipe(v.number(), v.integer(), v.minValue(68), v.maxValue(65535))),
    /** TCP's advertised MSS on this route */
    advmss: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))),
    /** the IPv4 TTL / IPv6 hop limit of packets on this route */
    hoplimit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(255))),
    /** TCP's initial congestion and receive windows, in segments */
    initcwnd: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024))),
    initrwnd: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024))),
    /** TCP's minimum retransmission timeout, ms */
    rtoMin: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(120_000))),
    /** TCP acks at once (no delayed ack) */
    quickack: v.optional(v.boolean()),
    onlink: v.optional(v.boolean()),
    nexthops: v.optional(
      v.pipe(v.array(NexthopSchema), v.minLength(2, "nexthops needs at least two entries (use via/dev for one)")),
    ),
    /** through a nexthop object (ip route add … nhid N): one of `nexthops:` at the top level */
    nhid: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff))),
  }),
  v.check(
    (r) => r.nhid === undefined || (!r.via && !r.dev && !r.nexthops),
    "a route with nhid takes no via, dev or nexthops",
  ),
  v.check((r) => routeFamily(r) !== "mixed", "dst, via, src and nexthops must all be IPv4 or all IPv6"),
  v.check((r) => r.pref === undefined || routeFamilyOf(r) === "inet6", "pref is for IPv6 routes"),
  v.check((r) => !r.tos || routeFamilyOf(r) === "inet", "tos is for IPv4 routes"),
  v.check(
    (r) => r.type === "unicast" || r.type === "local" || (!r.via && !r.dev && !r.nexthops),
    (i) => `a ${i.input.type} route takes no via, dev or nexthops`,
  ),
  v.check(
    (r) => r.type !== "unicast" || !!(r.via || r.dev || r.nexthops || r.nhid !== undefined),
    "a unicast route needs via, dev, nexthops or nhid",
  ),
  v.check((r) => !(r.nexthops && (r.via || r.dev)), "use either nexthops or via/dev, not both"),
  v.check((r) => !r.nexthops || r.nexthops.every((n) => n.via || n.dev), "each nexthop needs via or dev"),
)

/** A route's table as a number ("main" and none: 254). */
export function tableNumber(t: number | "main" | undefined): number {
  return t === undefined || t === "main" ? RT_TABLE_MAIN : t
}

/** A validated route (RouteSpecSchema's output). */
export type RouteSpec = v.InferOutput<typeof RouteSpecSchema>
