// RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE encode and decode.
//   struct rtmsg { u8 rtm_family, rtm_dst_len, rtm_src_len, rtm_tos, rtm_table,
//                  rtm_protocol, rtm_scope, rtm_type; u32 rtm_flags; };   (linux/rtnetlink.h)
//   struct rtnexthop { u16 rtnh_len; u8 rtnh_flags; u8 rtnh_hops; s32 rtnh_ifindex; }
import { DecodeError } from "@linx/netlink"
import { forEachAttr, type Message, type MessageWriter, nl, readU32, requireHeader } from "@linx/netlink/wire"
import { type Family, formatIp } from "@linx/netlink/ip"
import * as c from "./constants.ts"
import { ipv4Fresh, packRouteId, packRouteIdAt } from "./route-id.ts"

export { packRouteId }
import { familyNumber } from "./addr.ts"

export interface Nexthop {
  gateway?: string
  oif: number
  weight: number
  flags: number
}

/** A route as the kernel reports it (ip route show table all). */
export interface Route {
  /** the kernel's route key, packed (see packRouteId): equal ids = the same route */
  id: string
  family: Family
  /** "10.0.0.0/8", "::/0" */
  dst: string
  tos: number
  table: number
  protocol: number
  scope: number
  type: number
  flags: number
  priority: number
  oif: number
  gateway?: string
  prefsrc?: string
  mtu?: number
  /** the other metrics set on the route (absent when none are) */
  metrics?: Partial<Record<c.RouteMetric, number>>
  nexthops?: Nexthop[]
  /** RTA_NH_ID: through a nexthop object */
  nhid?: number
  /** RTA_PREF (IPv6) */
  pref?: number
}

export interface RouteRequest {
  /**
   * create = CREATE|EXCL: fails with EEXIST when any route has the key (never overwrites,
   * never appends to an IPv6 multipath route); replace = REPLACE only: changes the route
   * observed as ours, fails with ENOENT when it is gone; delete matches the protocol too.
   */
  op: "create" | "replace" | "delete"
  family: Family
  dst: Uint8Array
  dstLen: number
  table: number
  protocol: number
  scope: number
  type: number
  tos: number
  priority: number
  /** rtm_flags, e.g. RTNH_F_ONLINK */
  flags: number
  oif?: number
  gateway?: Uint8Array
  prefsrc?: Uint8Array
  mtu?: number
  metrics?: Partial<Record<c.RouteMetric, number>>
  /** RTA_NH_ID: a route through a nexthop object (no oif or gateway of its own) */
  nhid?: number
  pref?: number
  multipath?: { oif: number; gateway?: Uint8Array; weight: number; flags: number }[]
}

/** Appends one route request (ip route replace|del) to `w`. */
export function encodeRouteRequest(w: MessageWriter, r: RouteRequest, label?: string): void {
  const create = r.op !== "delete"
  const flags = r.op === "create" ? nl.NLM_F_CREATE | nl.NLM_F_EXCL : r.op === "replace" ? nl.NLM_F_REPLACE : 0
  w.begin(create ? c.RTM_NEWROUTE : c.RTM_DELROUTE, flags, label)
  w.u8(familyNumber(r.family)).u8(r.dstLen).u8(0).u8(r.tos)
  w.u8(r.table > 255 ? c.RT_TABLE_COMPAT : r.table)
    .u8(r.protocol)
    .u8(r.scope)
    .u8(r.type)
    .u32(r.flags)
  if (r.dstLen > 0) w.attrBytes(c.RTA_DST, r.dst)
  if (r.table > 255) w.attrU32(c.RTA_TABLE, r.table)
  w.attrU32(c.RTA_PRIORITY, r.priority)
  if (create) {
    if (r.nhid !== undefined) w.attrU32(c.RTA_NH_ID, r.nhid)
    if (r.pref !== undefined) w.attrU8(c.RTA_PREF, r.pref)
    if (r.oif) w.attrU32(c.RTA_OIF, r.oif)
    if (r.gateway) w.attrBytes(c.RTA_GATEWAY, r.gateway)
    if (r.prefsrc) w.attrBytes(c.RTA_PREFSRC, r.prefsrc)
    if (r.mtu !== undefined || r.metrics) {
      const m = w.nestStartPlain(c.RTA_METRICS)
      if (r.mtu !== undefined) w.attrU32(c.RTAX_MTU, r.mtu)
      for (const [k, n] of Object.entries(r.metrics ?? {})) w.attrU32(c.RTAX[k as c.RouteMetric], n)
      w.nestEnd(m)
    }
    if (r.multipath) {
      const mp = w.nestStartPlain(c.RTA_MULTIPATH)
      for (const nh of r.multipath) {
        // struct rtnexthop, then its own attributes; rtnh_len covers both.
        const start = w.length
        w.u16(0)
          .u8(nh.flags)
          .u8(nh.weight - 1)
          .i32(nh.oif)
        if (nh.gateway) w.attrBytes(c.RTA_GATEWAY, nh.gateway)
        w.nestEnd(start)
      }
      w.nestEnd(mp)
    }
  }
  w.end()
}

/**
 * A route dump request. With strict checking the kernel filters by table, protocol
 * and output interface itself (ip route show table T proto P dev D).
 */
export function encodeRouteDump(
  w: MessageWriter,
  filter: { family: number; table?: number; protocol?: number; oif?: number },
): void {
  w.begin(c.RTM_GETROUTE, 0)
  const table = filter.table ?? 0
  w.u8(filter.family)
    .u8(0)
    .u8(0)
    .u8(0)
    .u8(table > 255 ? c.RT_TABLE_COMPAT : table)
    .u8(filter.protocol ?? 0)
    .u8(0)
    .u8(0)
    .u32(0)
  if (table > 255) w.attrU32(c.RTA_TABLE, table)
  if (filter.oif) w.attrU32(c.RTA_OIF, filter.oif)
  w.end()
}

/** ip route get fibmatch DST table T: the route that matches (or ENETUNREACH/ENOENT). */
export function encodeRouteGet(w: MessageWriter, family: Family, dst: Uint8Array, table: number): void {
  w.begin(c.RTM_GETROUTE, 0)
  w.u8(familyNumber(family))
    .u8(dst.length * 8)
    .u8(0)
    .u8(0)
    .u8(0)
    .u8(0)
    .u8(0)
    .u8(0)
    .u32(c.RTM_F_FIB_MATCH)
  w.attrBytes(c.RTA_DST, dst)
  w.attrU32(c.RTA_TABLE, table)
  w.end()
}

function ipAt(v: DataView, off: number, len: number): string {
  if (len !== 4 && len !== 16) throw new DecodeError(off, `an address attribute holds ${len} bytes, not 4 or 16`)
  return formatIp(new Uint8Array(v.buffer, v.byteOffset + off, len))
}

const ZERO4 = "0.0.0.0"
const ZERO6 = "::"

/** RTAX_* → metric name (the known ones; RTAX_MTU is its own field) */
export const METRIC_NAMES: Readonly<Record<number, c.RouteMetric>> = Object.fromEntries(
  Object.entries(c.RTAX).map(([k, n]) => [n, k as c.RouteMetric]),
)

/** Decodes an RTM_NEWROUTE message (hot: 100k per dump, so no closures and one object shape). */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: hand-tuned wire decoder on the observe hot path (1M routes), one flat loop
export function decodeRoute(m: Message): Route {
  requireHeader(m, c.RTMSG_LEN, "rtmsg")
  const v = m.view
  const p = m.payload
  const familyNum = v.getUint8(p)
  const family: Family = familyNum === c.AF_INET ? "inet" : "inet6"
  const dstLen = v.getUint8(p + 1)
  const tos = v.getUint8(p + 3)
  let table = v.getUint8(p + 4)
  let priority = 0
  let oif = 0
  let dstOff = -1
  let dstBytes = 0
  let gateway: string | undefined
  let prefsrc: string | undefined
  let mtu: number | undefined
  let metrics: Partial<Record<c.RouteMetric, number>> | undefined
  let nexthops: Nexthop[] | undefined
  let nhid: number | undefined
  let pref: number | undefined
  let a = p + c.RTMSG_LEN
  const end = m.end
  while (a + 4 <= end) {
    const len = v.getUint16(a, true)
    if (len < 4 || a + len > end)
      throw new DecodeError(a + m.view.byteOffset, `route attribute length ${len} is malformed`)
    const type = v.getUint16(a + 2, true) & 0x3fff
    const off = a + 4
    const plen = len - 4
    switch (type) {
      case c.RTA_DST:
        dstOff = off
        dstBytes = plen
        break
      case c.RTA_TABLE:
        table = readU32(v, off, plen)
        break
      case c.RTA_PRIORITY:
        priority = readU32(v, off, plen)
        break
      case c.RTA_OIF:
        oif = readU32(v, off, plen)
        break
      case c.RTA_GATEWAY:
        gateway = plen === 4 ? ipv4Fresh(v, off) : ipAt(v, off, plen)
        break
      case c.RTA_PREFSRC:
        prefsrc = plen === 4 ? ipv4Fresh(v, off) : ipAt(v, off, plen)
        break
      case c.RTA_METRICS:
        forEachAttr(v, off, off + plen, (mt, moff, mlen) => {
          if (mt === c.RTAX_MTU) mtu = readU32(v, moff, mlen)
          else {
            const name = METRIC_NAMES[mt]
            if (name) {
              metrics ??= {}
              metrics[name] = readU32(v, moff, mlen)
            }
          }
        })
        break
      case c.RTA_MULTIPATH:
        nexthops = decodeMultipath(v, off, off + plen)
        break
      case c.RTA_NH_ID:
        nhid = readU32(v, off, plen)
        break
      case c.RTA_PREF:
        pref = v.getUint8(off)
        break
    }
    a += (len + 3) & ~3
  }
  if (dstLen > (family === "inet" ? 32 : 128))
    throw new DecodeError(m.offset, `route prefix length ${dstLen} is longer than a ${family} address`)
  const dst =
    dstOff >= 0 && dstBytes === 4
      ? `${v.getUint8(dstOff)}.${v.getUint8(dstOff + 1)}.${v.getUint8(dstOff + 2)}.${v.getUint8(dstOff + 3)}/${dstLen}`
      : `${dstOff < 0 ? (family === "inet" ? ZERO4 : ZERO6) : ipAt(v, dstOff, dstBytes)}/${dstLen}`
  const r: Route = {
    id:
      dstOff < 0 || dstLen === 0
        ? packRouteId(familyNum, table, priority, tos, dstLen, undefined)
        : packRouteIdAt(familyNum, table, priority, tos, dstLen, v, dstOff, dstBytes),
    family,
    dst,
    tos,
    table,
    protocol: v.getUint8(p + 5),
    scope: v.getUint8(p + 6),
    type: v.getUint8(p + 7),
    flags: v.getUint32(p + 8, true),
    priority,
    oif,
  }
  if (gateway !== undefined) r.gateway = gateway
  if (prefsrc !== undefined) r.prefsrc = prefsrc
  if (mtu !== undefined) r.mtu = mtu
  if (metrics !== undefined) r.metrics = metrics
  if (nexthops !== undefined) r.nexthops = nexthops
  if (nhid !== undefined) r.nhid = nhid
  if (pref !== undefined) r.pref = pref
  return r
}

function decodeMultipath(v: DataView, start: number, end: number): Nexthop[] {
  const out: Nexthop[] = []
  let p = start
  while (p + c.RTNH_LEN <= end) {
    const len = v.getUint16(p, true)
    if (len < c.RTNH_LEN || p + len > end) break
    const nh: Nexthop = { flags: v.getUint8(p + 2), weight: v.getUint8(p + 3) + 1, oif: v.getInt32(p + 4, true) }
    forEachAttr(v, p + c.RTNH_LEN, p + len, (type, off, alen) => {
      if (type === c.RTA_GATEWAY) nh.gateway = ipAt(v, off, alen)
    })
    out.push(nh)
    p += (len + 3) & ~3
  }
  return out
}
