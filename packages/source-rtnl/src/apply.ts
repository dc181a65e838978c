// Applies rtnl ops to a kernel in dependency order: each phase is one pipelined batch;
// names are resolved to ifindexes just before the phase that needs them; a failure is
// reported for its op with the kernel's message while the other ops still apply.
import { macBytes, NetlinkError, parseIp, parsePrefix } from "@linx/netlink"
import type { AddressOp } from "./addr.ts"
import type { RtnlKernel, RtnlRequest } from "./kernel.ts"
import type { LinkOp } from "./link.ts"
import { describeRtnlOp, type RtnlOp } from "./ops.ts"
import { PHASES, phaseOf, type Phase } from "./order.ts"
import type { RouteOp } from "./route.ts"
import type { LinkSpec } from "./schema.ts"
import type { RouteRequest } from "./wire/route.ts"
import * as c from "./wire/constants.ts"

export interface ApplyResult {
  applied: RtnlOp[]
  failed: { op: RtnlOp; error: Error }[]
}

const ENOENT = 2, ESRCH = 3, ENODEV = 19, EADDRNOTAVAIL = 99

function missing(name: string, what: string, label: string): NetlinkError {
  return new NetlinkError(ENODEV, { extAck: { message: `${what} ${name} does not exist` }, request: { type: 0, flags: 0, seq: 0, label } })
}

/** A delete that finds nothing has nothing left to do. */
function isGone(op: RtnlOp, e: NetlinkError): boolean {
  if (op.kind !== "delete") return false
  return e.errno === ENODEV || e.errno === ENOENT || e.errno === ESRCH || e.errno === EADDRNOTAVAIL
}

const hasParent = (s: LinkSpec) => s.kind === "vlan" || s.kind === "macvlan" || s.kind === "ipvlan"

export function applyRtnlOps(kernel: RtnlKernel, ops: readonly RtnlOp[]): ApplyResult {
  const result: ApplyResult = { applied: [], failed: [] }
  const byPhase = new Map<Phase, RtnlOp[]>()
  for (const op of ops) {
    const p = phaseOf(op)
    if (p === "none") continue
    let list = byPhase.get(p)
    if (!list) byPhase.set(p, (list = []))
    list.push(op)
  }
  let index: Map<string, number> | undefined
  const indexOf = (name: string): number | undefined => {
    index ??= new Map(kernel.links().map((l) => [l.name, l.index]))
    return index.get(name)
  }
  const failedOps = new Set<RtnlOp>()

  /** Builds requests for ops (an op may need several), sends them as one batch, records results. */
  const run = (list: readonly RtnlOp[], build: (op: RtnlOp, label: string) => RtnlRequest[] | Error) => {
    const requests: RtnlRequest[] = []
    const owner: RtnlOp[] = []
    for (const op of list) {
      const label = describeRtnlOp(op)
      const built = build(op, label)
      if (built instanceof Error) {
        result.failed.push({ op, error: built })
        failedOps.add(op)
        continue
      }
      for (const r of built) {
        requests.push(r)
        owner.push(op)
      }
    }
    const failures = requests.length ? kernel.send(requests) : new Map<number, NetlinkError>()
    const failedHere = new Map<RtnlOp, Error>()
    for (const [i, e] of failures) {
      const op = owner[i]!
      if (isGone(op, e) || failedHere.has(op)) continue
      failedHere.set(op, e)
    }
    for (const op of list) {
      if (failedOps.has(op)) continue
      const e = failedHere.get(op)
      if (e) {
        result.failed.push({ op, error: e })
        failedOps.add(op)
      } else result.applied.push(op)
    }
  }

  for (const phase of PHASES) {
    let list = byPhase.get(phase)
    if (!list?.length) continue
    switch (phase) {
      case "deleteRoutes":
        run(list, (op) => [routeDelete(op as Extract<RouteOp, { kind: "delete" }>)])
        break
      case "deleteAddresses":
        run(list, (op, label) => [addressDelete(op as Extract<AddressOp, { kind: "delete" }>, label)])
        break
      case "deleteLinks":
        run(list, (op, label) => {
          const l = op as Extract<LinkOp, { kind: "delete" }>
          return l.object === "linkGroup"
            ? [{ object: "link", label, request: { op: "deleteGroup", group: l.group } }]
            : [{ object: "link", label, request: { op: "delete", index: l.index, name: l.name } }]
        })
        index = undefined
        break
      case "createLinks": {
        // Links without a parent first: a vlan/macvlan may sit on a link created here.
        list = list as Extract<LinkOp, { kind: "create" }>[]
        const first = list.filter((op) => !hasParent((op as Extract<LinkOp, { kind: "create" }>).spec))
        const second = list.filter((op) => hasParent((op as Extract<LinkOp, { kind: "create" }>).spec))
        if (first.length) run(first, (op, label) => linkCreate(kernel, op as Extract<LinkOp, { kind: "create" }>, label, indexOf))
        index = undefined
        if (second.length) run(second, (op, label) => linkCreate(kernel, op as Extract<LinkOp, { kind: "create" }>, label, indexOf))
        index = undefined
        // then what creation cannot set: master, alias, up (and the peer's)
        const created = list.filter((op) => !failedOps.has(op)) as Extract<LinkOp, { kind: "create" }>[]
        const settle = created.filter((op) => postCreate(op.spec, () => 0).length)
        if (settle.length) {
          const before = result.applied.length
          const failedBefore = result.failed.length
          run(settle, (op, label) => {
            const s = (op as Extract<LinkOp, { kind: "create" }>).spec
            const reqs = postCreate(s, (n) => indexOf(n) ?? -1)
            const bad = reqs.find((r) => r.request.masterIndex === -1)
            if (bad) return missing(String((s.master ?? (s.kind === "veth" ? s.peer.master : undefined)) ?? ""), "master", label)
            return reqs.map((r) => ({ ...r, label }))
          })
          // these ops were already counted as applied by their create; a failed settle un-applies them
          result.applied.splice(before)
          const settleFailed = new Set(result.failed.slice(failedBefore).map((f) => f.op))
          if (settleFailed.size) result.applied = result.applied.filter((op) => !settleFailed.has(op))
        }
        break
      }
      case "updateLinks":
        run(list, (op, label) => {
          const u = op as Extract<LinkOp, { kind: "update" }>
          const ch = u.changes
          const request: RtnlRequest & { object: "link" } = { object: "link", label, request: { op: "set", index: u.index } }
          const r = request.request
          if (ch.up !== undefined) r.up = ch.up
          if (ch.mtu !== undefined) r.mtu = ch.mtu
          if (ch.mac !== undefined) r.mac = macBytes(ch.mac)
          if (ch.group !== undefined) r.group = ch.group
          if (ch.alias !== undefined) r.alias = ch.alias
          if (ch.master !== undefined) {
            if (ch.master === null) r.masterIndex = 0
            else {
              const m = indexOf(ch.master)
              if (m === undefined) return missing(ch.master, "master", label)
              r.masterIndex = m
            }
          }
          if (ch.stp !== undefined || ch.vlanFiltering !== undefined) {
            r.kind = "bridge"
            r.bridge = {}
            if (ch.stp !== undefined) r.bridge.stp = ch.stp
            if (ch.vlanFiltering !== undefined) r.bridge.vlanFiltering = ch.vlanFiltering
          }
          return [request]
        })
        break
      case "createAddresses":
        run(list, (op, label) => {
          const a = (op as Extract<AddressOp, { kind: "create" }>).spec
          const link = indexOf(a.link)
          if (link === undefined) return missing(a.link, "link", label)
          const p = parsePrefix(a.address)!
          let flags = 0
          if (a.noPrefixRoute) flags |= c.IFA_F_NOPREFIXROUTE
          if (a.nodad && p.family === "inet6") flags |= c.IFA_F_NODAD
          const request: RtnlRequest & { object: "address" } = {
            object: "address",
            label,
            request: { op: "create", family: p.family, index: link, prefixLen: p.prefixLen, local: p.bytes, flags, proto: (op as Extract<AddressOp, { kind: "create" }>).proto },
          }
          if (a.peer) request.request.peer = parseIp(a.peer)!.bytes
          if (a.label) request.request.label = a.label
          return [request]
        })
        break
      case "createRoutes":
        run(list, (op, label) => routeCreate(op as Extract<RouteOp, { kind: "create" | "update" }>, label, indexOf))
        break
    }
  }
  return result
}

function linkCreate(kernel: RtnlKernel, op: Extract<LinkOp, { kind: "create" }>, label: string, indexOf: (n: string) => number | undefined): RtnlRequest[] | Error {
  const s = op.spec
  const request: RtnlRequest & { object: "link" } = { object: "link", label, request: { op: "create", name: s.name, kind: s.kind, group: op.group } }
  const r = request.request
  if (s.mtu !== undefined) r.mtu = s.mtu
  if (s.mac !== undefined) r.mac = macBytes(s.mac)
  try {
    switch (s.kind) {
      case "bridge":
        if (s.stp !== undefined || s.vlanFiltering !== undefined) {
          r.bridge = {}
          if (s.stp !== undefined) r.bridge.stp = s.stp
          if (s.vlanFiltering !== undefined) r.bridge.vlanFiltering = s.vlanFiltering
        }
        break
      case "veth": {
        r.peer = { name: s.peer.name }
        if (!s.peer.netns) r.peer.group = op.group
        if (s.peer.netns) r.peer.netnsFd = kernel.netnsFd(s.peer.netns)
        if (s.peer.mtu !== undefined) r.peer.mtu = s.peer.mtu
        else if (s.mtu !== undefined) r.peer.mtu = s.mtu
        if (s.peer.mac !== undefined) r.peer.mac = macBytes(s.peer.mac)
        break
      }
      case "macvlan":
      case "ipvlan":
      case "vlan": {
        const parent = s.parentNetns ? kernel.linkIndexIn(s.parentNetns, s.parent) : indexOf(s.parent)
        if (parent === undefined) return missing(s.parent, s.parentNetns ? `parent (in ${s.parentNetns})` : "parent", label)
        r.linkIndex = parent
        if (s.parentNetns) {
          request.via = s.parentNetns
          r.netnsFd = kernel.ownNetnsFd()
        }
        if (s.kind === "macvlan") r.macvlanMode = c.MACVLAN_MODE[s.mode]!
        if (s.kind === "ipvlan") r.ipvlanMode = c.IPVLAN_MODE[s.mode]!
        if (s.kind === "vlan") r.vlan = { id: s.vlanId, protocol: s.protocol === "802.1ad" ? c.ETH_P_8021AD : c.ETH_P_8021Q }
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

/** Settings a new link gets after creation (ip link set ... master ... alias ... up), by name. */
function postCreate(s: LinkSpec, indexOf: (n: string) => number): (RtnlRequest & { object: "link" })[] {
  const out: (RtnlRequest & { object: "link" })[] = []
  const set = (name: string, up: boolean | undefined, master: string | null | undefined, alias?: string) => {
    if (up === undefined && !master && alias === undefined) return
    const req: RtnlRequest & { object: "link" } = { object: "link", label: "", request: { op: "set", name } }
    if (up !== undefined) req.request.up = up
    if (master) req.request.masterIndex = indexOf(master)
    if (alias !== undefined) req.request.alias = alias
    out.push(req)
  }
  // the peer first: a veth end only gets carrier once both ends are up
  if (s.kind === "veth" && !s.peer.netns) set(s.peer.name, s.peer.up ?? s.up, s.peer.master)
  set(s.name, s.up, s.master, s.alias)
  return out
}

function routeCreate(op: Extract<RouteOp, { kind: "create" | "update" }>, label: string, indexOf: (n: string) => number | undefined): RtnlRequest[] | Error {
  const w = op.route
  const dst = parsePrefix(w.dst)!
  const req: RouteRequest = {
    op: "create",
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
      let oif = 0
      if (nh.dev) {
        const i = indexOf(nh.dev)
        if (i === undefined) return missing(nh.dev, "link", label)
        oif = i
      }
      const hop: { oif: number; gateway?: Uint8Array; weight: number; flags: number } = { oif, weight: nh.weight, flags: nh.onlink ? c.RTNH_F_ONLINK : 0 }
      if (nh.gateway) hop.gateway = parseIp(nh.gateway)!.bytes
      req.multipath.push(hop)
    }
  }
  return [{ object: "route", label, request: req }]
}

function routeDelete(op: Extract<RouteOp, { kind: "delete" }>): RtnlRequest {
  const r = op.route
  const dst = parsePrefix(r.dst)!
  return {
    object: "route",
    label: describeRtnlOp(op),
    request: {
      op: "delete",
      family: r.family,
      dst: dst.bytes,
      dstLen: dst.prefixLen,
      table: r.table,
      // only a route still carrying this protocol matches: a foreign replacement survives
      protocol: r.protocol,
      scope: 255, // RT_SCOPE_NOWHERE: any scope
      type: r.type,
      tos: r.tos,
      priority: r.priority,
      flags: 0,
    },
  }
}

function addressDelete(op: Extract<AddressOp, { kind: "delete" }>, label: string): RtnlRequest {
  const p = parsePrefix(op.address)!
  const request: RtnlRequest & { object: "address" } = {
    object: "address",
    label,
    request: { op: "delete", family: p.family, index: op.index, prefixLen: p.prefixLen, local: p.bytes },
  }
  if (op.peer) request.request.peer = parseIp(op.peer)!.bytes
  return request
}
