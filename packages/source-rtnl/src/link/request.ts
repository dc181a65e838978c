// Link ops → kernel requests (ip link add / set / del), names resolved just before.
import { macBytes, parseIp } from "@linx/netlink/ip"
import type { RtnlKernel, RtnlRequest } from "../kernel.ts"
import { type IndexOf, missing } from "../request.ts"
import type { LinkSpec } from "../schema.ts"
import * as c from "../wire/constants.ts"
import type { LinkOp } from "./diff.ts"

export type LinkCreate = Extract<LinkOp, { kind: "create" }>
export type LinkUpdate = Extract<LinkOp, { kind: "update" }>
export type LinkDelete = Extract<LinkOp, { kind: "delete" }>
type LinkRequestOf = RtnlRequest & { object: "link" }

// (a vxlan with an underlay device sits on it too)
export const hasParent = (s: LinkSpec): boolean =>
  s.kind === "vlan" || s.kind === "macvlan" || s.kind === "ipvlan" || (s.kind === "vxlan" && s.dev !== undefined)

/** Equivalent to: ip link add NAME group G type KIND … (the settings creation can carry). */
export function linkCreate(kernel: RtnlKernel, op: LinkCreate, label: string, indexOf: IndexOf): RtnlRequest[] | Error {
  const s = op.spec
  if (s.kind === "tuntap") {
    // made through /dev/net/tun; then the marker and what creation by ioctl cannot carry
    const set: LinkRequestOf = { object: "link", label, request: { op: "set", name: s.name, group: op.group } }
    if (s.mtu !== undefined) set.request.mtu = s.mtu
    if (s.mac !== undefined) set.request.mac = macBytes(s.mac)
    if (s.txqlen !== undefined) set.request.txqlen = s.txqlen
    return [{ object: "tun", request: { name: s.name, mode: s.mode }, label }, set]
  }
  const request: LinkRequestOf = {
    object: "link",
    label,
    request: { op: "create", name: s.name, kind: s.kind, group: op.group },
  }
  const r = request.request
  // a bridge's mtu is set after creation: set at creation it is not "set by the user" to
  // the kernel, and the first port to join resets it (two passes to converge)
  if (s.mtu !== undefined && s.kind !== "bridge") r.mtu = s.mtu
  if (s.mac !== undefined) r.mac = macBytes(s.mac)
  if (s.txqlen !== undefined) r.txqlen = s.txqlen
  if (s.promisc !== undefined) r.promisc = s.promisc
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
      case "vxlan": {
        const underlay = s.dev === undefined ? undefined : indexOf(s.dev)
        if (s.dev !== undefined && underlay === undefined) return missing(s.dev, "underlay device", label)
        const remote = s.remote ?? s.multicastGroup
        r.vxlan = { vni: s.vni, port: s.dstport, learning: s.learning }
        if (remote) r.vxlan.remote = parseIp(remote)!.bytes
        if (s.local) r.vxlan.local = parseIp(s.local)!.bytes
        if (underlay !== undefined) r.vxlan.link = underlay
        if (s.ttl !== undefined) r.vxlan.ttl = s.ttl
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
  // (the far end of a veth in another namespace too: it is set from a socket there)
  const peer = s.kind === "veth" && ((s.peer.up ?? s.up) !== undefined || !!s.peer.master)
  const bridgeMtu = s.kind === "bridge" && s.mtu !== undefined
  return peer || bridgeMtu || s.up !== undefined || !!s.master || s.alias !== undefined || !!s.altnames?.length
}

/**
 * Equivalent to: ip link set dev NAME master M alias A up, and the peer's (in this
 * namespace, or from a socket in the far end's: `ip -n NS link set dev PEER master BR up`).
 */
export function linkSettle(op: LinkCreate, label: string, indexOf: IndexOf, kernel: RtnlKernel): RtnlRequest[] | Error {
  const s = op.spec
  const out: RtnlRequest[] = []
  const set = (
    name: string,
    up: boolean | undefined,
    master: string | null | undefined,
    alias?: string,
    netns?: string,
    mtu?: number,
  ): Error | undefined => {
    if (up === undefined && !master && alias === undefined && mtu === undefined) return undefined
    const req: LinkRequestOf = { object: "link", label, request: { op: "set", name } }
    if (up !== undefined) req.request.up = up
    if (mtu !== undefined) req.request.mtu = mtu
    if (master) {
      const m = netns ? kernel.linkIndexIn(netns, master) : indexOf(master)
      if (m === undefined) return missing(master, netns ? `master (in ${netns})` : "master", label)
      req.request.masterIndex = m
    }
    if (alias !== undefined) req.request.alias = alias
    if (netns) {
      // by ifindex there: a name is only resolved in the socket's own namespace
      const index = kernel.linkIndexIn(netns, name)
      if (index === undefined) return missing(name, `peer (in ${netns})`, label)
      req.request = { ...req.request, index }
      req.via = netns
    }
    out.push(req)
    return undefined
  }
  // the peer first: a veth end only gets carrier once both ends are up
  const peerError =
    s.kind === "veth" ? set(s.peer.name, s.peer.up ?? s.up, s.peer.master, undefined, s.peer.netns) : undefined
  const mtu = s.kind === "bridge" ? s.mtu : undefined
  const error = peerError ?? set(s.name, s.up, s.master, s.alias, undefined, mtu)
  if (error) return error
  if (s.altnames?.length) {
    const index = indexOf(s.name)
    if (index === undefined) return missing(s.name, "link", label)
    out.push({ object: "altnames", label, request: { op: "add", index, names: [...s.altnames] } })
  }
  return out
}

/** Equivalent to: ip link set dev NAME mtu … address … master … up|down. */
export function linkUpdate(op: LinkUpdate, label: string, indexOf: IndexOf, kernel: RtnlKernel): RtnlRequest[] | Error {
  const ch = op.changes
  const request: LinkRequestOf = { object: "link", label, request: { op: "set", index: op.index } }
  // a veth's far end: sent from a socket in its namespace, its master looked up there
  const far = op.netns
  if (far) {
    request.via = far
    indexOf = (name) => kernel.linkIndexIn(far, name)
  }
  const r = request.request
  if (ch.up !== undefined) r.up = ch.up
  if (ch.mtu !== undefined) r.mtu = ch.mtu
  if (ch.txqlen !== undefined) r.txqlen = ch.txqlen
  if (ch.netns !== undefined) {
    try {
      r.netnsFd = kernel.netnsFd(ch.netns)
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e))
    }
    if (ch.rename) r.name = ch.rename
  }
  if (ch.promisc !== undefined) r.promisc = ch.promisc
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
  const out: RtnlRequest[] = []
  // (altnames go by their own messages; removed ones first, so that a name can move)
  if (ch.altnamesDel)
    out.push({ object: "altnames", label, request: { op: "del", index: op.index, names: ch.altnamesDel } })
  if (ch.altnamesAdd)
    out.push({ object: "altnames", label, request: { op: "add", index: op.index, names: ch.altnamesAdd } })
  const onlyNames = Object.keys(ch).every((k) => k === "altnamesAdd" || k === "altnamesDel")
  return onlyNames ? out : [request, ...out]
}

/** Equivalent to: ip link del dev NAME, by the ifindex observed. */
export function linkDelete(op: LinkDelete, label: string): RtnlRequest[] {
  return [{ object: "link", label, request: { op: "delete", index: op.index, name: op.name } }]
}
