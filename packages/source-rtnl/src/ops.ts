// The ops a pass applies, and the `ip` command line each one is equivalent to.
import type { AddressOp } from "./addr.ts"
import { assertNever, type ConflictOp } from "./conflict.ts"
import type { LinkChanges, LinkOp } from "./link.ts"
import type { RouteOp, WantedRoute } from "./route.ts"
import * as c from "./wire/constants.ts"

export type { ConflictOp }
export type { Link } from "./wire/link.ts"
export type { Address } from "./wire/addr.ts"
export type { Route } from "./wire/route.ts"
export type RtnlOp = LinkOp | AddressOp | RouteOp | ConflictOp

const quote = (s: string) => (/^[\w.:@/-]+$/.test(s) ? s : JSON.stringify(s))

function describeChanges(name: string, ch: LinkChanges): string {
  const parts = [`ip link set dev ${name}`]
  if (ch.mtu !== undefined) parts.push(`mtu ${ch.mtu}`)
  if (ch.mac !== undefined) parts.push(`address ${ch.mac}`)
  if (ch.group !== undefined) parts.push(`group ${ch.group}`)
  if (ch.alias !== undefined) parts.push(`alias ${quote(ch.alias)}`)
  if (ch.master !== undefined) parts.push(ch.master === null ? "nomaster" : `master ${ch.master}`)
  if (ch.up !== undefined) parts.push(ch.up ? "up" : "down")
  if (ch.stp !== undefined || ch.vlanFiltering !== undefined) {
    parts.push("type bridge")
    if (ch.stp !== undefined) parts.push(`stp_state ${ch.stp ? 1 : 0}`)
    if (ch.vlanFiltering !== undefined) parts.push(`vlan_filtering ${ch.vlanFiltering ? 1 : 0}`)
  }
  return parts.join(" ")
}

function describeLinkCreate(op: Extract<LinkOp, { kind: "create" }>): string {
  const s = op.spec
  const parts = ["ip link add"]
  if (s.kind === "vlan" || s.kind === "macvlan" || s.kind === "ipvlan")
    parts.push(`link ${s.parent}${s.parentNetns ? ` (in ${s.parentNetns})` : ""}`)
  parts.push(s.name)
  if (s.mtu !== undefined) parts.push(`mtu ${s.mtu}`)
  if (s.mac !== undefined) parts.push(`address ${s.mac}`)
  parts.push(`group ${op.group}`, `type ${s.kind}`)
  switch (s.kind) {
    case "bridge":
      if (s.stp !== undefined) parts.push(`stp_state ${s.stp ? 1 : 0}`)
      if (s.vlanFiltering !== undefined) parts.push(`vlan_filtering ${s.vlanFiltering ? 1 : 0}`)
      break
    case "veth":
      parts.push(`peer name ${s.peer.name}`)
      if (s.peer.netns) parts.push(`netns ${s.peer.netns}`)
      break
    case "macvlan":
    case "ipvlan":
      parts.push(`mode ${s.mode}`)
      break
    case "vlan":
      parts.push(`protocol ${s.protocol} id ${s.vlanId}`)
      break
    case "dummy":
    case "device":
      break
    default:
      assertNever(s)
  }
  const then: string[] = []
  if (s.alias !== undefined) then.push(`alias ${quote(s.alias)}`)
  if (s.master) then.push(`master ${s.master}`)
  if (s.up !== undefined) then.push(s.up ? "up" : "down")
  return then.length ? `${parts.join(" ")}; ip link set dev ${s.name} ${then.join(" ")}` : parts.join(" ")
}

function describeRoute(verb: string, w: WantedRoute, protocol: number): string {
  const parts = [w.family === "inet6" ? `ip -6 route ${verb}` : `ip route ${verb}`]
  if (w.type !== c.RTN_UNICAST) parts.push(c.ROUTE_TYPE_NAMES[w.type] ?? String(w.type))
  parts.push(w.dst === "0.0.0.0/0" || w.dst === "::/0" ? "default" : w.dst)
  if (w.gateway) parts.push(`via ${w.gateway}`)
  if (w.dev) parts.push(`dev ${w.dev}`)
  if (w.prefsrc) parts.push(`src ${w.prefsrc}`)
  if (w.table !== c.RT_TABLE_MAIN) parts.push(`table ${w.table}`)
  if (w.priority !== (w.family === "inet6" ? 1024 : 0)) parts.push(`metric ${w.priority}`)
  if (w.mtu !== undefined) parts.push(`mtu ${w.mtu}`)
  if (w.onlink) parts.push("onlink")
  for (const nh of w.nexthops ?? []) {
    parts.push("nexthop")
    if (nh.gateway) parts.push(`via ${nh.gateway}`)
    if (nh.dev) parts.push(`dev ${nh.dev}`)
    parts.push(`weight ${nh.weight}`)
    if (nh.onlink) parts.push("onlink")
  }
  parts.push(`proto ${protocol}`)
  return parts.join(" ")
}

/** The `ip` command equivalent to an op: logs, plans, the status page and tests share it. */
export function describeRtnlOp(op: RtnlOp): string {
  switch (op.kind) {
    case "conflict":
      return `# conflict: ${op.reason}`
    case "create":
      switch (op.object) {
        case "link":
          return describeLinkCreate(op)
        case "address": {
          const a = op.spec
          const parts = [`ip addr add ${a.address}`]
          if (a.peer) parts.push(`peer ${a.peer}`)
          parts.push(`dev ${a.link}`)
          if (a.label) parts.push(`label ${a.label}`)
          if (a.noPrefixRoute) parts.push("noprefixroute")
          if (a.nodad) parts.push("nodad")
          parts.push(`proto ${op.proto}`)
          return parts.join(" ")
        }
        case "route":
          return describeRoute("add", op.route, op.protocol)
        default:
          return assertNever(op)
      }
    case "update":
      switch (op.object) {
        case "link":
          return describeChanges(op.name, op.changes)
        case "route":
          return `${describeRoute("replace", op.route, op.protocol)}  # ${op.reason} differs`
        default:
          return assertNever(op)
      }
    case "delete":
      switch (op.object) {
        case "link":
          return `ip link del dev ${op.name}`
        case "address":
          return `ip addr del ${op.address}${op.peer ? ` peer ${op.peer}` : ""} dev ${op.link}`
        case "route": {
          const r = op.route
          const parts = [r.family === "inet6" ? "ip -6 route del" : "ip route del"]
          if (r.type !== c.RTN_UNICAST) parts.push(c.ROUTE_TYPE_NAMES[r.type] ?? String(r.type))
          parts.push(r.dst === "0.0.0.0/0" || r.dst === "::/0" ? "default" : r.dst)
          if (r.gateway) parts.push(`via ${r.gateway}`)
          if (op.dev) parts.push(`dev ${op.dev}`)
          if (r.table !== c.RT_TABLE_MAIN) parts.push(`table ${r.table}`)
          parts.push(`metric ${r.priority}`, `proto ${r.protocol}`)
          return parts.join(" ")
        }
        default:
          return assertNever(op)
      }
    default:
      return assertNever(op)
  }
}
