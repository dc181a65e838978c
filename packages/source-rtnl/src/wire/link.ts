import {
  forEachAttr,
  type Message,
  type MessageWriter,
  nl,
  readI32,
  readString,
  readU8,
  readU16,
  readU32,
  requireHeader,
} from "@linx/netlink/wire"
import { formatMac } from "@linx/netlink/ip"
import * as c from "./constants.ts"
import { decodeVxlanAttr, type VxlanInfo } from "./vxlan.ts"

export type { VxlanInfo }

/** A link as the kernel reports it (ip -d link show). */
export interface Link {
  index: number
  name: string
  /** IFLA_INFO_KIND, or "device" for a link without one (a physical NIC, lo) */
  kind: string
  up: boolean
  mtu: number
  /** IFLA_TXQLEN */
  txqlen?: number
  /** IFF_PROMISC */
  promisc?: boolean
  mac?: string
  masterIndex: number
  alias?: string
  group: number
  /** IFLA_LINK: veth peer, or the parent of vlan/macvlan/ipvlan */
  linkIndex: number
  /** IFLA_LINK_NETNSID: the peer/parent lives in another namespace */
  linkNetnsId?: number
  operState: number
  stp?: boolean
  vlanFiltering?: boolean
  /** macvlan/ipvlan mode */
  mode?: string
  vlanId?: number
  vlanProtocol?: string
  vxlan?: VxlanInfo
  /** a tun device's mode */
  tunMode?: "tun" | "tap"
  /** alternative names */
  altnames?: string[]
}

/** ip link property add|del dev INDEX altname NAME …: one message. */
export function encodeAltnames(
  w: MessageWriter,
  op: "add" | "del",
  index: number,
  names: readonly string[],
  label?: string,
): void {
  w.begin(
    op === "add" ? c.RTM_NEWLINKPROP : c.RTM_DELLINKPROP,
    op === "add" ? nl.NLM_F_CREATE | nl.NLM_F_EXCL | nl.NLM_F_APPEND : 0,
    label,
  )
  ifinfomsg(w, index, 0, 0)
  const list = w.nestStart(c.IFLA_PROP_LIST)
  for (const n of names) w.attrString(c.IFLA_ALT_IFNAME, n)
  w.nestEnd(list)
  w.end()
}

/** A link request, in kernel terms (indexes, not names). */
export interface LinkRequest {
  op: "create" | "set" | "delete"
  index?: number
  name?: string
  /** IFLA_INFO_KIND for create */
  kind?: string
  up?: boolean
  promisc?: boolean
  mtu?: number
  txqlen?: number
  mac?: Uint8Array
  /** IFLA_MASTER; 0 detaches */
  masterIndex?: number
  alias?: string
  group?: number
  /** IFLA_LINK: parent of vlan/macvlan/ipvlan */
  linkIndex?: number
  /** IFLA_NET_NS_FD: where the new link goes (for links created from a parent's namespace) */
  netnsFd?: number
  bridge?: { stp?: boolean; vlanFiltering?: boolean }
  macvlanMode?: number
  ipvlanMode?: number
  vlan?: { id: number; protocol: number }
  vxlan?: {
    vni: number
    local?: Uint8Array
    remote?: Uint8Array
    link?: number
    port: number
    learning: boolean
    ttl?: number
  }
  peer?: { name: string; netnsFd?: number; mtu?: number; mac?: Uint8Array; group?: number }
}

function ifinfomsg(w: MessageWriter, index: number, flags: number, change: number): void {
  w.u8(c.AF_UNSPEC).u8(0).u16(0).i32(index).u32(flags).u32(change)
}

/** Appends one link request to `w`. */
export function encodeLinkRequest(w: MessageWriter, r: LinkRequest, label?: string): void {
  switch (r.op) {
    case "delete":
      // ip link del dev NAME
      w.begin(c.RTM_DELLINK, 0, label)
      ifinfomsg(w, r.index ?? 0, 0, 0)
      if (!r.index && r.name) w.attrString(c.IFLA_IFNAME, r.name)
      w.end()
      return
    case "create":
    case "set": {
      const create = r.op === "create"
      w.begin(c.RTM_NEWLINK, create ? nl.NLM_F_CREATE | nl.NLM_F_EXCL : 0, label)
      const flags = (r.up ? c.IFF_UP : 0) | (r.promisc ? c.IFF_PROMISC : 0)
      const change = (r.up === undefined ? 0 : c.IFF_UP) | (r.promisc === undefined ? 0 : c.IFF_PROMISC)
      ifinfomsg(w, create ? 0 : (r.index ?? 0), flags, change)
      // by index, a name renames (a device moving into a namespace under a new name)
      if (r.name !== undefined) w.attrString(c.IFLA_IFNAME, r.name)
      if (r.mtu !== undefined) w.attrU32(c.IFLA_MTU, r.mtu)
      if (r.txqlen !== undefined) w.attrU32(c.IFLA_TXQLEN, r.txqlen)
      if (r.mac !== undefined) w.attrBytes(c.IFLA_ADDRESS, r.mac)
      if (r.group !== undefined) w.attrU32(c.IFLA_GROUP, r.group)
      if (r.masterIndex !== undefined) w.attrU32(c.IFLA_MASTER, r.masterIndex)
      if (r.alias !== undefined) w.attrString(c.IFLA_IFALIAS, r.alias)
      if (r.linkIndex !== undefined) w.attrU32(c.IFLA_LINK, r.linkIndex)
      if (r.netnsFd !== undefined) w.attrU32(c.IFLA_NET_NS_FD, r.netnsFd)
      if (r.kind) {
        const li = w.nestStart(c.IFLA_LINKINFO)
        w.attrString(c.IFLA_INFO_KIND, r.kind)
        encodeInfoData(w, r)
        w.nestEnd(li)
      }
      w.end()
      return
    }
  }
}

function encodeInfoData(w: MessageWriter, r: LinkRequest): void {
  const has =
    (r.kind === "bridge" && r.bridge && (r.bridge.stp !== undefined || r.bridge.vlanFiltering !== undefined)) ||
    (r.kind === "macvlan" && r.macvlanMode !== undefined) ||
    (r.kind === "ipvlan" && r.ipvlanMode !== undefined) ||
    (r.kind === "vlan" && r.vlan) ||
    (r.kind === "vxlan" && r.vxlan) ||
    (r.kind === "veth" && r.peer)
  if (!has) return
  const data = w.nestStart(c.IFLA_INFO_DATA)
  switch (r.kind) {
    case "bridge":
      if (r.bridge?.stp !== undefined) w.attrU32(c.IFLA_BR_STP_STATE, r.bridge.stp ? 1 : 0)
      if (r.bridge?.vlanFiltering !== undefined) w.attrU8(c.IFLA_BR_VLAN_FILTERING, r.bridge.vlanFiltering ? 1 : 0)
      break
    case "macvlan":
      w.attrU32(c.IFLA_MACVLAN_MODE, r.macvlanMode!)
      break
    case "ipvlan":
      w.attrU16(c.IFLA_IPVLAN_MODE, r.ipvlanMode!)
      break
    case "vlan":
      w.attrU16(c.IFLA_VLAN_ID, r.vlan!.id)
      w.attrU16be(c.IFLA_VLAN_PROTOCOL, r.vlan!.protocol)
      break
    case "vxlan": {
      const x = r.vxlan!
      w.attrU32(c.VXLAN.ID, x.vni)
      const six = (x.local ?? x.remote)?.length === 16
      if (x.remote) w.attrBytes(six ? c.VXLAN.GROUP6 : c.VXLAN.GROUP, x.remote)
      if (x.local) w.attrBytes(six ? c.VXLAN.LOCAL6 : c.VXLAN.LOCAL, x.local)
      if (x.link) w.attrU32(c.VXLAN.LINK, x.link)
      if (x.ttl !== undefined) w.attrU8(c.VXLAN.TTL, x.ttl)
      w.attrU8(c.VXLAN.LEARNING, x.learning ? 1 : 0)
      w.attrU16be(c.VXLAN.PORT, x.port)
      break
    }
    case "veth": {
      // VETH_INFO_PEER carries a struct ifinfomsg followed by the peer's IFLA_* attributes.
      const p = r.peer!
      const peer = w.nestStartPlain(c.VETH_INFO_PEER)
      ifinfomsg(w, 0, 0, 0)
      w.attrString(c.IFLA_IFNAME, p.name)
      if (p.netnsFd !== undefined) w.attrU32(c.IFLA_NET_NS_FD, p.netnsFd)
      if (p.mtu !== undefined) w.attrU32(c.IFLA_MTU, p.mtu)
      if (p.mac !== undefined) w.attrBytes(c.IFLA_ADDRESS, p.mac)
      if (p.group !== undefined) w.attrU32(c.IFLA_GROUP, p.group)
      w.nestEnd(peer)
      break
    }
  }
  w.nestEnd(data)
}

/** ip link show: a dump request that leaves statistics out. */
export function encodeLinkDump(w: MessageWriter): void {
  w.begin(c.RTM_GETLINK, 0)
  ifinfomsg(w, 0, 0, 0)
  w.attrU32(c.IFLA_EXT_MASK, c.RTEXT_FILTER_SKIP_STATS)
  w.end()
}

/** RTM_GETLINK for one link, by ifindex or by name (ip link show dev NAME). */
export function encodeLinkGet(w: MessageWriter, which: { index: number } | { name: string }): void {
  w.begin(c.RTM_GETLINK, 0, "ip link show")
  ifinfomsg(w, "index" in which ? which.index : 0, 0, 0)
  if ("name" in which) w.attrString(c.IFLA_IFNAME, which.name)
  w.attrU32(c.IFLA_EXT_MASK, c.RTEXT_FILTER_SKIP_STATS)
  w.end()
}

/** Decodes an RTM_NEWLINK message into a Link. */
export function decodeLink(m: Message): Link {
  requireHeader(m, c.IFINFOMSG_LEN, "ifinfomsg")
  const v = m.view
  const p = m.payload
  const link: Link = {
    index: v.getInt32(p + 4, true),
    name: "",
    kind: "device",
    up: (v.getUint32(p + 8, true) & c.IFF_UP) !== 0,
    promisc: (v.getUint32(p + 8, true) & c.IFF_PROMISC) !== 0,
    mtu: 0,
    masterIndex: 0,
    group: 0,
    linkIndex: 0,
    operState: 0,
  }
  forEachAttr(v, p + c.IFINFOMSG_LEN, m.end, (type, off, len) => {
    switch (type) {
      case c.IFLA_IFNAME:
        link.name = readString(v, off, len)
        break
      case c.IFLA_MTU:
        link.mtu = readU32(v, off, len)
        break
      case c.IFLA_TXQLEN:
        link.txqlen = readU32(v, off, len)
        break
      case c.IFLA_PROP_LIST:
        forEachAttr(v, off, off + len, (t, o, l) => {
          if (t !== c.IFLA_ALT_IFNAME) return
          link.altnames ??= []
          link.altnames.push(readString(v, o, l))
        })
        break
      case c.IFLA_ADDRESS:
        if (len === 6) link.mac = formatMac(new Uint8Array(v.buffer, v.byteOffset + off, len))
        break
      case c.IFLA_MASTER:
        link.masterIndex = readU32(v, off, len)
        break
      case c.IFLA_IFALIAS:
        link.alias = readString(v, off, len)
        break
      case c.IFLA_GROUP:
        link.group = readU32(v, off, len)
        break
      case c.IFLA_LINK:
        link.linkIndex = readI32(v, off, len)
        break
      case c.IFLA_LINK_NETNSID:
        link.linkNetnsId = readI32(v, off, len)
        break
      case c.IFLA_OPERSTATE:
        link.operState = readU8(v, off, len)
        break
      case c.IFLA_LINKINFO:
        decodeLinkInfo(v, off, off + len, link)
        break
    }
  })
  return link
}

function modeName(modes: Record<string, number>, n: number): string {
  return Object.keys(modes).find((k) => modes[k] === n) ?? String(n)
}

function decodeLinkInfo(v: DataView, start: number, end: number, link: Link): void {
  let dataOff = -1
  let dataEnd = -1
  forEachAttr(v, start, end, (type, off, len) => {
    if (type === c.IFLA_INFO_KIND) link.kind = readString(v, off, len)
    else if (type === c.IFLA_INFO_DATA) {
      dataOff = off
      dataEnd = off + len
    }
  })
  if (dataOff < 0) return
  forEachAttr(v, dataOff, dataEnd, (type, off, len) => {
    switch (link.kind) {
      case "bridge":
        if (type === c.IFLA_BR_STP_STATE) link.stp = readU32(v, off, len) !== 0
        else if (type === c.IFLA_BR_VLAN_FILTERING) link.vlanFiltering = readU8(v, off, len) !== 0
        break
      case "macvlan":
      case "macvtap":
        if (type === c.IFLA_MACVLAN_MODE) link.mode = modeName(c.MACVLAN_MODE, readU32(v, off, len))
        break
      case "ipvlan":
        if (type === c.IFLA_IPVLAN_MODE) link.mode = modeName(c.IPVLAN_MODE, readU16(v, off, len))
        break
      case "tun":
        if (type === c.IFLA_TUN_TYPE) link.tunMode = readU8(v, off, len) === 2 ? "tap" : "tun"
        break
      case "vxlan":
        link.vxlan ??= { vni: 0, link: 0, port: 0, learning: false, ttl: 0 }
        decodeVxlanAttr(link.vxlan, v, type, off, len)
        break
      case "vlan":
        if (type === c.IFLA_VLAN_ID) link.vlanId = readU16(v, off, len)
        else if (type === c.IFLA_VLAN_PROTOCOL)
          link.vlanProtocol = readU16(v, off, len, true) === c.ETH_P_8021AD ? "802.1ad" : "802.1q"
        break
    }
  })
}

/** ifi_change of a link notification: which IFF_* flags changed (~0 for a new link). */
export function linkChangeMask(m: Message): number {
  requireHeader(m, c.IFINFOMSG_LEN, "ifinfomsg")
  return m.view.getUint32(m.payload + 12, true)
}
