// RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR encode and decode.
//   struct ifaddrmsg { u8 ifa_family; u8 ifa_prefixlen; u8 ifa_flags; u8 ifa_scope;
//                      u32 ifa_index; };                                (linux/if_addr.h)
// IPv4: IFA_LOCAL is the address, IFA_ADDRESS the peer (or the same address).
// IPv6: IFA_ADDRESS is the address, unless IFA_LOCAL is present (then IFA_ADDRESS is the peer).
import { DecodeError } from "@linx/netlink"
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
import { type Family, formatIp } from "@linx/netlink/ip"
import * as c from "./constants.ts"

/** An address as the kernel reports it (ip addr show). */
export interface Address {
  family: Family
  /** ifindex of its link */
  index: number
  /** "10.0.0.1/24", canonical */
  address: string
  peer?: string
  label?: string
  /** IFA_FLAGS, including volatile ones (tentative, dadfailed, ...) that diff ignores */
  flags: number
  scope: number
  /** IFA_PROTO; 0 when unset */
  proto: number
  /** seconds left (IFA_CACHEINFO); absent: forever */
  validLft?: number
  preferredLft?: number
}

export interface AddressRequest {
  op: "create" | "delete"
  family: Family
  index: number
  prefixLen: number
  local: Uint8Array
  peer?: Uint8Array
  label?: string
  /** IFA_FLAGS (IFA_F_NODAD, IFA_F_NOPREFIXROUTE) */
  flags?: number
  /** IFA_PROTO */
  proto?: number
  /** seconds (LIFETIME_FOREVER for none): IFA_CACHEINFO */
  lifetimes?: { valid: number; preferred: number }
}

export function familyNumber(f: Family): number {
  return f === "inet" ? c.AF_INET : c.AF_INET6
}

/** Appends one address request (ip addr add|del) to `w`. */
export function encodeAddressRequest(w: MessageWriter, r: AddressRequest, label?: string): void {
  const create = r.op === "create"
  w.begin(create ? c.RTM_NEWADDR : c.RTM_DELADDR, create ? nl.NLM_F_CREATE | nl.NLM_F_EXCL : 0, label)
  const flags = r.flags ?? 0
  w.u8(familyNumber(r.family))
    .u8(r.prefixLen)
    .u8(flags & 0xff)
    .u8(0)
    .u32(r.index)
  if (r.family === "inet") {
    w.attrBytes(c.IFA_LOCAL, r.local)
    w.attrBytes(c.IFA_ADDRESS, r.peer ?? r.local)
  } else if (r.peer) {
    w.attrBytes(c.IFA_LOCAL, r.local)
    w.attrBytes(c.IFA_ADDRESS, r.peer)
  } else {
    w.attrBytes(c.IFA_ADDRESS, r.local)
  }
  if (create) {
    if (r.label !== undefined) w.attrString(c.IFA_LABEL, r.label)
    if (flags) w.attrU32(c.IFA_FLAGS, flags)
    if (r.proto !== undefined) w.attrU8(c.IFA_PROTO, r.proto)
    if (r.lifetimes) {
      const b = new Uint8Array(16)
      const dv = new DataView(b.buffer)
      dv.setUint32(0, r.lifetimes.preferred, true)
      dv.setUint32(4, r.lifetimes.valid, true)
      w.attrBytes(c.IFA_CACHEINFO, b)
    }
  }
  w.end()
}

/** ip addr show (both families). */
export function encodeAddressDump(w: MessageWriter, family: number = c.AF_UNSPEC): void {
  w.begin(c.RTM_GETADDR, 0).u8(family).u8(0).u8(0).u8(0).u32(0).end()
}

function ipAt(v: DataView, off: number, len: number): string {
  if (len !== 4 && len !== 16) throw new DecodeError(off, `an address attribute holds ${len} bytes, not 4 or 16`)
  return formatIp(new Uint8Array(v.buffer, v.byteOffset + off, len))
}

export function decodeAddress(m: Message): Address {
  requireHeader(m, c.IFADDRMSG_LEN, "ifaddrmsg")
  const v = m.view
  const p = m.payload
  const familyNum = v.getUint8(p)
  const family: Family = familyNum === c.AF_INET ? "inet" : "inet6"
  const prefixLen = v.getUint8(p + 1)
  let flags = v.getUint8(p + 2)
  const scope = v.getUint8(p + 3)
  const index = v.getUint32(p + 4, true)
  let local: string | undefined
  let address: string | undefined
  let label: string | undefined
  let proto = 0
  let preferred = c.LIFETIME_FOREVER
  let valid = c.LIFETIME_FOREVER
  forEachAttr(v, p + c.IFADDRMSG_LEN, m.end, (type, off, len) => {
    switch (type) {
      case c.IFA_LOCAL:
        local = ipAt(v, off, len)
        break
      case c.IFA_ADDRESS:
        address = ipAt(v, off, len)
        break
      case c.IFA_LABEL:
        label = readString(v, off, len)
        break
      case c.IFA_FLAGS:
        flags = readU32(v, off, len)
        break
      case c.IFA_PROTO:
        proto = readU8(v, off, len)
        break
      case c.IFA_CACHEINFO:
        if (len >= 8) {
          preferred = v.getUint32(off, true)
          valid = v.getUint32(off + 4, true)
        }
        break
    }
  })
  const own = local ?? address ?? ""
  const peer = local !== undefined && address !== undefined && address !== local ? address : undefined
  const a: Address = { family, index, address: `${own}/${prefixLen}`, flags, scope, proto }
  if (peer) a.peer = peer
  if (label !== undefined) a.label = label
  if (valid !== c.LIFETIME_FOREVER) a.validLft = valid
  if (preferred !== c.LIFETIME_FOREVER) a.preferredLft = preferred
  return a
}

/** ifa_family and ifa_index of an address message, without decoding the rest. */
export function addressFamilyAndIndex(m: Message): { family: number; index: number } {
  requireHeader(m, c.IFADDRMSG_LEN, "ifaddrmsg")
  return { family: m.view.getUint8(m.payload), index: m.view.getUint32(m.payload + 4, true) }
}
