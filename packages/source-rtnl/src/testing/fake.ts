// An in-memory kernel for unit tests without root. It keeps links, addresses and
// routes and answers requests with the kernel's rules: EEXIST for a duplicate create,
// ENODEV/ESRCH/EADDRNOTAVAIL for what is missing, ENETDOWN for an IPv4 route on a
// down device, routes vanishing silently with their device, a veth pair created and
// deleted together.
import { NetlinkError } from "@linx/netlink"
import { errno } from "@linx/netlink/wire"
import { formatIp, formatMac, formatPrefix, networkOf, parseIp, parsePrefix } from "@linx/netlink/ip"
import type { Address } from "../address/diff.ts"
import type { RouteFilter, RtnlKernel, RtnlRequest } from "../kernel.ts"
import type { Link } from "../link/diff.ts"
import { observedRouteKey, type Route, withRouteId } from "../route/model.ts"
import type { RtnlHint, RtnlScopeEntry } from "../scope.ts"
import type { AddressRequest } from "../wire/addr.ts"
import * as c from "../wire/constants.ts"
import type { LinkRequest } from "../wire/link.ts"
import type { RouteRequest } from "../wire/route.ts"
import type { FibRule, RuleRequest } from "../wire/rule.ts"
import type { Neighbor, NeighborRequest } from "../wire/neigh.ts"
import { defaultRules, neighborRequest, ruleRequest } from "./tables.ts"
import type { FdbEntry } from "../wire/fdb.ts"
import type { Nexthop } from "../wire/nexthop.ts"

const fail = (errno: number, message: string) => new NetlinkError(errno, { extAck: { message } })
const { EPERM, ENOENT, ESRCH, EEXIST, ENODEV, EINVAL, EOPNOTSUPP, EADDRNOTAVAIL, ENETDOWN, ENETUNREACH } = errno

interface Snapshot {
  links: Map<number, string>
  routes: Map<string, Route>
  addresses: string
  rules: string
  neighbors: string
}

export interface FakeRtnlKernelOptions {
  /** link kinds this fake kernel refuses ("Unknown device type"), like a kernel without dummy */
  unsupportedKinds?: string[]
  /** fail every request with EPERM (a process without CAP_NET_ADMIN) */
  readOnly?: boolean
}

export class FakeRtnlKernel implements RtnlKernel {
  readonly linkTable = new Map<number, Link>()
  addressTable: Address[] = []
  routeTable: Route[] = []
  ruleTable: FibRule[] = defaultRules()
  neighborTable: Neighbor[] = []
  /** every request received, in order */
  readonly requests: RtnlRequest[] = []
  /** how many dumps were served, by kind */
  readonly dumps = { links: 0, addresses: 0, routes: 0 }
  closed = false
  /** hints sent to subscribers, in order */
  readonly hints: RtnlHint[] = []
  readonly #listeners = new Set<(h: RtnlHint) => void>()
  #snapshot: Snapshot | undefined
  #flushQueued = false
  #nextIndex = 2
  #nextMac = 1
  readonly #options: FakeRtnlKernelOptions

  constructor(options: FakeRtnlKernelOptions = {}) {
    this.#options = options
    this.linkTable.set(1, {
      index: 1,
      name: "lo",
      kind: "device",
      up: true,
      mtu: 65536,
      mac: "00:00:00:00:00:00",
      masterIndex: 0,
      group: 0,
      linkIndex: 0,
      operState: 0,
    })
  }

  // --- seam -------------------------------------------------------------------------

  links(): Link[] {
    this.dumps.links++
    return [...this.linkTable.values()].map((l) => ({ ...l }))
  }
  addresses(): Address[] {
    this.dumps.addresses++
    return this.addressTable.map((a) => ({ ...a }))
  }
  routes(f: RouteFilter): Route[] {
    this.dumps.routes++
    return this.routeTable
      .filter(
        (r) =>
          r.family === f.family &&
          (f.table === undefined || r.table === f.table) &&
          (f.protocol === undefined || r.protocol === f.protocol) &&
          (f.oif === undefined || r.oif === f.oif),
      )
      .map((r) => ({ ...r }))
  }
  rules(): FibRule[] {
    return this.ruleTable.map((r) => ({ ...r }))
  }
  neighbors(): Neighbor[] {
    return this.neighborTable.map((n) => ({ ...n }))
  }
  /** forwarding entries are not modelled: none, and requests for them succeed */
  fdb(): FdbEntry[] {
    return []
  }
  /** nexthop objects are not modelled: none, and requests for them succeed */
  nexthops(): Nexthop[] {
    return []
  }
  send(requests: readonly RtnlRequest[]): Map<number, NetlinkError> {
    this.#beforeChange()
    const out = new Map<number, NetlinkError>()
    requests.forEach((r, i) => {
      this.requests.push(r)
      const err = this.#options.readOnly ? fail(EPERM, "Operation not permitted") : this.#apply(r)
      // like the real socket: the error names the request it belongs to
      if (err)
        out.set(
          i,
          new NetlinkError(err.errno, { extAck: err.extAck, request: { type: 0, flags: 0, seq: i, label: r.label } }),
        )
    })
    return out
  }
  /** other namespaces are not modelled: their links are never found */
  linkIn(_netns: string, _which: { index: number } | { name: string }): Link | undefined {
    return undefined
  }

  linkIndexIn(): number | undefined {
    return undefined
  }
  netnsFd(): number {
    return -1
  }
  ownNetnsFd(): number {
    return -1
  }
  close(): void {
    this.closed = true
  }

  /**
   * Like the rtnetlink groups: after each change (a request batch, or a helper below
   * acting as another agent) one hint names what changed, with each changed route as
   * the kernel would report it (or null once deleted). Our own writes come back too.
   */
  subscribe(onHint: (h: RtnlHint) => void): Disposable & { close(): Promise<void> } {
    this.#listeners.add(onHint)
    const close = async () => void this.#listeners.delete(onHint)
    return { close, [Symbol.dispose]: () => void close() }
  }

  #snap(): Snapshot {
    return {
      links: new Map([...this.linkTable.values()].map((l) => [l.index, JSON.stringify(l)])),
      routes: new Map(this.routeTable.map((r) => [r.id, r])),
      addresses: JSON.stringify(this.addressTable),
      rules: JSON.stringify(this.ruleTable),
      neighbors: JSON.stringify(this.neighborTable),
    }
  }

  /** Remembers the state before a change; the hint goes out in a microtask, as a chunk would. */
  #beforeChange(): void {
    if (!this.#listeners.size) return
    this.#snapshot ??= this.#snap()
    if (this.#flushQueued) return
    this.#flushQueued = true
    queueMicrotask(() => {
      this.#flushQueued = false
      const before = this.#snapshot
      this.#snapshot = undefined
      if (before) this.#emit(before)
    })
  }

  #emit(before: Snapshot): void {
    const after = this.#snap()
    const scope: RtnlScopeEntry[] = []
    for (const [index, text] of before.links) {
      const now = after.links.get(index)
      if (now === text) continue
      const was = JSON.parse(text) as Link
      scope.push({ kind: "link", key: was.name })
      if (!now || (JSON.parse(now) as Link).up !== was.up) scope.push({ kind: "routesOnLink", key: was.name })
    }
    for (const [index, text] of after.links)
      if (!before.links.has(index)) scope.push({ kind: "link", key: (JSON.parse(text) as Link).name })
    const comparable = (r: Route) => r.protocol !== c.RTPROT_KERNEL && r.table !== c.RT_TABLE_LOCAL
    for (const [id, r] of before.routes) {
      const now = after.routes.get(id)
      if (comparable(r) && (!now || JSON.stringify(now) !== JSON.stringify(r)))
        scope.push({ kind: "route", key: observedRouteKey(r), event: now ? { ...now } : null })
    }
    for (const [id, r] of after.routes)
      if (!before.routes.has(id) && comparable(r))
        scope.push({ kind: "route", key: observedRouteKey(r), event: { ...r } })
    if (before.addresses !== after.addresses || scope.some((e) => e.kind === "link")) scope.push({ kind: "addresses" })
    if (before.rules !== after.rules) scope.push({ kind: "rules" })
    if (before.neighbors !== after.neighbors) scope.push({ kind: "neighbors" })
    if (!scope.length) return
    const hint = { scope }
    this.hints.push(hint)
    for (const l of this.#listeners) l(hint)
  }

  // --- helpers for tests (what `ip` would do) ---------------------------------------

  linkByName(name: string): Link | undefined {
    return [...this.linkTable.values()].find((l) => l.name === name)
  }

  /** a NIC that is simply there (kind "device"), like eth0 */
  addDevice(name: string): Link {
    this.#beforeChange()
    const index = this.#nextIndex++
    const link: Link = {
      index,
      name,
      kind: "device",
      up: false,
      mtu: 1500,
      mac: this.#mac(),
      masterIndex: 0,
      group: 0,
      linkIndex: 0,
      operState: 0,
    }
    this.linkTable.set(index, link)
    return link
  }

  /** ip link del NAME, done "by someone else" */
  deleteLink(name: string): void {
    this.#beforeChange()
    const l = this.linkByName(name)
    if (l) this.#deleteLink(l)
  }

  /** ip route flush (all but kernel routes) */
  flushRoutes(): void {
    this.#beforeChange()
    this.routeTable = this.routeTable.filter((r) => r.protocol === c.RTPROT_KERNEL)
  }

  /** ip route del DST (table main), done by someone else */
  deleteRoute(dst: string): void {
    this.#beforeChange()
    this.routeTable = this.routeTable.filter((r) => !(r.dst === dst && r.table === c.RT_TABLE_MAIN))
  }

  /** a route added by another agent */
  addForeignRoute(r: Partial<Route> & { dst: string }): void {
    this.#beforeChange()
    this.routeTable.push(
      withRouteId({
        family: r.dst.includes(":") ? "inet6" : "inet",
        tos: 0,
        table: c.RT_TABLE_MAIN,
        protocol: 3,
        scope: 0,
        type: c.RTN_UNICAST,
        flags: 0,
        priority: 0,
        oif: 0,
        ...r,
      }),
    )
  }

  // --- rules ------------------------------------------------------------------------

  #apply(r: RtnlRequest): NetlinkError | undefined {
    switch (r.object) {
      case "link":
        return this.#link(r.request)
      case "address":
        return this.#address(r.request)
      case "route":
        return this.#route(r.request)
      case "rule":
        return this.#rule(r.request)
      case "neighbor":
        return this.#neighbor(r.request)
      case "fdb":
      case "nexthop":
        return undefined
      case "tun":
        return this.#createLink({ op: "create", name: r.request.name, kind: "tun" })
      case "altnames": {
        const l = this.linkTable.get(r.request.index)
        if (!l) return fail(ENODEV, "No such device")
        const names = new Set(l.altnames ?? [])
        for (const n of r.request.names) r.request.op === "add" ? names.add(n) : names.delete(n)
        l.altnames = [...names]
        return undefined
      }
    }
  }

  #neighbor(req: NeighborRequest): NetlinkError | undefined {
    if (!this.linkTable.get(req.index)) return fail(ENODEV, "No such device")
    return neighborRequest(this.neighborTable, req)
  }

  /** an entry someone else made, or the kernel learned (`ip neigh add/del`, ARP) */
  setNeighbor(n: Neighbor): void {
    this.#beforeChange()
    this.neighborTable = [
      ...this.neighborTable.filter((x) => !(x.index === n.index && x.address === n.address)),
      { ...n },
    ]
  }
  deleteNeighbor(address: string): void {
    this.#beforeChange()
    this.neighborTable = this.neighborTable.filter((x) => x.address !== address)
  }

  #rule(req: RuleRequest): NetlinkError | undefined {
    return ruleRequest(this.ruleTable, req)
  }

  /** `ip rule add/del` by another agent */
  addRule(rule: FibRule): void {
    this.#beforeChange()
    this.ruleTable.push({ ...rule })
    this.ruleTable.sort((a, b) => a.priority - b.priority)
  }
  deleteRule(match: (r: FibRule) => boolean): void {
    this.#beforeChange()
    this.ruleTable = this.ruleTable.filter((r) => !match(r))
  }

  #find(req: { index?: number; name?: string }): Link | undefined {
    if (req.index) return this.linkTable.get(req.index)
    return req.name ? this.linkByName(req.name) : undefined
  }

  #mac(): string {
    const n = this.#nextMac++
    return formatMac(new Uint8Array([0x02, 0, 0, 0, (n >> 8) & 255, n & 255]))
  }

  #link(req: LinkRequest): NetlinkError | undefined {
    switch (req.op) {
      case "create":
        return this.#createLink(req)
      case "set":
        return this.#setLink(req)
      case "delete": {
        const l = this.#find(req)
        if (!l) return fail(ENODEV, "Cannot find device")
        this.#deleteLink(l)
        return undefined
      }
    }
  }

  #createLink(req: LinkRequest): NetlinkError | undefined {
    if (!req.name) return fail(EINVAL, "missing name")
    if (this.linkByName(req.name)) return fail(EEXIST, "File exists")
    if (!req.kind || this.#options.unsupportedKinds?.includes(req.kind)) return fail(EOPNOTSUPP, "Unknown device type")
    if (req.peer && this.linkByName(req.peer.name)) return fail(EEXIST, "File exists")
    if (
      (req.kind === "vlan" || req.kind === "macvlan" || req.kind === "ipvlan") &&
      !this.linkTable.get(req.linkIndex ?? 0)
    )
      return fail(ENODEV, "No such device")
    const index = this.#nextIndex++
    const link: Link = {
      index,
      name: req.name,
      kind: req.kind,
      up: !!req.up,
      mtu: req.mtu ?? 1500,
      mac: req.mac ? formatMac(req.mac) : this.#mac(),
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
    this.linkTable.set(index, link)
    if (req.kind === "veth" && req.peer) {
      if (req.peer.netnsFd !== undefined) {
        link.linkNetnsId = 0
      } else {
        const pi = this.#nextIndex++
        this.linkTable.set(pi, {
          index: pi,
          name: req.peer.name,
          kind: "veth",
          up: false,
          mtu: req.peer.mtu ?? 1500,
          mac: req.peer.mac ? formatMac(req.peer.mac) : this.#mac(),
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

  #setLink(req: LinkRequest): NetlinkError | undefined {
    const l = this.#find(req)
    if (!l) return fail(ENODEV, "No such device")
    if (req.masterIndex) {
      const m = this.linkTable.get(req.masterIndex)
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
      if (!req.up) this.routeTable = this.routeTable.filter((r) => r.oif !== l.index || r.protocol === c.RTPROT_KERNEL)
    }
    return undefined
  }

  #deleteLink(l: Link): void {
    this.linkTable.delete(l.index)
    if (l.kind === "veth" && l.linkNetnsId === undefined) this.linkTable.delete(l.linkIndex)
    const gone = new Set([l.index, l.kind === "veth" ? l.linkIndex : -1])
    this.addressTable = this.addressTable.filter((a) => !gone.has(a.index))
    this.routeTable = this.routeTable.filter((r) => !gone.has(r.oif) && !r.nexthops?.some((n) => gone.has(n.oif)))
    for (const other of this.linkTable.values()) if (gone.has(other.masterIndex)) other.masterIndex = 0
  }

  #address(req: AddressRequest): NetlinkError | undefined {
    const l = this.linkTable.get(req.index)
    if (!l) return fail(ENODEV, "No such device")
    const address = `${formatIp(req.local)}/${req.prefixLen}`
    const existing = this.addressTable.find((a) => a.index === req.index && a.address === address)
    if (req.op === "delete") {
      if (!existing) return fail(EADDRNOTAVAIL, "Cannot assign requested address")
      this.addressTable = this.addressTable.filter((a) => a !== existing)
      this.routeTable = this.routeTable.filter(
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
    this.addressTable.push(a)
    if (!((req.flags ?? 0) & c.IFA_F_NOPREFIXROUTE)) {
      const net = networkOf(parsePrefix(address)!)
      this.routeTable.push(
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

  #reachable(gw: string, oif: number): boolean {
    const ip = parseIp(gw)!
    return this.addressTable.some((a) => {
      if (oif && a.index !== oif) return false
      const p = parsePrefix(a.address)!
      if (p.family !== ip.family) return false
      return formatPrefix(networkOf(p)) === formatPrefix(networkOf({ ...ip, prefixLen: p.prefixLen }))
    })
  }

  #route(req: RouteRequest): NetlinkError | undefined {
    const dst = `${formatIp(req.dst)}/${req.dstLen}`
    const same = (r: Route) =>
      r.family === req.family &&
      r.table === req.table &&
      r.dst === dst &&
      r.priority === req.priority &&
      (req.family === "inet6" || r.tos === req.tos)
    if (req.op === "delete") {
      // like the kernel: a protocol in the request must match too
      const i = this.routeTable.findIndex((r) => same(r) && (!req.protocol || r.protocol === req.protocol))
      if (i < 0) return fail(req.family === "inet" ? ESRCH : ENOENT, "No such process")
      this.routeTable.splice(i, 1)
      return undefined
    }
    const existing = this.routeTable.findIndex(same)
    if (req.op === "create" && existing >= 0) return fail(EEXIST, "File exists")
    if (req.op === "replace" && existing < 0) return fail(ENOENT, "No such file or directory")
    const hops =
      req.multipath ??
      (req.oif || req.gateway ? [{ oif: req.oif ?? 0, gateway: req.gateway, weight: 1, flags: req.flags }] : [])
    let firstOif = 0
    for (const h of hops) {
      if (h.oif && !this.linkTable.get(h.oif)) return fail(ENODEV, "No such device")
      const gw = h.gateway ? formatIp(h.gateway) : undefined
      const onlink = ((h.flags ?? 0) & c.RTNH_F_ONLINK) !== 0
      if (gw && !onlink && !this.#reachable(gw, h.oif)) return fail(ENETUNREACH, "Nexthop has invalid gateway")
      const oif = h.oif || this.addressTable.find((a) => gw && this.#reachable(gw, a.index))?.index || 0
      const link = this.linkTable.get(oif)
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
    if (existing >= 0) this.routeTable[existing] = route
    else this.routeTable.push(route)
    return undefined
  }
}
