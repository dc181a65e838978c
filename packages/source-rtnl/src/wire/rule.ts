// RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE encode and decode (ip rule).
//   struct fib_rule_hdr { u8 family; u8 dst_len; u8 src_len; u8 tos; u8 table;
//                         u8 res1; u8 res2; u8 action; u32 flags; }   (linux/fib_rules.h)
// A rule has no key of its own: the kernel tells two apart by everything they match on
// and do, and deletes the first one that matches every attribute given.
import {
  forEachAttr,
  type Message,
  type MessageWriter,
  nl,
  readString,
  readU8,
  readU32,
  requireHeader,
} from "@linx/netlink/wire"
import { type Family, formatIp, parsePrefix } from "@linx/netlink/ip"
import { DecodeError } from "@linx/netlink"
import * as c from "./constants.ts"

/** A policy rule as the kernel reports it (ip rule show). */
export interface FibRule {
  family: Family
  priority: number
  /** FR_ACT_* */
  action: number
  table: number
  /** "10.0.0.0/8", canonical */
  src?: string
  dst?: string
  tos: number
  fwmark?: number
  fwmask?: number
  iif?: string
  oif?: string
  l3mdev?: boolean
  uidRange?: [number, number]
  ipProto?: number
  sport?: [number, number]
  dport?: [number, number]
  suppressPrefixlen?: number
  suppressIfgroup?: number
  goto?: number
  /** FIB_RULE_INVERT: "not" */
  invert: boolean
  /** FRA_PROTOCOL: who made it (0 unset, 2 kernel, 3 boot, …) */
  protocol: number
}

export interface RuleRequest {
  op: "create" | "delete"
  rule: FibRule
}

const fam = (f: Family) => (f === "inet" ? c.AF_INET : c.AF_INET6)

function prefixBytes(p: string): { bytes: Uint8Array; len: number } {
  const x = parsePrefix(p)
  if (!x) throw new Error(`"${p}" is not a network`)
  return { bytes: x.bytes, len: x.prefixLen }
}

/** Appends one rule request (ip rule add|del) to `w`: every attribute of the rule, so a delete removes exactly it. */
export function encodeRuleRequest(w: MessageWriter, r: RuleRequest, label?: string): void {
  const create = r.op === "create"
  const x = r.rule
  const src = x.src ? prefixBytes(x.src) : undefined
  const dst = x.dst ? prefixBytes(x.dst) : undefined
  w.begin(create ? c.RTM_NEWRULE : c.RTM_DELRULE, create ? nl.NLM_F_CREATE | nl.NLM_F_EXCL : 0, label)
  w.u8(fam(x.family))
    .u8(dst?.len ?? 0)
    .u8(src?.len ?? 0)
    .u8(x.tos)
    .u8(x.table < 256 ? x.table : 252 /* RT_TABLE_COMPAT: the real number goes in FRA_TABLE */)
    .u8(0)
    .u8(0)
    .u8(x.action)
    .u32(x.invert ? c.FIB_RULE_INVERT : 0)
  w.attrU32(c.FRA.PRIORITY, x.priority)
  if (x.action === c.FR_ACT.lookup) w.attrU32(c.FRA.TABLE, x.table)
  if (src) w.attrBytes(c.FRA.SRC, src.bytes)
  if (dst) w.attrBytes(c.FRA.DST, dst.bytes)
  if (x.fwmark !== undefined) w.attrU32(c.FRA.FWMARK, x.fwmark)
  if (x.fwmask !== undefined) w.attrU32(c.FRA.FWMASK, x.fwmask)
  if (x.iif !== undefined) w.attrString(c.FRA.IIFNAME, x.iif)
  if (x.oif !== undefined) w.attrString(c.FRA.OIFNAME, x.oif)
  if (x.l3mdev) w.attrU8(c.FRA.L3MDEV, 1)
  if (x.uidRange) w.attrBytes(c.FRA.UID_RANGE, u32pair(x.uidRange))
  if (x.ipProto !== undefined) w.attrU8(c.FRA.IP_PROTO, x.ipProto)
  if (x.sport) w.attrBytes(c.FRA.SPORT_RANGE, u16pair(x.sport))
  if (x.dport) w.attrBytes(c.FRA.DPORT_RANGE, u16pair(x.dport))
  if (x.suppressPrefixlen !== undefined) w.attrU32(c.FRA.SUPPRESS_PREFIXLEN, x.suppressPrefixlen)
  if (x.suppressIfgroup !== undefined) w.attrU32(c.FRA.SUPPRESS_IFGROUP, x.suppressIfgroup)
  if (x.goto !== undefined) w.attrU32(c.FRA.GOTO, x.goto)
  if (x.protocol) w.attrU8(c.FRA.PROTOCOL, x.protocol)
  w.end()
}

/** struct fib_rule_uid_range { u32 start, end } in host order. */
function u32pair([a, b]: [number, number]): Uint8Array {
  const out = new Uint8Array(8)
  const v = new DataView(out.buffer)
  v.setUint32(0, a, true)
  v.setUint32(4, b, true)
  return out
}

/** struct fib_rule_port_range { u16 start, end } in host order. */
function u16pair([a, b]: [number, number]): Uint8Array {
  const out = new Uint8Array(4)
  const v = new DataView(out.buffer)
  v.setUint16(0, a, true)
  v.setUint16(2, b, true)
  return out
}

/** ip rule show, one family. */
export function encodeRuleDump(w: MessageWriter, family: Family): void {
  w.begin(c.RTM_GETRULE, 0).u8(fam(family)).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0).end()
}

function pair(v: DataView, off: number, len: number, size: 2 | 4): [number, number] {
  if (len < size * 2) throw new DecodeError(off, `a range attribute holds ${len} bytes, not ${size * 2}`)
  return size === 4
    ? [v.getUint32(off, true), v.getUint32(off + 4, true)]
    : [v.getUint16(off, true), v.getUint16(off + 2, true)]
}

function prefixAt(v: DataView, off: number, len: number, bits: number): string {
  if (len !== 4 && len !== 16) throw new DecodeError(off, `an address attribute holds ${len} bytes, not 4 or 16`)
  return `${formatIp(new Uint8Array(v.buffer, v.byteOffset + off, len))}/${bits}`
}

export function decodeRule(m: Message): FibRule {
  requireHeader(m, c.FIB_RULE_HDR_LEN, "fib_rule_hdr")
  const v = m.view
  const p = m.payload
  const family: Family = v.getUint8(p) === c.AF_INET6 ? "inet6" : "inet"
  const dstLen = v.getUint8(p + 1)
  const srcLen = v.getUint8(p + 2)
  const r: FibRule = {
    family,
    priority: 0,
    tos: v.getUint8(p + 3),
    table: v.getUint8(p + 4),
    action: v.getUint8(p + 7),
    invert: (v.getUint32(p + 8, true) & c.FIB_RULE_INVERT) !== 0,
    protocol: 0,
  }
  forEachAttr(v, p + c.FIB_RULE_HDR_LEN, m.end, (type, off, len) => {
    switch (type) {
      case c.FRA.PRIORITY:
        r.priority = readU32(v, off, len)
        break
      case c.FRA.TABLE:
        r.table = readU32(v, off, len)
        break
      case c.FRA.SRC:
        r.src = prefixAt(v, off, len, srcLen)
        break
      case c.FRA.DST:
        r.dst = prefixAt(v, off, len, dstLen)
        break
      case c.FRA.FWMARK:
        r.fwmark = readU32(v, off, len)
        break
      case c.FRA.FWMASK:
        r.fwmask = readU32(v, off, len)
        break
      case c.FRA.IIFNAME:
        r.iif = readString(v, off, len)
        break
      case c.FRA.OIFNAME:
        r.oif = readString(v, off, len)
        break
      case c.FRA.L3MDEV:
        r.l3mdev = readU8(v, off, len) !== 0
        break
      case c.FRA.UID_RANGE:
        r.uidRange = pair(v, off, len, 4)
        break
      case c.FRA.IP_PROTO:
        r.ipProto = readU8(v, off, len)
        break
      case c.FRA.SPORT_RANGE:
        r.sport = pair(v, off, len, 2)
        break
      case c.FRA.DPORT_RANGE:
        r.dport = pair(v, off, len, 2)
        break
      // the kernel reports "not set" as -1
      case c.FRA.SUPPRESS_PREFIXLEN: {
        const n = readU32(v, off, len)
        if (n !== 0xffffffff) r.suppressPrefixlen = n
        break
      }
      case c.FRA.SUPPRESS_IFGROUP: {
        const n = readU32(v, off, len)
        if (n !== 0xffffffff) r.suppressIfgroup = n
        break
      }
      case c.FRA.GOTO:
        r.goto = readU32(v, off, len)
        break
      case c.FRA.PROTOCOL:
        r.protocol = readU8(v, off, len)
        break
    }
  })
  return r
}
