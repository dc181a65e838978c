// The diff of policy rules: a desired rule is there when a rule with the same key is (see
// model.ts); ours carry the owner's protocol (FRA_PROTOCOL, the same marker as routes).
// Missing ones are added; ours that are not desired (or twins of a desired one) are
// deleted; a foreign twin of a desired rule is a conflict unless `adopt` (then it is
// replaced by ours); a twin with a former marker of ours is replaced in one pass.
import type { ConflictOp } from "../conflict.ts"
import type { Owner } from "../ownership.ts"
import { ruleText } from "./describe.ts"
import { type FibRule, type RuleOp, ruleKey, wantedRule } from "./model.ts"
import type { RuleSpec } from "./schema.ts"

export function diffRules(
  desired: readonly RuleSpec[] | undefined,
  observed: readonly FibRule[],
  owner: Owner,
): { ops: RuleOp[]; conflicts: ConflictOp[] } {
  const ops: RuleOp[] = []
  const conflicts: ConflictOp[] = []
  const ours = (r: FibRule) => r.protocol === owner.routeProtocol
  const former = (r: FibRule) => owner.former.routeProtocols.has(r.protocol)
  const have = new Map<string, FibRule[]>()
  for (const r of observed) {
    const k = ruleKey(r)
    const list = have.get(k)
    if (list) list.push(r)
    else have.set(k, [r])
  }
  const wanted = new Set<string>()
  for (const spec of desired ?? []) {
    const want = wantedRule(spec, owner.routeProtocol)
    const key = ruleKey(want)
    if (wanted.has(key)) continue // listed twice: one rule
    wanted.add(key)
    const twins = have.get(key) ?? []
    const mine = twins.filter(ours)
    // more than one of ours: keep one
    for (const extra of mine.slice(1)) ops.push({ kind: "delete", object: "rule", rule: extra })
    if (mine.length) continue
    const old = twins.find(former)
    const foreign = twins.find((r) => !ours(r) && !former(r))
    if (foreign && !owner.adopt) {
      conflicts.push({
        kind: "conflict",
        object: "rule",
        key,
        reason: `rule "${ruleText(foreign)}" exists, made by protocol ${foreign.protocol} (not this loop's ${owner.routeProtocol}): left alone (set ownership.adopt to take it over)`,
      })
      continue
    }
    const replaced = old ?? foreign
    if (replaced) ops.push({ kind: "delete", object: "rule", rule: replaced })
    ops.push({ kind: "create", object: "rule", rule: want })
  }
  for (const [key, list] of have)
    if (!wanted.has(key))
      for (const r of list) if (ours(r) || former(r)) ops.push({ kind: "delete", object: "rule", rule: r })
  return { ops, conflicts }
}
