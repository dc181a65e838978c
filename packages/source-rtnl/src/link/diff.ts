// Links: the observed type, and the diff of desired link specs against the kernel.
import { deletesLink, type Owner, ownsLink } from "../ownership.ts"
import type { LinkSpec, VethSpec } from "../schema.ts"
import type { VxlanSpec } from "./schema.ts"
import type { ConflictOp } from "../conflict.ts"
import type { Link } from "../wire/link.ts"
import type { FarEnd } from "../observe.ts"

export type { Link }

/** Settings changed in place (ip link set). Only fields that differ are present. */
export interface LinkChanges {
  up?: boolean
  mtu?: number
  txqlen?: number
  promisc?: boolean
  mac?: string
  /** a bridge name, or null to detach */
  master?: string | null
  altnamesAdd?: string[]
  altnamesDel?: string[]
  /** move into this namespace (ip link set dev X netns NS [name Y]) */
  netns?: string
  rename?: string
  alias?: string
  group?: number
  stp?: boolean
  vlanFiltering?: boolean
}

export type LinkOp =
  | { kind: "create"; object: "link"; spec: LinkSpec; group: number }
  | {
      kind: "update"
      object: "link"
      name: string
      index: number
      linkKind: string
      changes: LinkChanges
      /** what the changed settings were when observed (for plans and logs: "# was mtu 1300") */
      was?: LinkChanges
      /** the far end of a veth, in this namespace (changed through a socket there) */
      netns?: string
    }
  /** by the ifindex observed: exactly the link seen as ours, never one that took its name since */
  | { kind: "delete"; object: "link"; name: string; index: number; linkKind: string }

/** A veth's peer in this namespace, as a desired link of its own (it is created with its pair). */
export interface PeerSpec {
  kind: "veth"
  name: string
  /** the group it is created with: its primary's */
  group?: number
  up?: boolean
  mtu?: number
  mac?: string
  master?: string | null
  peerOf: string
}

export type WantedLink = LinkSpec | PeerSpec

/** Desired links plus the same-namespace peers of veths. */
export function expandLinks(links: readonly LinkSpec[]): WantedLink[] {
  const out: WantedLink[] = []
  for (const l of links) {
    out.push(l)
    if (l.kind === "veth" && !l.peer.netns) {
      const p = l.peer
      const peer: PeerSpec = { kind: "veth", name: p.name, peerOf: l.name }
      if (l.group !== undefined) peer.group = l.group
      const up = p.up ?? l.up
      if (up !== undefined) peer.up = up
      if (p.mtu !== undefined) peer.mtu = p.mtu
      if (p.mac !== undefined) peer.mac = p.mac
      if (p.master !== undefined) peer.master = p.master
      out.push(peer)
    }
  }
  return out
}

function notOurs(o: Link, owner: Owner): string {
  if (o.kind === "device")
    return `device ${o.name} is not this loop's: list it in ownership.links to manage its settings`
  return `link ${o.name} exists and is not this loop's (group ${o.group}, not ${owner.linkGroup}): list it in ownership.links, or set ownership.adopt to take it over`
}

function isPeer(w: WantedLink): w is PeerSpec {
  return "peerOf" in w
}

/** A vxlan's settings (the kernel changes few of them in place: a difference replaces the link). */
function vxlanMismatch(w: VxlanSpec, o: Link, byIndex: ReadonlyMap<number, Link>): string | undefined {
  const x = o.vxlan
  if (!x) return undefined
  if (x.vni !== w.vni) return `has vni ${x.vni}, not ${w.vni}`
  const remote = w.remote ?? w.multicastGroup
  if ((x.remote ?? "") !== (remote ?? "")) return `goes to ${x.remote ?? "nobody"}, not ${remote ?? "nobody"}`
  if ((x.local ?? "") !== (w.local ?? ""))
    return `sends from ${x.local ?? "any address"}, not ${w.local ?? "any address"}`
  if (x.port !== w.dstport) return `uses port ${x.port}, not ${w.dstport}`
  if (x.learning !== w.learning) return w.learning ? "does not learn" : "learns"
  if (w.ttl !== undefined && x.ttl !== w.ttl) return `has ttl ${x.ttl}, not ${w.ttl}`
  const dev = x.link ? byIndex.get(x.link)?.name : undefined
  if ((dev ?? "") !== (w.dev ?? "")) return `is on ${dev ?? "no device"}, not ${w.dev ?? "no device"}`
  return undefined
}

/** A device to move into another namespace: the move, nothing (it is there), or why it cannot be. */
function moveOp(
  w: Extract<LinkSpec, { kind: "device" }>,
  o: Link | undefined,
  owner: Owner,
  far: readonly FarEnd[] | undefined,
): LinkOp | ConflictOp | undefined {
  const there = w.rename ?? w.name
  if (!o) {
    if (far?.some((f) => f.netns === w.netns && f.name === there && f.link)) return undefined
    return {
      kind: "conflict",
      object: "link",
      key: w.name,
      reason: `device ${w.name} is neither here nor in ${w.netns} (as ${there})`,
    }
  }
  if (!ownsLink(owner, o, {})) return { kind: "conflict", object: "link", key: w.name, reason: notOurs(o, owner) }
  const changes: LinkChanges = { netns: w.netns! }
  if (w.rename) changes.rename = w.rename
  return { kind: "update", object: "link", name: o.name, index: o.index, linkKind: o.kind, changes }
}

/** Why an existing link cannot be changed into the wanted one in place, or undefined. */
function mismatch(w: WantedLink, o: Link, byIndex: ReadonlyMap<number, Link>): string | undefined {
  if (w.kind === "device") return undefined
  // the kernel calls both tun and tap devices "tun"
  if (w.kind === "tuntap")
    return o.kind !== "tun"
      ? `is a ${o.kind}, not a tuntap`
      : o.tunMode && o.tunMode !== w.mode
        ? `is a ${o.tunMode}, not a ${w.mode}`
        : undefined
  if (o.kind !== w.kind) return `is a ${o.kind}, not a ${w.kind}`
  if (isPeer(w)) return undefined
  switch (w.kind) {
    case "veth": {
      const v = w as VethSpec
      if (v.peer.netns) return o.linkNetnsId === undefined ? `its peer is not in namespace ${v.peer.netns}` : undefined
      const peer = byIndex.get(o.linkIndex)
      if (o.linkNetnsId !== undefined || !peer) return `its peer is not ${v.peer.name} in this namespace`
      if (peer.name !== v.peer.name) return `its peer is ${peer.name}, not ${v.peer.name}`
      return undefined
    }
    case "vlan":
      if (o.vlanId !== w.vlanId) return `has vlan id ${o.vlanId}, not ${w.vlanId}`
      if (o.vlanProtocol && o.vlanProtocol !== w.protocol) return `uses ${o.vlanProtocol}, not ${w.protocol}`
      break
    case "macvlan":
    case "ipvlan":
      if (o.mode && o.mode !== w.mode) return `is in ${o.mode} mode, not ${w.mode}`
      break
    case "vxlan":
      return vxlanMismatch(w, o, byIndex)
  }
  if ((w.kind === "vlan" || w.kind === "macvlan" || w.kind === "ipvlan") && !w.parentNetns) {
    const parent = byIndex.get(o.linkIndex)
    if (o.linkNetnsId === undefined && parent && parent.name !== w.parent)
      return `sits on ${parent.name}, not ${w.parent}`
  }
  return undefined
}

function changesFor(w: WantedLink, o: Link, byIndex: ReadonlyMap<number, Link>): LinkChanges {
  const ch: LinkChanges = {}
  if (w.up !== undefined && w.up !== o.up) ch.up = w.up
  if (w.mtu !== undefined && w.mtu !== o.mtu) ch.mtu = w.mtu
  if (w.mac !== undefined && w.mac !== o.mac) ch.mac = w.mac
  if (w.master !== undefined) {
    const current = o.masterIndex ? (byIndex.get(o.masterIndex)?.name ?? `#${o.masterIndex}`) : null
    if (current !== w.master) ch.master = w.master
  }
  if (!isPeer(w)) {
    if (w.txqlen !== undefined && w.txqlen !== o.txqlen) ch.txqlen = w.txqlen
    if (w.promisc !== undefined && w.promisc !== (o.promisc ?? false)) ch.promisc = w.promisc
    if (w.alias !== undefined && w.alias !== (o.alias ?? "")) ch.alias = w.alias
    if (w.altnames !== undefined) {
      const have = new Set(o.altnames ?? [])
      const want = new Set(w.altnames)
      const add = w.altnames.filter((n) => !have.has(n))
      const del = (o.altnames ?? []).filter((n) => !want.has(n))
      if (add.length) ch.altnamesAdd = add
      if (del.length) ch.altnamesDel = del
    }
    if (w.group !== undefined && w.group !== o.group) ch.group = w.group
    if (w.kind === "bridge") {
      if (w.stp !== undefined && w.stp !== (o.stp ?? false)) ch.stp = w.stp
      if (w.vlanFiltering !== undefined && w.vlanFiltering !== (o.vlanFiltering ?? false))
        ch.vlanFiltering = w.vlanFiltering
    }
  }
  return ch
}

/** The observed values of the settings `ch` changes (altnames, netns and rename say themselves). */
function wasOf(ch: LinkChanges, o: Link, byIndex: ReadonlyMap<number, Link>): LinkChanges {
  const was: LinkChanges = {}
  if (ch.up !== undefined) was.up = o.up
  if (ch.mtu !== undefined) was.mtu = o.mtu
  if (ch.mac !== undefined && o.mac !== undefined) was.mac = o.mac
  if (ch.master !== undefined)
    was.master = o.masterIndex ? (byIndex.get(o.masterIndex)?.name ?? `#${o.masterIndex}`) : null
  if (ch.txqlen !== undefined && o.txqlen !== undefined) was.txqlen = o.txqlen
  if (ch.promisc !== undefined) was.promisc = o.promisc ?? false
  if (ch.alias !== undefined) was.alias = o.alias ?? ""
  if (ch.group !== undefined) was.group = o.group
  if (ch.stp !== undefined) was.stp = o.stp ?? false
  if (ch.vlanFiltering !== undefined) was.vlanFiltering = o.vlanFiltering ?? false
  return was
}

/**
 * Diffs links. Creates what is missing, changes settings in place, replaces links
 * whose kind or identity differs (when owned), deletes owned links that left desired
 * state (by group in one request when the group holds exactly those links).
 */
export function diffLinks(
  desired: readonly LinkSpec[],
  observed: readonly Link[],
  owner: Owner,
  /** what observe found in other namespaces (veth far ends, devices moved there) */
  far?: readonly FarEnd[],
): { ops: LinkOp[]; conflicts: ConflictOp[] } {
  const ops: LinkOp[] = []
  const conflicts: ConflictOp[] = []
  const byName = new Map(observed.map((l) => [l.name, l]))
  const byIndex = new Map(observed.map((l) => [l.index, l]))
  const wanted = expandLinks(desired)
  const wantedNames = new Set(wanted.map((w) => w.name))
  const deletes: Link[] = []

  for (const w of wanted) {
    if (w.name === "lo") {
      conflicts.push({
        kind: "conflict",
        object: "link",
        key: w.name,
        reason: "lo is the kernel's loopback: Linx never changes it",
      })
      continue
    }
    const o = byName.get(w.name)
    if (w.kind === "device" && w.netns) {
      const move = moveOp(w, o, owner, far)
      if (move && "reason" in move) conflicts.push(move)
      else if (move) ops.push(move)
      continue
    }
    if (!o) {
      if (w.kind === "device") {
        conflicts.push({
          kind: "conflict",
          object: "link",
          key: w.name,
          reason: `device ${w.name} does not exist (Linx never creates devices)`,
        })
      } else if (!isPeer(w)) {
        ops.push({ kind: "create", object: "link", spec: w, group: w.group ?? owner.linkGroup })
      } else if (byName.has(w.peerOf)) {
        // the pair exists but this end is gone (moved away): the primary's mismatch replaces the pair
      }
      continue
    }
    const wantGroup = w.group
    if (!ownsLink(owner, o, { group: wantGroup })) {
      conflicts.push({ kind: "conflict", object: "link", key: w.name, reason: notOurs(o, owner) })
      continue
    }
    const why = mismatch(w, o, byIndex)
    if (why) {
      if (!isPeer(w)) {
        deletes.push(o)
        ops.push({ kind: "create", object: "link", spec: w, group: w.group ?? owner.linkGroup })
      }
      continue
    }
    const changes = changesFor(w, o, byIndex)
    // adopted: give it this loop's marker, so it is recognised as ours from now on
    const group = wantGroup ?? owner.linkGroup
    if (o.kind !== "device" && o.group !== group && !owner.ownsLinkName(o.name)) changes.group = group
    if (Object.keys(changes).length) {
      const op: LinkOp = { kind: "update", object: "link", name: o.name, index: o.index, linkKind: o.kind, changes }
      const was = wasOf(changes, o, byIndex)
      if (Object.keys(was).length) op.was = was
      ops.push(op)
    }
  }

  // a device (a NIC, no IFLA_INFO_KIND) is never deleted: only its settings are managed
  for (const o of observed) if (!wantedNames.has(o.name) && deletesLink(owner, o)) deletes.push(o)
  for (const d of deleteOps(deletes, observed)) ops.push(d)
  return { ops, conflicts }
}

/**
 * One delete per link, by ifindex. (Not `ip link del group G`, which the kernel decides
 * at delete time: a foreign link that joined G after the look would go too.)
 */
function deleteOps(deletes: Link[], observed: readonly Link[]): LinkOp[] {
  if (!deletes.length) return []
  // A veth pair goes with either end: delete one end only.
  const byIndex = new Map(observed.map((l) => [l.index, l]))
  const seen = new Set<number>()
  const unique: Link[] = []
  for (const d of deletes) {
    if (seen.has(d.index)) continue
    seen.add(d.index)
    if (d.kind === "veth" && d.linkNetnsId === undefined && byIndex.has(d.linkIndex)) seen.add(d.linkIndex)
    unique.push(d)
  }
  return unique.map((o) => ({ kind: "delete", object: "link", name: o.name, index: o.index, linkKind: o.kind }))
}
