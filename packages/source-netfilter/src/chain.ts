// Chains and their rules: a chain by name (a changed base — type, hook, priority,
// device — means delete and create; a changed policy is updated in place), its rules
// as an ordered list compared by their normal form (a changed list is flushed and
// rewritten inside the one transaction; comments are never compared).
import { type Expr, exprKey } from "./expr.ts"
import type { Chain, Rule } from "./model.ts"
import type { CompiledRule, NftOp } from "./ops.ts"
import { compileRule } from "./rule-compile.ts"
import type { CommonRule } from "./rule-schema.ts"
import type { ChainSpec, RuleSpec } from "./schema.ts"
import { TextRule } from "./text.ts"
import { type Look, learnKey } from "./learn.ts"
import { setsReferenced } from "./wire/raw.ts"
import type { OpLists } from "./set-diff.ts"

interface Where {
  family: string
  table: string
}

/** A rule spec compiled to expressions (per source: the cache belongs to the caller). */
export function compileSpec(r: RuleSpec, family: string, cache: WeakMap<RuleSpec, CompiledRule>): CompiledRule {
  const cached = cache.get(r)
  if (cached) return cached
  let c: CompiledRule
  if (r instanceof TextRule) {
    // expressions and byte key are worked out only if asked for (a new chain asks for neither)
    c = {
      get exprs() {
        return r.exprs
      },
      text: r.text,
      wire: r.bytes,
      get key() {
        return r.key
      },
    }
  } else if ("expr" in r) c = { exprs: r.expr as Expr[] }
  else {
    const common: CommonRule = {}
    if (r.match) common.match = r.match
    if (r.counter) common.counter = r.counter
    if (r.verdict) common.verdict = r.verdict
    c = { exprs: compileRule(common, family), common }
  }
  if (!(r instanceof TextRule) && r.comment !== undefined) c.comment = r.comment
  cache.set(r, c)
  return c
}

function baseDiffers(want: ChainSpec, have: Chain): boolean {
  return (
    (want.type ?? undefined) !== have.type ||
    (want.hook ?? undefined) !== have.hook ||
    (want.hook !== undefined && (want.priority ?? 0) !== have.priority) ||
    (want.device ?? undefined) !== have.device ||
    (want.devices?.join(",") ?? "") !== (have.devices?.join(",") ?? "")
  )
}

/** Whether any of the rules refers to one of the sets (lookups; in nft's bytes also dynset and objref maps). */
const looksUp = (rules: readonly CompiledRule[], sets: ReadonlySet<string>) =>
  sets.size > 0 &&
  rules.some((r) =>
    r.wire
      ? setsReferenced(r.wire.exprs).some((n) => sets.has(n))
      : r.exprs.some((e) => e.type === "lookup" && e.set !== undefined && sets.has(e.set)),
  )

/** A text rule compares by the kernel's bytes, the others by their normal form. */
function sameRules(want: readonly CompiledRule[], have: readonly Rule[], look?: Look): boolean {
  if (want.length !== have.length) return false
  return want.every((r, i) => {
    if (!r.wire) return exprKey(r.exprs) === have[i]!.key
    if (look) learnKey(r.wire, have[i]!, i, look)
    return have[i]!.bytesKey === r.key
  })
}

/** New chains (all created before any rule, so rules may jump to any of them), then their rules. */
export function createChainOps(
  chains: readonly ChainSpec[],
  rulesOf: (c: ChainSpec) => CompiledRule[],
  where: Where,
): NftOp[] {
  const ops: NftOp[] = chains.map((chain) => ({ kind: "create", object: "chain", chain, ...where }))
  for (const c of chains)
    if (c.rules.length)
      ops.push({ kind: "replace", object: "rules", chain: c.name, rules: rulesOf(c), flush: false, ...where })
  return ops
}

/** The chains of an owned table; chains that look up a recreated set are rewritten. */
export function diffChains(
  want: readonly ChainSpec[],
  have: readonly Chain[],
  rulesOf: (c: ChainSpec) => CompiledRule[],
  recreatedSets: ReadonlySet<string>,
  where: Where,
  out: OpLists,
  /** a named object was made anew: chains with rules in nft's bytes (which may name it) are rewritten */
  objectsRecreated = false,
): void {
  const haveByName = new Map(have.map((c) => [c.name, c]))
  for (const c of want) {
    const hc = haveByName.get(c.name)
    const rules = rulesOf(c)
    if (!hc || baseDiffers(c, hc)) {
      if (hc) out.deletes.push({ kind: "delete", object: "chain", name: c.name, ...where })
      out.creates.push({ kind: "create", object: "chain", chain: c, ...where })
      if (rules.length)
        out.changes.push({ kind: "replace", object: "rules", chain: c.name, rules, flush: false, ...where })
      continue
    }
    if (c.hook && (c.policy ?? "accept") !== (hc.policy ?? "accept"))
      out.changes.push({ kind: "update", object: "chain", chain: c, ...where })
    const refersToNew = looksUp(rules, recreatedSets) || (objectsRecreated && rules.some((r) => r.wire))
    const look = out.look && { ...out.look, ...where, chain: c.name }
    if (!sameRules(rules, hc.rules, look) || refersToNew)
      out.changes.push({ kind: "replace", object: "rules", chain: c.name, rules, flush: hc.rules.length > 0, ...where })
  }
  const wanted = new Set(want.map((c) => c.name))
  for (const hc of have)
    if (!wanted.has(hc.name)) out.deletes.push({ kind: "delete", object: "chain", name: hc.name, ...where })
}
