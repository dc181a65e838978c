// Rules compiled from nft's batch (text-capture.ts) hold nft's bytes, which the kernel
// stores with some defaults added: the key an observed rule is compared with is the
// kernel's, learned once the rule is written. The transaction notes where each such rule
// went and the generation its commit made; the next look taken at that same generation
// (nothing committed since, by anyone) shows the kernel's form of it at that place.
import type { Rule } from "./model.ts"
import type { NftOp } from "./ops.ts"
import type { RuleBytes } from "./wire/raw.ts"

/**
 * A committed, generation-guarded transaction made generation `genId`: each rule from
 * nft's batch whose kernel key is unknown remembers where it went. Its chain holds exactly
 * the op's rules (a replace flushes a chain that held any), so a look taken at that same
 * generation shows the kernel's form of the rule at that index (chain.ts learns it).
 */
export function noteWritten(ops: readonly NftOp[], by: object, genId: number): void {
  for (const op of ops) {
    if (op.kind !== "replace") continue
    op.rules.forEach((r, index) => {
      if (r.wire?.captured && r.wire.kernelKey === undefined)
        r.wire.written = { by, genId, family: op.family, table: op.table, chain: op.chain, index }
    })
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
