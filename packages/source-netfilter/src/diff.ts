// The diff of desired tables against the kernel's, touching only owned tables.
// Tables and chains by key; rules per chain as an ordered list (a changed chain is
// flushed and rewritten inside the one transaction); comments never compared.
import { exprKey, type Expr } from "./expr.ts"
import { compileRule } from "./rule-compile.ts"
import type { CommonRule } from "./rule-schema.ts"
import type { Chain, NftObserved, Table } from "./model.ts"
import type { CompiledRule, NftOp } from "./ops.ts"
import type { ChainSpec, NftDesired, NftOwnership, RuleSpec } from "./schema.ts"
import { ownsTable } from "./ownership.ts"
import { desiredKeys, setFlags, timeoutMs } from "./set.ts"

const compiledCache = new WeakMap<RuleSpec, CompiledRule>()

export function compileSpec(r: RuleSpec, family: string): CompiledRule {
  const cached = compiledCache.get(r)
  if (cached) return cached
  let c: CompiledRule
  if ("expr" in r) c = { exprs: r.expr as Expr[] }
  else {
    const common: CommonRule = {}
    if (r.match) common.match = r.match
    if (r.counter) common.counter = r.counter
    if (r.verdict) common.verdict = r.verdict
    c = { exprs: compileRule(common, family), common }
  }
  if (r.comment !== undefined) c.comment = r.comment
  compiledCache.set(r, c)
  return c
}

function baseDiffers(want: ChainSpec, have: Chain): boolean {
  return (
    (want.type ?? undefined) !== have.type ||
    (want.hook ?? undefined) !== have.hook ||
    (want.hook !== undefined && (want.priority ?? 0) !== have.priority) ||
    (want.device ?? undefined) !== have.device
  )
}

export function diffRuleset(desired: NftDesired, observed: NftObserved, ownership: NftOwnership | undefined): NftOp[] {
  const owned = new Set((ownership?.tables ?? []).map((t) => `${t.family} ${t.name}`))
  const byKey = new Map<string, Table>(observed.tables.map((t) => [`${t.family} ${t.name}`, t]))
  const creates: NftOp[] = []
  const changes: NftOp[] = []
  const deletes: NftOp[] = []
  const conflicts: NftOp[] = []
  const wanted = new Set<string>()

  const inScope = (key: string) => !observed.scope || observed.scope.has(key)
  for (const t of desired.tables) {
    const key = `${t.family} ${t.name}`
    wanted.add(key)
    if (!inScope(key)) continue
    const where = { family: t.family, table: t.name }
    const have = byKey.get(key)
    const rulesOf = (c: ChainSpec) => c.rules.map((r) => compileSpec(r, t.family))
    const flags = (t.flags.includes("dormant") ? 1 : 0) | (t.flags.includes("owner") ? 2 : 0)
    if (have && ownsTable(ownership, desired, key) && (have.flags & 2) !== (flags & 2)) {
      // the owner flag cannot change on a live table: rewrite the table whole
      deletes.push({ kind: "delete", object: "table", family: t.family, table: t.name })
      byKey.delete(key)
    }
    if (!have || !byKey.has(key)) {
      creates.push({ kind: "create", object: "table", flags, ...where })
      for (const set of t.sets) {
        creates.push({ kind: "create", object: "set", set, ...where })
        if (desiredKeys(set).length)
          creates.push({
            kind: "update",
            object: "elements",
            set: set.name,
            type: set.type,
            add: desiredKeys(set),
            remove: [],
            ...where,
            ...(set.map ? { mapType: set.map } : {}),
          })
      }
      for (const c of t.chains) creates.push({ kind: "create", object: "chain", chain: c, ...where })
      for (const c of t.chains)
        if (c.rules.length)
          creates.push({ kind: "replace", object: "rules", chain: c.name, rules: rulesOf(c), flush: false, ...where })
      continue
    }
    if (!ownsTable(ownership, desired, key)) {
      conflicts.push({
        kind: "conflict",
        object: "table",
        key,
        reason: `table ${key} exists but is not owned by this loop (list it in ownership.tables, or set ownership.adopt)`,
      })
      continue
    }
    if ((have.flags & 1) !== (flags & 1)) changes.push({ kind: "update", object: "table", flags, ...where })
    // sets first: a recreated set forces a rewrite of the chains that look it up
    const haveSets = new Map((have.sets ?? []).map((x) => [x.name, x]))
    const recreated = new Set<string>()
    for (const set of t.sets) {
      const hs = haveSets.get(set.name)
      const wantFlags = setFlags(set)
      const want0 = desiredKeys(set)
      const got0 = new Set(hs?.elements ?? [])
      // a constant set cannot change while bound: a new content means a new set
      const constantChanged =
        !!hs && (wantFlags & 0x2) !== 0 && (want0.length !== got0.size || want0.some((k) => !got0.has(k)))
      if (
        !hs ||
        hs.type !== set.type ||
        (hs.flags & 0x1e) !== wantFlags ||
        (hs.map ?? undefined) !== set.map ||
        (hs.timeout ?? undefined) !== timeoutMs(set.timeout) ||
        constantChanged
      ) {
        if (hs) {
          deletes.push({ kind: "delete", object: "set", name: set.name, ...where })
          recreated.add(set.name)
        }
        creates.push({ kind: "create", object: "set", set, ...where })
        if (desiredKeys(set).length)
          creates.push({
            kind: "update",
            object: "elements",
            set: set.name,
            type: set.type,
            add: desiredKeys(set),
            remove: [],
            ...where,
            ...(set.map ? { mapType: set.map } : {}),
          })
        continue
      }
      const want = desiredKeys(set)
      const got = new Set(hs.elements)
      const wantSet = new Set(want)
      const add = want.filter((k) => !got.has(k))
      const remove = hs.elements.filter((k) => !wantSet.has(k))
      if (add.length || remove.length)
        changes.push({
          kind: "update",
          object: "elements",
          set: set.name,
          type: set.type,
          add,
          remove,
          ...where,
          ...(set.map ? { mapType: set.map } : {}),
        })
    }
    const wantedSets = new Set(t.sets.map((x) => x.name))
    for (const hs of have.sets ?? [])
      if (!wantedSets.has(hs.name)) deletes.push({ kind: "delete", object: "set", name: hs.name, ...where })
    const usesRecreated = (rules: { exprs: { type: string; set?: string }[] }[]) =>
      rules.some((r) => r.exprs.some((e) => e.type === "lookup" && e.set !== undefined && recreated.has(e.set)))
    const chains = new Map((have.chains ?? []).map((c) => [c.name, c]))
    const wantedChains = new Set(t.chains.map((c) => c.name))
    for (const c of t.chains) {
      const hc = chains.get(c.name)
      const rules = rulesOf(c)
      if (!hc || baseDiffers(c, hc)) {
        if (hc) deletes.push({ kind: "delete", object: "chain", name: c.name, ...where })
        creates.push({ kind: "create", object: "chain", chain: c, ...where })
        if (rules.length)
          changes.push({ kind: "replace", object: "rules", chain: c.name, rules, flush: false, ...where })
        continue
      }
      if (c.hook && (c.policy ?? "accept") !== (hc.policy ?? "accept"))
        changes.push({ kind: "update", object: "chain", chain: c, ...where })
      const want = rules.map((r) => exprKey(r.exprs))
      const got = hc.rules.map((r) => r.key)
      if (want.length !== got.length || want.some((k, i) => k !== got[i]) || usesRecreated(rules)) {
        changes.push({ kind: "replace", object: "rules", chain: c.name, rules, flush: hc.rules.length > 0, ...where })
      }
    }
    for (const hc of have.chains ?? [])
      if (!wantedChains.has(hc.name)) deletes.push({ kind: "delete", object: "chain", name: hc.name, ...where })
  }
  for (const [key, t] of byKey) {
    if (owned.has(key) && !wanted.has(key) && inScope(key))
      deletes.push({ kind: "delete", object: "table", family: t.family, table: t.name })
  }
  return [...deletes, ...creates, ...changes, ...conflicts]
}
