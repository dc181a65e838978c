// The `ip route` text of route ops.
import * as c from "../wire/constants.ts"
import type { RouteOp, WantedRoute } from "./model.ts"
import { defaultMetric } from "./schema.ts"

const IP_METRIC_NAMES: Record<string, string> = { rtoMin: "rto_min" }

/**
 * (a million of these in a full table's plan, each written and dropped at once: appended
 * text, flattened once when written, is 4× faster than parts joined; kept by the million,
 * the same ropes cost twice the memory — `linx plan` does not keep them)
 */
function describeRoute(verb: string, w: WantedRoute, protocol: number): string {
  let s = w.family === "inet6" ? `ip -6 route ${verb}` : `ip route ${verb}`
  if (w.type !== c.RTN_UNICAST) s += ` ${c.ROUTE_TYPE_NAMES[w.type] ?? String(w.type)}`
  s += w.dst === "0.0.0.0/0" || w.dst === "::/0" ? " default" : ` ${w.dst}`
  if (w.nhid !== undefined) s += ` nhid ${w.nhid}`
  if (w.gateway) s += ` via ${w.gateway}`
  if (w.dev) s += ` dev ${w.dev}`
  if (w.prefsrc) s += ` src ${w.prefsrc}`
  if (w.tos) s += ` tos 0x${w.tos.toString(16)}`
  if (w.table !== c.RT_TABLE_MAIN) s += ` table ${w.table}`
  if (w.priority !== defaultMetric(w.family)) s += ` metric ${w.priority}`
  if (w.mtu !== undefined) s += ` mtu ${w.mtu}`
  if (w.pref !== undefined) s += ` pref ${w.pref === 1 ? "high" : w.pref === 3 ? "low" : "medium"}`
  if (w.metrics)
    for (const [k, n] of Object.entries(w.metrics)) s += ` ${IP_METRIC_NAMES[k] ?? k} ${k === "rtoMin" ? `${n}ms` : n}`
  if (w.onlink) s += " onlink"
  if (w.nexthops)
    for (const nh of w.nexthops) {
      s += " nexthop"
      if (nh.gateway) s += ` via ${nh.gateway}`
      if (nh.dev) s += ` dev ${nh.dev}`
      s += ` weight ${nh.weight}`
      if (nh.onlink) s += " onlink"
    }
  return `${s} proto ${protocol}`
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
