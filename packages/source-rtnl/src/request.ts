// Ops → kernel requests (names resolved to ifindexes just before their phase). Each
// builder returns the requests an op needs, or an Error when a name cannot be resolved.
import { NetlinkError } from "@linx/netlink"
import { macBytes, parseIp, parsePrefix } from "@linx/netlink/ip"
import { errno } from "@linx/netlink/wire"
import type { AddressOp } from "./addr.ts"
import type { RtnlKernel, RtnlRequest } from "./kernel.ts"
import type { LinkOp } from "./link.ts"
import type { RouteOp } from "./route.ts"
import type { LinkSpec } from "./schema.ts"
import * as c from "./wire/constants.ts"
import type { RouteRequest } from "./wire/route.ts"

export type LinkCreate = Extract<LinkOp, { kind: "create" }>
export type LinkUpdate = Extract<LinkOp, { kind: "update" }>
export type LinkDelete = Extract<LinkOp, { kind: "delete" }>
export type AddressCreate = Extract<AddressOp, { kind: "create" }>
export type AddressDelete = Extract<AddressOp, { kind: "delete" }>
export type RouteCreate = Extract<RouteOp, { kind: "create" | "update" }>
export type RouteDelete = Extract<RouteOp, { kind: "delete" }>
type LinkRequestOf = RtnlRequest & { object: "link" }

/** Resolves a link name in the namespace to its ifindex (undefined: no such link). */
export type IndexOf = (name: string) => number | undefined

/** A name that does not resolve: reported like the kernel's ENODEV, labelled with the op. */
export function missing(name: string, what: string, label: string): NetlinkError {
  return new NetlinkError(errno.ENODEV, {
    extAck: { message: `${what} ${name} does not exist` },
    request: { type: 0, flags: 0, seq: 0, label },
  })
}

export const hasParent = (s: LinkSpec): boolean => s.kind === "vlan" || s.kind === "macvlan" || s.kind === "ipvlan"

/** Equivalent to: ip link add NAME group G type KIND … (the settings creation can carry). */
export function linkCreate(kernel: RtnlKernel, op: LinkCreate, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const s = op.spec
  const request: LinkRequestOf = {
    object: "link",
    label,
    request: { op: "create", name: s.name, kind: s.kind, group: op.group },
  }
  const r = request.request
  if (s.mtu !== undefined) r.mtu = s.mtu
  if (s.mac !== undefined) r.mac = macBytes(s.mac)
  try {
    switch (s.kind) {
      case "bridge":
        if (s.stp !== undefined || s.vlanFiltering !== undefined) r.bridge = bridgeSettings(s)
        break
      case "veth":
        r.peer = { name: s.peer.name }
        if (s.peer.netns) r.peer.netnsFd = kernel.netnsFd(s.peer.netns)
        else r.peer.group = op.group
        if (s.peer.mtu !== undefined) r.peer.mtu = s.peer.mtu
        else if (s.mtu !== undefined) r.peer.mtu = s.mtu
        if (s.peer.mac !== undefined) r.peer.mac = macBytes(s.peer.mac)
        break
      case "macvlan":
      case "ipvlan":
      case "vlan": {
        const parent = s.parentNetns ? kernel.linkIndexIn(s.parentNetns, s.parent) : indexOf(s.parent)
        if (parent === undefined)
          return missing(s.parent, s.parentNetns ? `parent (in ${s.parentNetns})` : "parent", label)
        r.linkIndex = parent
        if (s.parentNetns) {
          request.via = s.parentNetns
          r.netnsFd = kernel.ownNetnsFd()
        }
        if (s.kind === "macvlan") r.macvlanMode = c.MACVLAN_MODE[s.mode]!
        if (s.kind === "ipvlan") r.ipvlanMode = c.IPVLAN_MODE[s.mode]!
        if (s.kind === "vlan")
          r.vlan = { id: s.vlanId, protocol: s.protocol === "802.1ad" ? c.ETH_P_8021AD : c.ETH_P_8021Q }
        break
      }
      case "dummy":
        break
      case "device":
        return missing(s.name, "device", label)
    }
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e))
  }
  return [request]
}

function bridgeSettings(s: { stp?: boolean | undefined; vlanFiltering?: boolean | undefined }): {
  stp?: boolean
  vlanFiltering?: boolean
} {
  const b: { stp?: boolean; vlanFiltering?: boolean } = {}
  if (s.stp !== undefined) b.stp = s.stp
  if (s.vlanFiltering !== undefined) b.vlanFiltering = s.vlanFiltering
  return b
}

/** True when a created link needs settings creation cannot carry (master, alias, up). */
export function needsSettling(s: LinkSpec): boolean {
  const peer = s.kind === "veth" && !s.peer.netns && ((s.peer.up ?? s.up) !== undefined || !!s.peer.master)
  return peer || s.up !== undefined || !!s.master || s.alias !== undefined
}

/** Equivalent to: ip link set dev NAME master M alias A up (and the same-namespace peer's). */
export function linkSettle(op: LinkCreate, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const s = op.spec
  const out: RtnlRequest[] = []
  const set = (
    name: string,
    up: boolean | undefined,
    master: string | null | undefined,
    alias?: string,
  ): Error | undefined => {
    if (up === undefined && !master && alias === undefined) return undefined
    const req: LinkRequestOf = { object: "link", label, request: { op: "set", name } }
    if (up !== undefined) req.request.up = up
    if (master) {
      const m = indexOf(master)
      if (m === undefined) return missing(master, "master", label)
      req.request.masterIndex = m
    }
    if (alias !== undefined) req.request.alias = alias
    out.push(req)
    return undefined
  }
  // the peer first: a veth end only gets carrier once both ends are up
  const peerError = s.kind === "veth" && !s.peer.netns ? set(s.peer.name, s.peer.up ?? s.up, s.peer.master) : undefined
  return peerError ?? set(s.name, s.up, s.master, s.alias) ?? out
}

/** Equivalent to: ip link set dev NAME mtu … address … master … up|down. */
export function linkUpdate(op: LinkUpdate, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const ch = op.changes
  const request: LinkRequestOf = { object: "link", label, request: { op: "set", index: op.index } }
  const r = request.request
  if (ch.up !== undefined) r.up = ch.up
  if (ch.mtu !== undefined) r.mtu = ch.mtu
  if (ch.mac !== undefined) r.mac = macBytes(ch.mac)
  if (ch.group !== undefined) r.group = ch.group
  if (ch.alias !== undefined) r.alias = ch.alias
  if (ch.master === null) r.masterIndex = 0
  else if (ch.master !== undefined) {
    const m = indexOf(ch.master)
    if (m === undefined) return missing(ch.master, "master", label)
    r.masterIndex = m
  }
  if (ch.stp !== undefined || ch.vlanFiltering !== undefined) {
    r.kind = "bridge"
    r.bridge = bridgeSettings(ch)
  }
  return [request]
}

/** Equivalent to: ip link del dev NAME, by the ifindex observed. */
export function linkDelete(op: LinkDelete, label: string): RtnlRequest[] {
  return [{ object: "link", label, request: { op: "delete", index: op.index, name: op.name } }]
}

/** Equivalent to: ip addr add ADDRESS [peer P] dev LINK [label L] [noprefixroute] [nodad] proto N. */
export function addressCreate(op: AddressCreate, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const a = op.spec
  const link = indexOf(a.link)
  if (link === undefined) return missing(a.link, "link", label)
  const p = parsePrefix(a.address)!
  let flags = 0
  if (a.noPrefixRoute) flags |= c.IFA_F_NOPREFIXROUTE
  if (a.nodad && p.family === "inet6") flags |= c.IFA_F_NODAD
  const request: RtnlRequest & { object: "address" } = {
    object: "address",
    label,
    request: {
      op: "create",
      family: p.family,
      index: link,
      prefixLen: p.prefixLen,
      local: p.bytes,
      flags,
      proto: op.proto,
    },
  }
  if (a.peer) request.request.peer = parseIp(a.peer)!.bytes
  if (a.label) request.request.label = a.label
  return [request]
}

/** Equivalent to: ip addr del ADDRESS [peer P] dev LINK. */
export function addressDelete(op: AddressDelete, label: string): RtnlRequest[] {
  const p = parsePrefix(op.address)!
  const request: RtnlRequest & { object: "address" } = {
    object: "address",
    label,
    request: { op: "delete", family: p.family, index: op.index, prefixLen: p.prefixLen, local: p.bytes },
  }
  if (op.peer) request.request.peer = parseIp(op.peer)!.bytes
  return [request]
}

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
    tos: 0,
    priority: w.priority,
    flags: w.onlink ? c.RTNH_F_ONLINK : 0,
  }
  if (w.dev) {
    const oif = indexOf(w.dev)
    if (oif === undefined) return missing(w.dev, "link", label)
    req.oif = oif
  }
  if (w.gateway) req.gateway = parseIp(w.gateway)!.bytes
  if (w.prefsrc) req.prefsrc = parseIp(w.prefsrc)!.bytes
  if (w.mtu !== undefined) req.mtu = w.mtu
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
