// The `ip route` text of route ops.
import * as c from "../wire/constants.ts"
import type { RouteOp, WantedRoute } from "./model.ts"

const IP_METRIC_NAMES: Record<string, string> = { rtoMin: "rto_min" }

/** (a million of these in a full table's plan: parts joined once, flat; `+=` makes ropes, twice as slow) */
function describeRoute(verb: string, w: WantedRoute, protocol: number): string {
  const parts = [w.family === "inet6" ? `ip -6 route ${verb}` : `ip route ${verb}`]
  if (w.type !== c.RTN_UNICAST) parts.push(c.ROUTE_TYPE_NAMES[w.type] ?? String(w.type))
  parts.push(w.dst === "0.0.0.0/0" || w.dst === "::/0" ? "default" : w.dst)
  if (w.nhid !== undefined) parts.push(`nhid ${w.nhid}`)
  if (w.gateway) parts.push(`via ${w.gateway}`)
  if (w.dev) parts.push(`dev ${w.dev}`)
  if (w.prefsrc) parts.push(`src ${w.prefsrc}`)
  if (w.tos) parts.push(`tos 0x${w.tos.toString(16)}`)
  if (w.table !== c.RT_TABLE_MAIN) parts.push(`table ${w.table}`)
  if (w.priority !== (w.family === "inet6" ? 1024 : 0)) parts.push(`metric ${w.priority}`)
  if (w.mtu !== undefined) parts.push(`mtu ${w.mtu}`)
  if (w.pref !== undefined) parts.push(`pref ${w.pref === 1 ? "high" : w.pref === 3 ? "low" : "medium"}`)
  if (w.metrics)
    for (const [k, n] of Object.entries(w.metrics))
      parts.push(`${IP_METRIC_NAMES[k] ?? k} ${k === "rtoMin" ? `${n}ms` : n}`)
  if (w.onlink) parts.push("onlink")
  if (w.nexthops)
    for (const nh of w.nexthops) {
      parts.push("nexthop")
      if (nh.gateway) parts.push(`via ${nh.gateway}`)
      if (nh.dev) parts.push(`dev ${nh.dev}`)
      parts.push(`weight ${nh.weight}`)
      if (nh.onlink) parts.push("onlink")
    }
  parts.push(`proto ${protocol}`)
  return parts.join(" ")
}

/** The `ip route` command equivalent to a route op. */
export function describeRouteOp(op: RouteOp): string {
  switch (op.kind) {
    case "create":
      return describeRoute("add", op.route, op.protocol)
    case "update":
      return `${describeRoute("replace", op.route, op.protocol)}  # ${op.reason} differs`
    case "delete": {
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
  }
}
