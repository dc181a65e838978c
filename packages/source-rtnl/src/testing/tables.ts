// The fake kernel's policy rules and neighbours, with the kernel's answers to requests
// (EEXIST for a duplicate create, ENOENT for what is not there), as functions of the tables.
import { NetlinkError } from "@linx/netlink"
import { errno } from "@linx/netlink/wire"
import { type Family, formatIp, formatMac } from "@linx/netlink/ip"
import { ruleKey } from "../rule/model.ts"
import * as c from "../wire/constants.ts"
import type { Neighbor, NeighborRequest } from "../wire/neigh.ts"
import type { FibRule, RuleRequest } from "../wire/rule.ts"

const fail = (no: number, message: string) => new NetlinkError(no, { extAck: { message } })

/** The rules a new namespace has: lookup local, main, default (ip rule show), in both families. */
export function defaultRules(): FibRule[] {
  const rule = (family: Family, priority: number, table: number): FibRule => ({
    family,
    priority,
    table,
    action: c.FR_ACT.lookup,
    tos: 0,
    invert: false,
    protocol: c.RTPROT_KERNEL,
  })
  return [
    rule("inet", 0, c.RT_TABLE_LOCAL),
    rule("inet", 32766, c.RT_TABLE_MAIN),
    rule("inet", 32767, 253),
    rule("inet6", 0, c.RT_TABLE_LOCAL),
    rule("inet6", 32766, c.RT_TABLE_MAIN),
  ]
}

/** ip rule add (refused when the same rule by the same protocol is there) / ip rule del (the first that matches). */
export function ruleRequest(table: FibRule[], req: RuleRequest): NetlinkError | undefined {
  const key = ruleKey(req.rule)
  const same = (r: FibRule) => ruleKey(r) === key && (!req.rule.protocol || r.protocol === req.rule.protocol)
  const i = table.findIndex(same)
  if (req.op === "create") {
    if (i >= 0) return fail(errno.EEXIST, "File exists")
    table.push({ ...req.rule })
    table.sort((a, b) => a.priority - b.priority)
    return undefined
  }
  if (i < 0) return fail(errno.ENOENT, "No such file or directory")
  table.splice(i, 1)
  return undefined
}

/** ip neigh add (EEXIST when there) / replace (ENOENT when not) / del (ENOENT when not); the link is checked by the caller. */
export function neighborRequest(table: Neighbor[], req: NeighborRequest): NetlinkError | undefined {
  const address = formatIp(req.address)
  const i = table.findIndex((n) => n.index === req.index && n.address === address)
  if (req.op === "delete") {
    if (i < 0) return fail(errno.ENOENT, "No such file or directory")
    table.splice(i, 1)
    return undefined
  }
  if (req.op === "create" && i >= 0) return fail(errno.EEXIST, "File exists")
  if (req.op === "replace" && i < 0) return fail(errno.ENOENT, "No such file or directory")
  const n: Neighbor = {
    family: req.family,
    index: req.index,
    address,
    state: req.state,
    flags: req.flags,
    protocol: req.protocol ?? 0,
  }
  if (req.lladdr) n.lladdr = formatMac(req.lladdr)
  if (i >= 0) table[i] = n
  else table.push(n)
  return undefined
}
