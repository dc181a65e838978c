// RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH encode and decode (ip neigh).
//   struct ndmsg { u8 ndm_family; u8 pad1; u16 pad2; s32 ndm_ifindex; u16 ndm_state;
//                  u8 ndm_flags; u8 ndm_type; }                        (linux/neighbour.h)
import { DecodeError } from "@linx/netlink"
import { forEachAttr, type Message, type MessageWriter, nl, readU8, requireHeader } from "@linx/netlink/wire"
import { type Family, formatIp, formatMac } from "@linx/netlink/ip"
import * as c from "./constants.ts"

/** A neighbour entry as the kernel reports it (ip neigh show). */
export interface Neighbor {
  family: Family
  /** ifindex of its link */
  index: number
  /** the neighbour's IP, canonical */
  address: string
  /** its link-layer address (absent while incomplete or failed) */
  lladdr?: string
  /** NUD_* bits */
  state: number
  flags: number
  /** NDA_PROTOCOL (0 unset) */
  protocol: number
}

export interface NeighborRequest {
  op: "create" | "replace" | "delete"
  family: Family
  index: number
  address: Uint8Array
  lladdr?: Uint8Array
  state: number
  flags: number
  protocol?: number
}

const fam = (f: Family) => (f === "inet" ? c.AF_INET : c.AF_INET6)

/** Appends one request: ip neigh add (CREATE|EXCL), ip neigh replace (REPLACE), ip neigh del. */
export function encodeNeighborRequest(w: MessageWriter, r: NeighborRequest, label?: string): void {
  const flags = r.op === "create" ? nl.NLM_F_CREATE | nl.NLM_F_EXCL : r.op === "replace" ? nl.NLM_F_REPLACE : 0
  w.begin(r.op === "delete" ? c.RTM_DELNEIGH : c.RTM_NEWNEIGH, flags, label)
  w.u8(fam(r.family)).u8(0).u16(0).u32(r.index).u16(r.state).u8(r.flags).u8(0)
  w.attrBytes(c.NDA.DST, r.address)
  if (r.op !== "delete") {
    if (r.lladdr) w.attrBytes(c.NDA.LLADDR, r.lladdr)
    if (r.protocol) w.attrU8(c.NDA.PROTOCOL, r.protocol)
  }
  w.end()
}

/** ip neigh show, one family. */
export function encodeNeighborDump(w: MessageWriter, family: Family): void {
  w.begin(c.RTM_GETNEIGH, 0).u8(fam(family)).u8(0).u16(0).u32(0).u16(0).u8(0).u8(0).end()
}

export function decodeNeighbor(m: Message): Neighbor {
  requireHeader(m, c.NDMSG_LEN, "ndmsg")
  const v = m.view
  const p = m.payload
  const f = v.getUint8(p)
  const n: Neighbor = {
    family: f === c.AF_INET6 ? "inet6" : "inet",
    index: v.getInt32(p + 4, true),
    address: "",
    state: v.getUint16(p + 8, true),
    flags: v.getUint8(p + 10),
    protocol: 0,
  }
  // 100k entries are a normal table on a busy segment: no views, no arrays per entry
  forEachAttr(v, p + c.NDMSG_LEN, m.end, (type, off, len) => {
    if (type === c.NDA.DST) {
      if (len === 4)
        n.address = `${v.getUint8(off)}.${v.getUint8(off + 1)}.${v.getUint8(off + 2)}.${v.getUint8(off + 3)}`
      else if (len === 16) n.address = formatIp(new Uint8Array(v.buffer, v.byteOffset + off, len))
      else throw new DecodeError(off, `a neighbour address holds ${len} bytes, not 4 or 16`)
    } else if (type === c.NDA.LLADDR && len === 6) {
      n.lladdr = `${HEX[v.getUint8(off)]}:${HEX[v.getUint8(off + 1)]}:${HEX[v.getUint8(off + 2)]}:${HEX[v.getUint8(off + 3)]}:${HEX[v.getUint8(off + 4)]}:${HEX[v.getUint8(off + 5)]}`
    } else if (type === c.NDA.LLADDR && len > 0) n.lladdr = formatMac(new Uint8Array(v.buffer, v.byteOffset + off, len))
    else if (type === c.NDA.PROTOCOL) n.protocol = readU8(v, off, len)
  })
  return n
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** Whether a message is an IPv4/IPv6 neighbour (a dump may hold bridge FDB entries too). */
export function isIpNeighbor(m: Message): boolean {
  const f = m.view.getUint8(m.payload)
  return f === c.AF_INET || f === c.AF_INET6
}
