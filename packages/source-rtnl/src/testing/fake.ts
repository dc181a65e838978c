// An in-memory kernel for unit tests without root: links, addresses, routes, policy
// rules and neighbours, answered with the kernel's rules (link-table.ts for links,
// addresses and routes; tables.ts for rules and neighbours), the seam's dumps, and the
// event stream a real kernel would send (hints after each change).
import { NetlinkError } from "@linx/netlink"
import { errno } from "@linx/netlink/wire"
import type { Address } from "../address/diff.ts"
import type { RouteFilter, RouteKeep, RtnlKernel, RtnlRequest } from "../kernel.ts"
import type { RouteTable } from "../wire/route-table.ts"
import type { Link } from "../link/diff.ts"
import { observedRouteKey, type Route, withRouteId } from "../route/model.ts"
import type { RtnlHint, RtnlScopeEntry } from "../scope.ts"
import * as c from "../wire/constants.ts"
import type { FibRule, RuleRequest } from "../wire/rule.ts"
import type { Neighbor, NeighborRequest } from "../wire/neigh.ts"
import { defaultRules, neighborRequest, ruleRequest } from "./tables.ts"
import {
  addressRequest,
  createLink,
  deleteLinkIn,
  linkByName,
  linkRequest,
  nextMac,
  routeRequest,
} from "./link-table.ts"
import type { FdbEntry } from "../wire/fdb.ts"
import type { Nexthop } from "../wire/nexthop.ts"

const fail = (errno: number, message: string) => new NetlinkError(errno, { extAck: { message } })
const { EPERM, ENODEV } = errno

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
  /** the next interface index and MAC suffix (link-table.ts) */
  readonly counters = { index: 2, mac: 1 }
  readonly #options: FakeRtnlKernelOptions
  get unsupportedKinds(): readonly string[] | undefined {
    return this.#options.unsupportedKinds
  }

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
  routes(f: RouteFilter, into: RouteTable, keep?: RouteKeep): void {
    this.dumps.routes++
    for (const r of this.routeTable) {
      if (r.family !== f.family || (f.table !== undefined && r.table !== f.table)) continue
      if ((f.protocol !== undefined && r.protocol !== f.protocol) || (f.oif !== undefined && r.oif !== f.oif)) continue
      if (!keep || keep(r.table, r.type)) into.push({ ...r })
    }
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
    return linkByName(this, name)
  }

  /** a NIC that is simply there (kind "device"), like eth0 */
  addDevice(name: string): Link {
    this.#beforeChange()
    const index = this.counters.index++
    const link: Link = {
      index,
      name,
      kind: "device",
      up: false,
      mtu: 1500,
      mac: nextMac(this),
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
    if (l) deleteLinkIn(this, l)
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
        return linkRequest(this, r.request)
      case "address":
        return addressRequest(this, r.request)
      case "route":
        return routeRequest(this, r.request)
      case "rule":
        return this.#rule(r.request)
      case "neighbor":
        return this.#neighbor(r.request)
      case "fdb":
      case "nexthop":
        return undefined
      case "tun":
        return createLink(this, { op: "create", name: r.request.name, kind: "tun" })
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
}
