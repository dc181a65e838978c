// The fake kernel's links, addresses and routes (fake.ts), with the kernel's answers to
// requests: EEXIST for a duplicate create, ENODEV/ESRCH/EADDRNOTAVAIL for what is
// missing, ENETDOWN for an IPv4 route on a down device, ENETUNREACH for a gateway no
// address reaches, routes vanishing with their device, a veth pair made and deleted
// together. Functions of the tables, as tables.ts is for rules and neighbours.
import { NetlinkError } from "@linx/netlink"
import { errno } from "@linx/netlink/wire"
import { formatIp, formatMac, formatPrefix, networkOf, parseIp, parsePrefix } from "@linx/netlink/ip"
import type { Address } from "../address/diff.ts"
import type { Link } from "../link/diff.ts"
import { type Route, withRouteId } from "../route/model.ts"
import type { AddressRequest } from "../wire/addr.ts"
import * as c from "../wire/constants.ts"
import type { LinkRequest } from "../wire/link.ts"
import type { RouteRequest } from "../wire/route.ts"

const fail = (no: number, message: string) => new NetlinkError(no, { extAck: { message } })
const { ENOENT, ESRCH, EEXIST, ENODEV, EINVAL, EOPNOTSUPP, EADDRNOTAVAIL, ENETDOWN, ENETUNREACH } = errno

/** What these functions read and change of a fake kernel. */
export interface FakeTables {
  linkTable: Map<number, Link>
  addressTable: Address[]
  routeTable: Route[]
  /** the next interface index and MAC address suffix to give */
  counters: { index: number; mac: number }
  /** link kinds this kernel does not have (EOPNOTSUPP) */
  unsupportedKinds?: readonly string[] | undefined
}

export function linkByName(k: FakeTables, name: string): Link | undefined {
  for (const l of k.linkTable.values()) if (l.name === name) return l
  return undefined
}

function findLink(k: FakeTables, req: { index?: number; name?: string }): Link | undefined {
  if (req.index) return k.linkTable.get(req.index)
  return req.name ? linkByName(k, req.name) : undefined
}

export function nextMac(k: FakeTables): string {
  const n = k.counters.mac++
  return formatMac(new Uint8Array([0x02, 0, 0, 0, (n >> 8) & 255, n & 255]))
}

export function linkRequest(k: FakeTables, req: LinkRequest): NetlinkError | undefined {
  switch (req.op) {
    case "create":
      return createLink(k, req)
    case "set":
      return setLink(k, req)
    case "delete": {
      const l = findLink(k, req)
      if (!l) return fail(ENODEV, "Cannot find device")
      deleteLinkIn(k, l)
      return undefined
    }
  }
}

export function createLink(k: FakeTables, req: LinkRequest): NetlinkError | undefined {
  if (!req.name) return fail(EINVAL, "missing name")
  if (linkByName(k, req.name)) return fail(EEXIST, "File exists")
  if (!req.kind || k.unsupportedKinds?.includes(req.kind)) return fail(EOPNOTSUPP, "Unknown device type")
  if (req.peer && linkByName(k, req.peer.name)) return fail(EEXIST, "File exists")
  if ((req.kind === "vlan" || req.kind === "macvlan" || req.kind === "ipvlan") && !k.linkTable.get(req.linkIndex ?? 0))
    return fail(ENODEV, "No such device")
  const index = k.counters.index++
  const link: Link = {
    index,
    name: req.name,
    kind: req.kind,
    up: !!req.up,
    mtu: req.mtu ?? 1500,
    mac: req.mac ? formatMac(req.mac) : nextMac(k),
    masterIndex: req.masterIndex ?? 0,
    group: req.group ?? 0,
    linkIndex: req.linkIndex ?? 0,
    operState: 0,
  }
  if (req.kind === "bridge") {
    link.stp = req.bridge?.stp ?? false
    link.vlanFiltering = req.bridge?.vlanFiltering ?? false
  }
  if (req.kind === "vlan" && req.vlan) {
    link.vlanId = req.vlan.id
    link.vlanProtocol = req.vlan.protocol === c.ETH_P_8021AD ? "802.1ad" : "802.1q"
  }
  if (req.kind === "macvlan")
    link.mode = Object.keys(c.MACVLAN_MODE).find((k) => c.MACVLAN_MODE[k] === req.macvlanMode) ?? "vepa"
  if (req.kind === "ipvlan")
    link.mode = Object.keys(c.IPVLAN_MODE).find((k) => c.IPVLAN_MODE[k] === req.ipvlanMode) ?? "l3"
  k.linkTable.set(index, link)
  if (req.kind === "veth" && req.peer) {
    if (req.peer.netnsFd !== undefined) {
      link.linkNetnsId = 0
    } else {
      const pi = k.counters.index++
      k.linkTable.set(pi, {
        index: pi,
        name: req.peer.name,
        kind: "veth",
        up: false,
        mtu: req.peer.mtu ?? 1500,
        mac: req.peer.mac ? formatMac(req.peer.mac) : nextMac(k),
        masterIndex: 0,
        group: req.group ?? 0,
        linkIndex: index,
        operState: 0,
      })
      link.linkIndex = pi
    }
  }
  return undefined
}

function setLink(k: FakeTables, req: LinkRequest): NetlinkError | undefined {
  const l = findLink(k, req)
  if (!l) return fail(ENODEV, "No such device")
  if (req.masterIndex) {
    const m = k.linkTable.get(req.masterIndex)
    if (!m) return fail(ENODEV, "No such device")
    if (m.kind !== "bridge") return fail(EOPNOTSUPP, "Device does not allow enslaving to a master")
  }
  if (req.mtu !== undefined) l.mtu = req.mtu
  if (req.mac !== undefined) l.mac = formatMac(req.mac)
  if (req.group !== undefined) l.group = req.group
  if (req.alias !== undefined) l.alias = req.alias
  if (req.masterIndex !== undefined) l.masterIndex = req.masterIndex
  if (req.bridge?.stp !== undefined) l.stp = req.bridge.stp
  if (req.bridge?.vlanFiltering !== undefined) l.vlanFiltering = req.bridge.vlanFiltering
  if (req.up !== undefined) {
    l.up = req.up
    if (!req.up) k.routeTable = k.routeTable.filter((r) => r.oif !== l.index || r.protocol === c.RTPROT_KERNEL)
  }
  return undefined
}

export function deleteLinkIn(k: FakeTables, l: Link): void {
  k.linkTable.delete(l.index)
  if (l.kind === "veth" && l.linkNetnsId === undefined) k.linkTable.delete(l.linkIndex)
  const gone = new Set([l.index, l.kind === "veth" ? l.linkIndex : -1])
  k.addressTable = k.addressTable.filter((a) => !gone.has(a.index))
  k.routeTable = k.routeTable.filter((r) => !gone.has(r.oif) && !r.nexthops?.some((n) => gone.has(n.oif)))
  for (const other of k.linkTable.values()) if (gone.has(other.masterIndex)) other.masterIndex = 0
}

export function addressRequest(k: FakeTables, req: AddressRequest): NetlinkError | undefined {
  const l = k.linkTable.get(req.index)
  if (!l) return fail(ENODEV, "No such device")
  const address = `${formatIp(req.local)}/${req.prefixLen}`
  const existing = k.addressTable.find((a) => a.index === req.index && a.address === address)
  if (req.op === "delete") {
    if (!existing) return fail(EADDRNOTAVAIL, "Cannot assign requested address")
    k.addressTable = k.addressTable.filter((a) => a !== existing)
    k.routeTable = k.routeTable.filter(
      (r) => !(r.protocol === c.RTPROT_KERNEL && r.oif === req.index && r.prefsrc === formatIp(req.local)),
    )
    return undefined
  }
  if (existing) return fail(EEXIST, "File exists")
  const a: Address = {
    family: req.family,
    index: req.index,
    address,
    flags: req.flags ?? 0,
    scope: 0,
    proto: req.proto ?? 0,
  }
  if (req.peer) a.peer = formatIp(req.peer)
  if (req.label) a.label = req.label
  else if (req.family === "inet") a.label = l.name
  k.addressTable.push(a)
  if (!((req.flags ?? 0) & c.IFA_F_NOPREFIXROUTE)) {
    const net = networkOf(parsePrefix(address)!)
    k.routeTable.push(
      withRouteId({
        family: req.family,
        dst: formatPrefix(net),
        tos: 0,
        table: c.RT_TABLE_MAIN,
        protocol: c.RTPROT_KERNEL,
        scope: req.family === "inet" ? c.RT_SCOPE_LINK : 0,
        type: c.RTN_UNICAST,
        flags: 0,
        priority: req.family === "inet" ? 0 : 256,
        oif: req.index,
        prefsrc: formatIp(req.local),
      }),
    )
  }
  return undefined
}

function reachable(k: FakeTables, gw: string, oif: number): boolean {
  const ip = parseIp(gw)!
  return k.addressTable.some((a) => {
    if (oif && a.index !== oif) return false
    const p = parsePrefix(a.address)!
    if (p.family !== ip.family) return false
    return formatPrefix(networkOf(p)) === formatPrefix(networkOf({ ...ip, prefixLen: p.prefixLen }))
  })
}

export function routeRequest(k: FakeTables, req: RouteRequest): NetlinkError | undefined {
  const dst = `${formatIp(req.dst)}/${req.dstLen}`
  const same = (r: Route) =>
    r.family === req.family &&
    r.table === req.table &&
    r.dst === dst &&
    r.priority === req.priority &&
    (req.family === "inet6" || r.tos === req.tos)
  if (req.op === "delete") {
    // like the kernel: a protocol in the request must match too
    const i = k.routeTable.findIndex((r) => same(r) && (!req.protocol || r.protocol === req.protocol))
    if (i < 0) return fail(req.family === "inet" ? ESRCH : ENOENT, "No such process")
    k.routeTable.splice(i, 1)
    return undefined
  }
  const existing = k.routeTable.findIndex(same)
  if (req.op === "create" && existing >= 0) return fail(EEXIST, "File exists")
  if (req.op === "replace" && existing < 0) return fail(ENOENT, "No such file or directory")
  const hops =
    req.multipath ??
    (req.oif || req.gateway ? [{ oif: req.oif ?? 0, gateway: req.gateway, weight: 1, flags: req.flags }] : [])
  let firstOif = 0
  for (const h of hops) {
    if (h.oif && !k.linkTable.get(h.oif)) return fail(ENODEV, "No such device")
    const gw = h.gateway ? formatIp(h.gateway) : undefined
    const onlink = ((h.flags ?? 0) & c.RTNH_F_ONLINK) !== 0
    if (gw && !onlink && !reachable(k, gw, h.oif)) return fail(ENETUNREACH, "Nexthop has invalid gateway")
    const oif = h.oif || k.addressTable.find((a) => gw && reachable(k, gw, a.index))?.index || 0
    const link = k.linkTable.get(oif)
    if (req.family === "inet" && link && !link.up) return fail(ENETDOWN, "Nexthop device is not up")
    firstOif ||= oif
  }
  const route: Route = withRouteId({
    family: req.family,
    dst,
    tos: req.tos,
    table: req.table,
    protocol: req.protocol,
    scope: req.scope,
    type: req.type,
    flags: req.flags,
    priority: req.priority,
    oif: req.multipath ? 0 : firstOif,
  })
  if (req.gateway) route.gateway = formatIp(req.gateway)
  if (req.prefsrc) route.prefsrc = formatIp(req.prefsrc)
  if (req.mtu !== undefined) route.mtu = req.mtu
  if (req.multipath)
    route.nexthops = req.multipath.map((h) => ({
      oif: h.oif,
      weight: h.weight,
      flags: h.flags,
      ...(h.gateway ? { gateway: formatIp(h.gateway) } : {}),
    }))
  if (existing >= 0) k.routeTable[existing] = route
  else k.routeTable.push(route)
  return undefined
}
