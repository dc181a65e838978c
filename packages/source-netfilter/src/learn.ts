// Rules compiled from nft's batch (text-capture.ts) hold nft's bytes, which the kernel
// stores with some defaults added: the key an observed rule is compared with is the
// kernel's, learned once the rule is written. The transaction notes where each such rule
// went and the generation its commit made; the next look taken at that same generation
// (nothing committed since, by anyone) shows the kernel's form of it at that place.
import type { NftObserved, Rule } from "./model.ts"
import type { NftOp } from "./ops.ts"
import type { RuleBytes } from "./wire/raw.ts"

/** A source as a writer: the rules its commits noted, whose keys are still to learn. */
export interface Writer {
  learnable: RuleBytes[]
}

/**
 * A committed, generation-guarded transaction made generation `genId`: each rule from
 * nft's batch whose kernel key is unknown remembers where it went. Its chain holds exactly
 * the op's rules (a replace flushes a chain that held any), so a look taken at that same
 * generation shows the kernel's form of the rule at that index (chain.ts learns it).
 */
export function noteWritten(ops: readonly NftOp[], by: Writer, genId: number): void {
  for (const op of ops) {
    if (op.kind !== "replace") continue
    op.rules.forEach((r, index) => {
      if (!r.wire?.captured || r.wire.kernelKey !== undefined) return
      r.wire.written = { by, genId, family: op.family, table: op.table, chain: op.chain, index }
      by.learnable.push(r.wire)
    })
  }
}

/** The tables ("inet edge") a writer's learnable rules went to. */
export function learnableTables(by: Writer): Set<string> {
  const out = new Set<string>()
  for (const r of by.learnable) if (r.written?.by === by) out.add(`${r.written.family} ${r.written.table}`)
  return out
}

/**
 * The writer's learnable rules, taught by a look at their tables (learnSoon in source.ts:
 * right after the commit, so that the first foreign change does not find them unknown).
 */
export function learnFrom(by: Writer, o: NftObserved): void {
  const rules = by.learnable.splice(0)
  if (!o.steady) return
  for (const r of rules) {
    const w = r.written
    if (!w || w.by !== by || w.genId !== o.genId) continue
    const t = o.tables.find((x) => x.family === w.family && x.name === w.table)
    const have = t?.chains?.find((c) => c.name === w.chain)?.rules[w.index]
    if (have) learnKey(r, have, w.index, { by, genId: o.genId, family: w.family, table: w.table, chain: w.chain })
  }
}

export type Look = { by: object; genId: number; family: string; table: string; chain: string }

/**
 * A rule from nft's batch (text-capture.ts) this source wrote, seen by a look at the very
 * generation its commit made (nothing committed since): what the kernel holds at its
 * index is the kernel's form of it, whose key is the rule's from now on.
 */
export function learnKey(w: RuleBytes, have: Rule, index: number, look: Look): void {
  const at = w.written
  if (!at || w.kernelKey !== undefined || at.by !== look.by || at.genId !== look.genId || at.index !== index) return
  if (at.family !== look.family || at.table !== look.table || at.chain !== look.chain) return
  if (have.bytesKey === undefined) return
  w.kernelKey = have.bytesKey
  delete w.written
}
