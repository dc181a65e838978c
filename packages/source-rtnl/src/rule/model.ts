// Policy rules in kernel terms: a desired rule resolved to what the kernel will report
// for it, and the key two rules compare by (everything they match on and do, at their
// priority; never who made them).
import { RT_TABLE_MAIN } from "../wire/constants.ts"
import * as c from "../wire/constants.ts"
import type { FibRule } from "../wire/rule.ts"
import { ipProtoNumber, type RuleSpec } from "./schema.ts"

export type { FibRule }

export type RuleOp =
  | { kind: "create"; object: "rule"; rule: FibRule }
  | { kind: "delete"; object: "rule"; rule: FibRule }

const range = (s: string | undefined): [number, number] | undefined => {
  if (s === undefined) return undefined
  const [a, b] = s.split("-")
  return [Number(a), Number(b ?? a)]
}

/** The rule the kernel will hold for a desired one (stamped with `protocol`). */
export function wantedRule(s: RuleSpec, protocol: number): FibRule {
  const action = c.FR_ACT[s.action ?? "lookup"]
  const net = s.from ?? s.to
  const lookup = action === c.FR_ACT.lookup
  const table = s.table === "default" ? 253 : s.table === "main" || s.table === undefined ? RT_TABLE_MAIN : s.table
  const r: FibRule = {
    family: net ? (net.includes(":") ? "inet6" : "inet") : (s.family ?? "inet"),
    priority: s.priority,
    action,
    // the kernel reports table 0 for rules that do not look up, and none for l3mdev ones
    table: lookup && !s.l3mdev ? table : 0,
    tos: s.tos ?? 0,
    invert: s.not ?? false,
    protocol,
  }
  if (s.from) r.src = s.from
  if (s.to) r.dst = s.to
  if (s.fwmark !== undefined) {
    r.fwmark = s.fwmark
    r.fwmask = s.mask ?? 0xffffffff
  }
  if (s.iif) r.iif = s.iif
  if (s.oif) r.oif = s.oif
  if (s.l3mdev) r.l3mdev = true
  const uid = range(s.uidrange)
  if (uid) r.uidRange = uid
  const proto = ipProtoNumber(s.ipproto)
  if (proto !== undefined) r.ipProto = proto
  const sp = range(s.sport)
  if (sp) r.sport = sp
  const dp = range(s.dport)
  if (dp) r.dport = dp
  if (s.suppressPrefixlength !== undefined) r.suppressPrefixlen = s.suppressPrefixlength
  if (s.goto !== undefined) r.goto = s.goto
  return r
}

/** What two rules are compared by: all they match on and do, and their priority (not their protocol). */
export function ruleKey(r: FibRule): string {
  return [
    r.family,
    r.priority,
    r.action,
    r.table,
    r.src ?? "",
    r.dst ?? "",
    r.tos,
    r.fwmark === undefined && !r.fwmask ? "" : `${r.fwmark ?? 0}/${r.fwmask ?? 0}`,
    r.iif ?? "",
    r.oif ?? "",
    r.l3mdev ? 1 : 0,
    r.uidRange?.join("-") ?? "",
    r.ipProto ?? "",
    r.sport?.join("-") ?? "",
    r.dport?.join("-") ?? "",
    r.suppressPrefixlen ?? "",
    r.suppressIfgroup ?? "",
    r.goto ?? "",
    r.invert ? "not" : "",
  ].join("|")
}
