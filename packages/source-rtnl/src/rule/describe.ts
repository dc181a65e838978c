// Rule ops as the `ip rule` line that does the same.
import * as c from "../wire/constants.ts"
import type { FibRule, RuleOp } from "./model.ts"

const ACTIONS = Object.fromEntries(Object.entries(c.FR_ACT).map(([k, n]) => [n, k]))
const hex = (n: number) => `0x${n.toString(16)}`

/** The selector and action of a rule as `ip rule` writes them. */
export function ruleText(r: FibRule): string {
  const p: string[] = [`priority ${r.priority}`]
  if (r.invert) p.push("not")
  p.push(`from ${r.src ?? "all"}`)
  if (r.dst) p.push(`to ${r.dst}`)
  if (r.tos) p.push(`tos ${hex(r.tos)}`)
  if (r.fwmark !== undefined)
    p.push(`fwmark ${hex(r.fwmark)}${r.fwmask !== 0xffffffff ? `/${hex(r.fwmask ?? 0)}` : ""}`)
  if (r.iif) p.push(`iif ${r.iif}`)
  if (r.oif) p.push(`oif ${r.oif}`)
  if (r.uidRange) p.push(`uidrange ${r.uidRange.join("-")}`)
  if (r.ipProto !== undefined) p.push(`ipproto ${r.ipProto}`)
  if (r.sport) p.push(`sport ${r.sport[0] === r.sport[1] ? r.sport[0] : r.sport.join("-")}`)
  if (r.dport) p.push(`dport ${r.dport[0] === r.dport[1] ? r.dport[0] : r.dport.join("-")}`)
  if (r.l3mdev) p.push("lookup l3mdev")
  else if (r.action === c.FR_ACT.lookup)
    p.push(`lookup ${r.table === c.RT_TABLE_MAIN ? "main" : r.table === 253 ? "default" : r.table}`)
  else if (r.action === c.FR_ACT.goto) p.push(`goto ${r.goto}`)
  else p.push(ACTIONS[r.action] ?? `action ${r.action}`)
  if (r.suppressPrefixlen !== undefined) p.push(`suppress_prefixlength ${r.suppressPrefixlen}`)
  if (r.protocol) p.push(`proto ${r.protocol}`)
  return p.join(" ")
}

export function describeRuleOp(op: RuleOp): string {
  const six = op.rule.family === "inet6" ? " -6" : ""
  return `ip${six} rule ${op.kind === "create" ? "add" : "del"} ${ruleText(op.rule)}`
}
