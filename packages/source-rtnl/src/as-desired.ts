// What the kernel holds of this owner's, as desired state (`linx show rtnl --desired`):
// the inverse of the slices' resolution, so that applying it back changes nothing.
import * as c from "./wire/constants.ts"
import { isComparableRoute } from "./route/model.ts"
import { defaultMetric } from "./route/schema.ts"
import { ownsAddress, ownsLink, ownsRoute, resolveOwnership } from "./ownership.ts"
import type { RtnlObserved } from "./observe.ts"
import type { RtnlOwnership } from "./schema.ts"
import type { Link } from "./wire/link.ts"
import type { FibRule } from "./wire/rule.ts"

type Obj = Record<string, unknown>
const put = (o: Obj, k: string, v: unknown) => {
  if (v !== undefined) o[k] = v
}
const ACTIONS = Object.fromEntries(Object.entries(c.FR_ACT).map(([k, n]) => [n, k]))
const NUD_NAMES: Record<number, string> = { [c.NUD.noarp]: "noarp", [c.NUD.reachable]: "reachable" }
const isMulticast = (a: string) => /^(22[4-9]|23\d)\./.test(a) || a.toLowerCase().startsWith("ff")

function linkSpec(l: Link, byIndex: ReadonlyMap<number, Link>, group: number): Obj | undefined {
  const name = (i: number) => byIndex.get(i)?.name
  const o: Obj = { name: l.name }
  switch (l.kind) {
    case "device":
    case "bridge":
    case "dummy":
      o.kind = l.kind
      if (l.kind === "bridge") {
        put(o, "stp", l.stp || undefined)
        put(o, "vlanFiltering", l.vlanFiltering || undefined)
      }
      break
    case "veth": {
      const peer = l.linkNetnsId === undefined ? byIndex.get(l.linkIndex) : undefined
      if (!peer) return undefined // a far end's namespace has no name here
      o.kind = "veth"
      o.peer = { name: peer.name }
      break
    }
    case "vlan":
      Object.assign(o, { kind: "vlan", parent: name(l.linkIndex), vlanId: l.vlanId, protocol: l.vlanProtocol })
      break
    case "macvlan":
    case "ipvlan":
      Object.assign(o, { kind: l.kind, parent: name(l.linkIndex), mode: l.mode })
      break
    case "vxlan": {
      const x = l.vxlan!
      Object.assign(o, { kind: "vxlan", vni: x.vni, dstport: x.port, learning: x.learning })
      put(o, "local", x.local)
      if (x.remote) o[isMulticast(x.remote) ? "multicastGroup" : "remote"] = x.remote
      put(o, "dev", x.link ? name(x.link) : undefined)
      put(o, "ttl", x.ttl || undefined)
      break
    }
    case "tun":
      Object.assign(o, { kind: "tuntap", mode: l.tunMode ?? "tun" })
      break
    default:
      return undefined
  }
  o.up = l.up
  o.mtu = l.mtu
  put(o, "master", l.masterIndex ? name(l.masterIndex) : undefined)
  put(o, "alias", l.alias)
  put(o, "altnames", l.altnames?.length ? l.altnames : undefined)
  if (l.kind !== "device" && l.group !== group) o.group = l.group
  return o
}

function ruleSpec(r: FibRule): Obj {
  const o: Obj = { priority: r.priority }
  if (!r.src && !r.dst && r.family === "inet6") o.family = "inet6"
  put(o, "from", r.src)
  put(o, "to", r.dst)
  put(o, "not", r.invert || undefined)
  if (r.fwmark !== undefined) {
    o.fwmark = r.fwmark
    if (r.fwmask !== 0xffffffff) o.mask = r.fwmask
  }
  put(o, "iif", r.iif)
  put(o, "oif", r.oif)
  put(o, "tos", r.tos || undefined)
  put(o, "ipproto", r.ipProto)
  put(o, "sport", r.sport ? r.sport.join("-") : undefined)
  put(o, "dport", r.dport ? r.dport.join("-") : undefined)
  put(o, "uidrange", r.uidRange ? r.uidRange.join("-") : undefined)
  const action = ACTIONS[r.action] ?? "lookup"
  if (action !== "lookup") o.action = action
  else if (r.l3mdev) o.l3mdev = true
  else o.table = r.table === c.RT_TABLE_MAIN ? "main" : r.table === 253 ? "default" : r.table
  put(o, "goto", r.goto)
  put(o, "suppressPrefixlength", r.suppressPrefixlen)
  return o
}

/** The owner's objects of an observation, as an rtnl desired state. */
export function rtnlAsDesired(o: RtnlObserved, ownership: RtnlOwnership | undefined): Obj {
  const owner = resolveOwnership(ownership)
  const byIndex = new Map(o.links.map((l) => [l.index, l]))
  const name = (i: number) => byIndex.get(i)?.name
  const ours = (p: number) => p === owner.routeProtocol || owner.former.routeProtocols.has(p)
  // a veth pair here is one desired link: the end with the lower index names the other
  const links = o.links
    .filter((l) => ownsLink(owner, l, undefined))
    .filter(
      (l) => !(l.kind === "veth" && l.linkNetnsId === undefined && l.linkIndex < l.index && byIndex.has(l.linkIndex)),
    )
    .flatMap((l) => linkSpec(l, byIndex, owner.linkGroup) ?? [])
  const addresses = (o.addresses ?? [])
    .filter((a) => ownsAddress(owner, a.proto, false) && name(a.index))
    .map((a) => {
      const x: Obj = { link: name(a.index), address: a.address }
      put(x, "peer", a.peer)
      if (a.family === "inet" && a.label && a.label !== x.link) x.label = a.label
      put(x, "nodad", a.flags & c.IFA_F_NODAD ? true : undefined)
      put(x, "noPrefixRoute", a.flags & c.IFA_F_NOPREFIXROUTE ? true : undefined)
      return x
    })
  const routes = (o.routes?.toArray() ?? [])
    .filter((r) => isComparableRoute(r) && ownsRoute(owner, r, false))
    .map((r) => {
      const x: Obj = { dst: r.dst === "0.0.0.0/0" || r.dst === "::/0" ? "default" : r.dst }
      if (x.dst === "default" && r.family === "inet6" && !r.gateway) x.family = "inet6"
      const type = c.ROUTE_TYPE_NAMES[r.type]
      if (type && type !== "unicast") x.type = type
      if (r.nhid !== undefined) x.nhid = r.nhid
      else if (r.nexthops) x.nexthops = r.nexthops.map((n) => ({ via: n.gateway, dev: name(n.oif), weight: n.weight }))
      else if (type === "unicast" || type === "local") {
        put(x, "via", r.gateway)
        put(x, "dev", r.oif ? name(r.oif) : undefined)
      }
      if (r.table !== c.RT_TABLE_MAIN) x.table = r.table
      if (r.priority !== defaultMetric(r.family)) x.metric = r.priority
      put(x, "src", r.prefsrc)
      put(x, "mtu", r.mtu)
      put(x, "tos", r.tos || undefined)
      if (r.metrics) Object.assign(x, r.metrics)
      return x
    })
  const rules = (o.rules ?? []).filter((r) => ours(r.protocol)).map(ruleSpec)
  const neighbors = (o.neighbors ?? [])
    .filter((n) => ours(n.protocol) && name(n.index))
    .map((n) => {
      const x: Obj = { link: name(n.index), address: n.address }
      if (n.state !== c.NUD.noarp) put(x, "lladdr", n.lladdr)
      put(x, "state", NUD_NAMES[n.state & (c.NUD.noarp | c.NUD.reachable)])
      put(x, "router", n.flags & c.NTF_ROUTER ? true : undefined)
      return x
    })
  const nexthops = (o.nexthops ?? [])
    .filter((n) => ours(n.protocol))
    .map((n) => {
      const x: Obj = { id: n.id }
      if (n.group) x.group = n.group
      else if (n.blackhole) Object.assign(x, { blackhole: true, ...(n.family === "inet6" ? { family: "inet6" } : {}) })
      else {
        put(x, "via", n.gateway)
        put(x, "dev", n.oif ? name(n.oif) : undefined)
        if (!n.gateway && n.family === "inet6") x.family = "inet6"
      }
      return x
    })
  const remotes = new Map(o.links.map((l) => [l.index, l.vxlan?.remote]))
  const fdb = (o.fdb ?? [])
    .filter((e) => {
      const link = name(e.index)
      if (!link || !owner.ownsLinkName(link)) return false
      if (e.lladdr === "00:00:00:00:00:00" && e.dst === remotes.get(e.index)) return false
      return e.flags & c.NTF_MASTER ? e.state === c.NUD.noarp : e.dst !== undefined && (e.state & c.NUD.permanent) !== 0
    })
    .map((e) => {
      const x: Obj = { link: name(e.index), lladdr: e.lladdr }
      put(x, "dst", e.dst)
      put(x, "vni", e.vni)
      put(x, "vlan", e.vlan)
      if (e.flags & c.NTF_MASTER) x.master = true
      return x
    })
  return { links, addresses, routes, rules, neighbors, nexthops, fdb }
}
