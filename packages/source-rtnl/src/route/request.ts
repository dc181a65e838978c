// Route ops → kernel requests (ip route add / replace / del), names resolved just before.
import { parseIp, parsePrefix } from "@linx/netlink/ip"
import type { RtnlRequest } from "../kernel.ts"
import { type IndexOf, missing } from "../request.ts"
import * as c from "../wire/constants.ts"
import type { RouteRequest } from "../wire/route.ts"
import type { RouteOp } from "./model.ts"

export type RouteCreate = Extract<RouteOp, { kind: "create" | "update" }>
export type RouteDelete = Extract<RouteOp, { kind: "delete" }>

/**
 * Equivalent to: ip route add DST via … dev … proto N (CREATE|EXCL: a route observed
 * absent is never overwritten), or for an update ip route replace … (REPLACE only: the
 * route observed as ours, ENOENT when it went away meanwhile).
 */
export function routeCreate(op: RouteCreate, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const w = op.route
  const dst = parsePrefix(w.dst)!
  const req: RouteRequest = {
    op: op.kind === "update" ? "replace" : "create",
    family: w.family,
    dst: dst.bytes,
    dstLen: dst.prefixLen,
    table: w.table,
    protocol: op.protocol,
    scope: w.scope,
    type: w.type,
    tos: w.tos,
    priority: w.priority,
    flags: w.onlink ? c.RTNH_F_ONLINK : 0,
  }
  if (w.nhid !== undefined) req.nhid = w.nhid
  if (w.dev) {
    const oif = indexOf(w.dev)
    if (oif === undefined) return missing(w.dev, "link", label)
    req.oif = oif
  }
  if (w.gateway) req.gateway = parseIp(w.gateway)!.bytes
  if (w.prefsrc) req.prefsrc = parseIp(w.prefsrc)!.bytes
  if (w.mtu !== undefined) req.mtu = w.mtu
  if (w.metrics) req.metrics = w.metrics
  if (w.pref !== undefined) req.pref = w.pref
  if (w.nexthops) {
    req.multipath = []
    for (const nh of w.nexthops) {
      const oif = nh.dev ? indexOf(nh.dev) : 0
      if (oif === undefined) return missing(nh.dev!, "link", label)
      const hop: { oif: number; gateway?: Uint8Array; weight: number; flags: number } = {
        oif,
        weight: nh.weight,
        flags: nh.onlink ? c.RTNH_F_ONLINK : 0,
      }
      if (nh.gateway) hop.gateway = parseIp(nh.gateway)!.bytes
      req.multipath.push(hop)
    }
  }
  return [{ object: "route", label, request: req }]
}

/** Equivalent to: ip route del DST table T metric M proto P (only a route still ours matches). */
export function routeDelete(op: RouteDelete, label: string): RtnlRequest[] {
  const r = op.route
  const dst = parsePrefix(r.dst)!
  const request: RouteRequest = {
    op: "delete",
    family: r.family,
    dst: dst.bytes,
    dstLen: dst.prefixLen,
    table: r.table,
    // only a route still carrying this protocol matches: a foreign replacement survives
    protocol: r.protocol,
    scope: c.RT_SCOPE_NOWHERE,
    type: r.type,
    tos: r.tos,
    priority: r.priority,
    flags: 0,
  }
  return [{ object: "route", label, request }]
}
