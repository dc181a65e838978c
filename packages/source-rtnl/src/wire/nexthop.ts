// RTM_NEWNEXTHOP / RTM_DELNEXTHOP / RTM_GETNEXTHOP encode and decode (ip nexthop).
//   struct nhmsg { u8 nh_family; u8 nh_scope; u8 nh_protocol; u8 resvd; u32 nh_flags; }
//   NHA_GROUP: struct nexthop_grp { u32 id; u8 weight; u8 resvd1; u16 resvd2; } …
// (linux/nexthop.h; a group's weight on the wire is the weight minus one).
import { DecodeError } from "@linx/netlink"
import { forEachAttr, type Message, type MessageWriter, nl, readU32, requireHeader } from "@linx/netlink/wire"
import { type Family, formatIp } from "@linx/netlink/ip"
import * as c from "./constants.ts"

export interface Nexthop {
  id: number
  /** inet, inet6; a group or a blackhole may be unspec */
  family: Family | "unspec"
  gateway?: string
  /** ifindex (0: none) */
  oif: number
  blackhole: boolean
  group?: { id: number; weight: number }[]
  flags: number
  protocol: number
}

export interface NexthopRequest {
  op: "create" | "replace" | "delete"
  id: number
  family: Family | "unspec"
  gateway?: Uint8Array
  oif?: number
  blackhole?: boolean
  group?: { id: number; weight: number }[]
  onlink?: boolean
  protocol?: number
}

const FAMILY = { inet: c.AF_INET, inet6: c.AF_INET6, unspec: c.AF_UNSPEC } as const

export function encodeNexthopRequest(w: MessageWriter, r: NexthopRequest, label?: string): void {
  const flags = r.op === "create" ? nl.NLM_F_CREATE | nl.NLM_F_EXCL : r.op === "replace" ? nl.NLM_F_REPLACE : 0
  w.begin(r.op === "delete" ? c.RTM_DELNEXTHOP : c.RTM_NEWNEXTHOP, flags, label)
  w.u8(FAMILY[r.family])
    .u8(0)
    .u8(r.op === "delete" ? 0 : (r.protocol ?? 0))
    .u8(0)
    .u32(r.onlink ? c.RTNH_F_ONLINK : 0)
  w.attrU32(c.NHA.ID, r.id)
  if (r.op !== "delete") {
    if (r.group) {
      const b = new Uint8Array(8 * r.group.length)
      const v = new DataView(b.buffer)
      r.group.forEach((g, i) => {
        v.setUint32(i * 8, g.id, true)
        v.setUint8(i * 8 + 4, g.weight - 1)
      })
      w.attrBytes(c.NHA.GROUP, b)
    } else if (r.blackhole) w.attrBytes(c.NHA.BLACKHOLE, new Uint8Array(0))
    else {
      if (r.oif) w.attrU32(c.NHA.OIF, r.oif)
      if (r.gateway) w.attrBytes(c.NHA.GATEWAY, r.gateway)
    }
  }
  w.end()
}

export function encodeNexthopDump(w: MessageWriter): void {
  w.begin(c.RTM_GETNEXTHOP, 0).u8(c.AF_UNSPEC).u8(0).u8(0).u8(0).u32(0).end()
}

export function decodeNexthop(m: Message): Nexthop {
  requireHeader(m, c.NHMSG_LEN, "nhmsg")
  const v = m.view
  const p = m.payload
  const f = v.getUint8(p)
  const n: Nexthop = {
    id: 0,
    family: f === c.AF_INET ? "inet" : f === c.AF_INET6 ? "inet6" : "unspec",
    oif: 0,
    blackhole: false,
    flags: v.getUint32(p + 4, true),
    protocol: v.getUint8(p + 2),
  }
  forEachAttr(v, p + c.NHMSG_LEN, m.end, (type, off, len) => {
    switch (type) {
      case c.NHA.ID:
        n.id = readU32(v, off, len)
        break
      case c.NHA.OIF:
        n.oif = readU32(v, off, len)
        break
      case c.NHA.GATEWAY:
        if (len !== 4 && len !== 16) throw new DecodeError(off, `a nexthop gateway holds ${len} bytes, not 4 or 16`)
        n.gateway = formatIp(new Uint8Array(v.buffer, v.byteOffset + off, len))
        break
      case c.NHA.BLACKHOLE:
        n.blackhole = true
        break
      case c.NHA.GROUP:
        if (len % 8) throw new DecodeError(off, `a nexthop group of ${len} bytes is not a list of 8-byte entries`)
        n.group = []
        for (let i = 0; i < len; i += 8)
          n.group.push({ id: v.getUint32(off + i, true), weight: v.getUint8(off + i + 4) + 1 })
        break
    }
  })
  return n
}
