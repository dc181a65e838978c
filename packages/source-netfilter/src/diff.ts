// The diff of desired tables against the kernel's, touching only owned tables: a table
// by key (family and name), then its sets (set.ts) and chains with their rules
// (chain.ts). Ops come out as deletes, creates, changes, conflicts; the transaction
// orders them further by phase.
import type { Writer } from "./learn.ts"
import { createChainOps, diffChains, compileSpec } from "./chain.ts"
import type { NftObserved, Table } from "./model.ts"
import type { CompiledRule, NftOp } from "./ops.ts"
import { diffObjects } from "./objects.ts"
import { ownsTable } from "./ownership.ts"
import type { ChainSpec, NftDesired, NftOwnership, RuleSpec, TableSpec } from "./schema.ts"
import { createSetOps, diffSets, type OpLists } from "./set-diff.ts"
import { NFT_TABLE_F_DORMANT, NFT_TABLE_F_OWNER } from "./wire/constants.ts"

const tableFlags = (t: TableSpec) =>
  (t.flags.includes("dormant") ? NFT_TABLE_F_DORMANT : 0) | (t.flags.includes("owner") ? NFT_TABLE_F_OWNER : 0)

/** A table to create whole: the table, its sets and their elements, its chains, then their rules. */
function createTableOps(t: TableSpec, rulesOf: (c: ChainSpec) => CompiledRule[]): NftOp[] {
  const where = { family: t.family, table: t.name }
  return [
    { kind: "create", object: "table", flags: tableFlags(t), ...where },
    ...(t.objects ?? []).map((obj): NftOp => ({ kind: "create", object: "obj", obj, ...where })),
    ...t.sets.flatMap((set) => createSetOps(set, where)),
    ...createChainOps(t.chains, rulesOf, where),
  ]
}

/** An owned table that exists: its dormant flag, sets, chains and rules. */
function diffTable(t: TableSpec, have: Table, rulesOf: (c: ChainSpec) => CompiledRule[], out: OpLists): void {
  const where = { family: t.family, table: t.name }
  const flags = tableFlags(t)
  if ((have.flags & NFT_TABLE_F_DORMANT) !== (flags & NFT_TABLE_F_DORMANT))
    out.changes.push({ kind: "update", object: "table", flags, ...where })
  if (have.narrowed) {
    // only these chains and sets were looked at (rule and element events): nothing else is judged
    // (a set made anew rewrites the looked-at chains that use it; a set changes type or flags
    // only by set events, which scope the whole table, so the others were not in question)
    const { chains, sets } = have.narrowed
    const recreated = diffSets(
      t.sets.filter((x) => sets.has(x.name)),
      have.sets ?? [],
      where,
      out,
    )
    diffChains(
      t.chains.filter((c) => chains.has(c.name)),
      have.chains ?? [],
      rulesOf,
      recreated,
      where,
      out,
    )
    return
  }
  // sets and objects first: one made anew forces a rewrite of the chains that refer to it
  const recreated = diffSets(t.sets, have.sets ?? [], where, out)
  const objectsRecreated = diffObjects(t.objects ?? [], have.objects ?? [], where, out)
  diffChains(t.chains, have.chains ?? [], rulesOf, recreated, where, out, objectsRecreated)
}

const notOwned = (key: string): NftOp => ({
  kind: "conflict",
  object: "table",
  key,
  reason: `table ${key} exists but is not owned by this loop (list it in ownership.tables, or set ownership.adopt)`,
})

/** Creates a diff function with its own compiled-rule cache (one per source). */
export function createRulesetDiff(writer?: Writer) {
  const compiled = new WeakMap<RuleSpec, CompiledRule>()
  return (desired: NftDesired, observed: NftObserved, ownership: NftOwnership | undefined): NftOp[] =>
    diffRulesetWith(desired, observed, ownership, compiled, writer)
}

export function diffRuleset(desired: NftDesired, observed: NftObserved, ownership: NftOwnership | undefined): NftOp[] {
  return diffRulesetWith(desired, observed, ownership, new WeakMap())
}

function diffRulesetWith(
  desired: NftDesired,
  observed: NftObserved,
  ownership: NftOwnership | undefined,
  compiled: WeakMap<RuleSpec, CompiledRule>,
  writer?: Writer,
): NftOp[] {
  const owned = new Set((ownership?.tables ?? []).map((t) => `${t.family} ${t.name}`))
  const byKey = new Map<string, Table>(observed.tables.map((t) => [`${t.family} ${t.name}`, t]))
  const out: OpLists = { deletes: [], creates: [], changes: [] }
  if (writer && observed.steady) out.look = { by: writer, genId: observed.genId }
  const conflicts: NftOp[] = []
  const wanted = new Set<string>()
  const inScope = (key: string) => !observed.scope || observed.scope.has(key)
  for (const t of desired.tables) {
    const key = `${t.family} ${t.name}`
    wanted.add(key)
    if (!inScope(key)) continue
    const rulesOf = (c: ChainSpec) => c.rules.map((r) => compileSpec(r, t.family, compiled))
    let have = byKey.get(key)
    const ours = ownsTable(ownership, desired, key)
    if (have && ours && (have.flags & NFT_TABLE_F_OWNER) !== (tableFlags(t) & NFT_TABLE_F_OWNER)) {
      // the owner flag cannot change on a live table: rewrite the table whole
      out.deletes.push({ kind: "delete", object: "table", family: t.family, table: t.name })
      have = undefined
    }
    if (!have) for (const op of createTableOps(t, rulesOf)) out.creates.push(op)
    else if (!ours) conflicts.push(notOwned(key))
    else diffTable(t, have, rulesOf, out)
  }
  for (const [key, t] of byKey) {
    if (owned.has(key) && !wanted.has(key) && inScope(key))
      out.deletes.push({ kind: "delete", object: "table", family: t.family, table: t.name })
  }
  return [...out.deletes, ...out.creates, ...out.changes, ...conflicts]
}
