// Bridge forwarding entries (bridge fdb): RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH with
// family AF_BRIDGE. On a vxlan device (NTF_SELF) an entry sends a MAC to a remote VTEP
// (NDA_DST); the all-zeros MAC is the flood list, one entry per remote (NLM_F_APPEND).
// On a bridge port (NTF_MASTER) an entry pins a MAC to that port.
import { DecodeError } from "@linx/netlink"
import { forEachAttr, type Message, type MessageWriter, nl, readU16, readU32, requireHeader } from "@linx/netlink/wire"
import { formatIp, formatMac } from "@linx/netlink/ip"
import * as c from "./constants.ts"

export interface FdbEntry {
  /** ifindex of the port or vxlan device */
  index: number
  lladdr: string
  /** a vxlan remote */
  dst?: string
  vni?: number
  vlan?: number
  /** NTF_SELF / NTF_MASTER … */
  flags: number
  /** NUD_PERMANENT, NUD_NOARP (static), NUD_REACHABLE (learned) … */
  state: number
}

export interface FdbRequest {
  op: "create" | "delete"
  index: number
  lladdr: Uint8Array
  dst?: Uint8Array
  vni?: number
  vlan?: number
  flags: number
  state: number
}

/** bridge fdb append|add|del: an entry with a remote is appended (a MAC may go to several remotes). */
export function encodeFdbRequest(w: MessageWriter, r: FdbRequest, label?: string): void {
  const create = r.op === "create"
  const flags = create ? nl.NLM_F_CREATE | (r.dst ? nl.NLM_F_APPEND : nl.NLM_F_EXCL) : 0
  w.begin(create ? c.RTM_NEWNEIGH : c.RTM_DELNEIGH, flags, label)
  w.u8(c.AF_BRIDGE).u8(0).u16(0).u32(r.index).u16(r.state).u8(r.flags).u8(0)
  w.attrBytes(c.NDA.LLADDR, r.lladdr)
  if (r.dst) w.attrBytes(c.NDA.DST, r.dst)
  if (r.vni !== undefined) w.attrU32(c.NDA.VNI, r.vni)
  if (r.vlan !== undefined) w.attrU16(c.NDA.VLAN, r.vlan)
  w.end()
}

export function encodeFdbDump(w: MessageWriter): void {
  w.begin(c.RTM_GETNEIGH, 0).u8(c.AF_BRIDGE).u8(0).u16(0).u32(0).u16(0).u8(0).u8(0).end()
}

export function isFdbMessage(m: Message): boolean {
  return m.view.getUint8(m.payload) === c.AF_BRIDGE
}

export function decodeFdb(m: Message): FdbEntry {
  requireHeader(m, c.NDMSG_LEN, "ndmsg")
  const v = m.view
  const p = m.payload
  const e: FdbEntry = {
    index: v.getInt32(p + 4, true),
    lladdr: "",
    state: v.getUint16(p + 8, true),
    flags: v.getUint8(p + 10),
  }
  forEachAttr(v, p + c.NDMSG_LEN, m.end, (type, off, len) => {
    if (type === c.NDA.LLADDR) e.lladdr = formatMac(new Uint8Array(v.buffer, v.byteOffset + off, len))
    else if (type === c.NDA.DST) {
      if (len !== 4 && len !== 16) throw new DecodeError(off, `an fdb remote holds ${len} bytes, not 4 or 16`)
      e.dst = formatIp(new Uint8Array(v.buffer, v.byteOffset + off, len))
    } else if (type === c.NDA.VNI) e.vni = readU32(v, off, len)
    else if (type === c.NDA.VLAN) e.vlan = readU16(v, off, len)
    // a bridge's entry names its bridge (NDA_MASTER); its ndm_flags need not say NTF_MASTER
    else if (type === c.NDA.MASTER && !(e.flags & c.NTF_SELF)) e.flags |= c.NTF_MASTER
  })
  return e
}
