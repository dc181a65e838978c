// What a desired route's record (records.ts) says, read back without its spec (a list
// packed from a file's bytes keeps none): as the spec, as the resolved route, and as the
// `ip route add` text of its create op, written as bytes (a million-line plan).
import type { TextBytes } from "@linx/netlink/ip"
import * as c from "../wire/constants.ts"
import { addressText, HAS_GATEWAY, HAS_MTU, HAS_PREF, HAS_PREFSRC, WHOLE } from "../wire/route-table.ts"
import type { WantedRoute } from "./model.ts"
import {
  D_BITS,
  D_DEV,
  D_GATEWAY,
  D_KIND,
  HAS_DEV,
  type IdTables,
  ONLINK,
  SAID_DEFAULT,
  SAID_MAIN,
  SAID_METRIC,
  SAID_TABLE,
} from "./records.ts"
import { defaultMetric, type RouteSpec } from "./schema.ts"

/** The validated spec of the simple route whose record is at w[at…] (what the packer was given). */
export function recordSpec(w: Uint32Array, at: number, ids: IdTables): RouteSpec {
  const head = w[at]!
  const bits = w[at + D_BITS]!
  const inet = (head & 0xff) === c.AF_INET
  const s: Record<string, unknown> = {
    dst: bits & SAID_DEFAULT ? "default" : `${addressText(w, at + 3, !inet)}/${(head >>> 8) & 0xff}`,
  }
  if (bits & HAS_GATEWAY) s.via = ids.addrTexts[w[at + D_GATEWAY]!]
  if (bits & HAS_DEV) s.dev = ids.devs[w[at + D_DEV]!]
  if (bits & SAID_TABLE) s.table = bits & SAID_MAIN ? "main" : w[at + 1]
  if (bits & SAID_METRIC) s.metric = w[at + 2]
  s.type = "unicast"
  return s as RouteSpec
}

/** The resolved route of the simple route whose record is at w[at…] (what wantedRoute makes of recordSpec). */
export function recordWanted(w: Uint32Array, at: number, ids: IdTables): WantedRoute {
  const head = w[at]!
  const kind = w[at + D_KIND]!
  const bits = w[at + D_BITS]!
  const inet = (head & 0xff) === c.AF_INET
  const r: WantedRoute = {
    tos: 0,
    family: inet ? "inet" : "inet6",
    dst: `${addressText(w, at + 3, !inet)}/${(head >>> 8) & 0xff}`,
    table: w[at + 1]!,
    priority: w[at + 2]!,
    type: (kind >>> 8) & 0xff,
    scope: kind & 0xff,
    onlink: false,
  }
  if (bits & HAS_GATEWAY) r.gateway = ids.addrTexts[w[at + D_GATEWAY]!]!
  if (bits & HAS_DEV) r.dev = ids.devs[w[at + D_DEV]!]!
  return r
}

/** what a simple record cannot hold: a record with any of these is described from its route */
const NOT_SIMPLE = WHOLE | HAS_PREFSRC | HAS_MTU | HAS_PREF | ONLINK

/**
 * The text describeRouteOp gives the create op of this record's route (`ip route add …
 * proto N`), written as bytes without making the route or a string; false (nothing
 * written) for a record of another shape than the packer's simple one.
 */
export function writeRouteAdd(out: TextBytes, w: Uint32Array, at: number, ids: IdTables, protocol: number): boolean {
  const head = w[at]!
  const bits = w[at + D_BITS]!
  const inet = (head & 0xff) === c.AF_INET
  const tos = head >>> 16
  if (bits & NOT_SIMPLE || tos !== 0 || ((w[at + D_KIND]! >>> 8) & 0xff) !== c.RTN_UNICAST) return false
  out.text(inet ? "ip route add " : "ip -6 route add ")
  const len = (head >>> 8) & 0xff
  if (len === 0) out.text("default")
  else {
    if (inet) out.ipv4(w[at + 3]!)
    else out.text(addressText(w, at + 3, true))
    out.byte(47).uint(len)
  }
  if (bits & HAS_GATEWAY) out.text(" via ").text(ids.addrTexts[w[at + D_GATEWAY]!]!)
  if (bits & HAS_DEV) out.text(" dev ").text(ids.devs[w[at + D_DEV]!]!)
  if (w[at + 1] !== c.RT_TABLE_MAIN) out.text(" table ").uint(w[at + 1]!)
  if (w[at + 2] !== defaultMetric(inet ? "inet" : "inet6")) out.text(" metric ").uint(w[at + 2]!)
  out.text(" proto ").uint(protocol)
  return true
}
