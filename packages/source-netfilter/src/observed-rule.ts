// An observed rule: its expressions and byte key as read, its common form decoded on first
// use (the diff compares keys only), its comment from nft's userdata.
import { exprKey } from "./expr.ts"
import type { NftSet, Rule } from "./model.ts"
import { decodeRule } from "./rule-decode.ts"
import type { CommonRule } from "./rule-schema.ts"
import { NFTNL_UDATA_RULE_COMMENT } from "./wire/constants.ts"
import { bytesKey } from "./wire/raw.ts"
import type { RawRule } from "./wire/rule.ts"

/** The comment nft keeps in a rule's userdata, if any. */
export function commentOf(udata: Uint8Array | undefined): string | undefined {
  if (!udata) return undefined
  for (let i = 0; i + 2 <= udata.length; ) {
    const type = udata[i]!
    const len = udata[i + 1]!
    if (type === NFTNL_UDATA_RULE_COMMENT)
      return Buffer.from(udata.subarray(i + 2, i + 2 + len))
        .toString()
        .replace(/\0+$/, "")
    i += 2 + len
  }
  return undefined
}

/** An anonymous set by its contents: how a rule's byte key names it (never by the kernel's name). */
export function anonKey(set: NftSet): string {
  return `{${set.type}|${set.flags}|${set.map ?? ""}|${[...set.elements].sort().join(",")}}`
}

/** An observed rule; its common form is decoded on first use (diff compares keys only). */
export class ObservedRule implements Rule {
  readonly family: string
  readonly table: string
  readonly chain: string
  readonly handle: number
  readonly exprs: RawRule["exprs"]
  readonly key: string
  comment?: string
  #common: CommonRule | undefined | null = null
  readonly #bytes: Uint8Array | undefined
  readonly #anon: ReadonlyMap<string, NftSet>
  #bytesKey: string | undefined
  constructor(raw: RawRule, family: string, anon: ReadonlyMap<string, NftSet>) {
    this.family = family
    this.#bytes = raw.bytes
    this.#anon = anon
    this.table = raw.table
    this.chain = raw.chain
    this.handle = raw.handle
    this.exprs = raw.exprs
    this.key = exprKey(raw.exprs)
    const comment = commentOf(raw.userdata)
    if (comment !== undefined) this.comment = comment
  }
  /** the byte key (wire/raw.ts) a rule written as nft text is compared by; computed on first use */
  get bytesKey(): string {
    if (this.#bytesKey === undefined) {
      const anon = this.#anon
      this.#bytesKey = this.#bytes
        ? bytesKey(this.#bytes, (name) => {
            const a = anon.get(name)
            return a ? anonKey(a) : undefined
          })
        : ""
    }
    return this.#bytesKey
  }
  get common(): CommonRule | undefined {
    if (this.#common === null)
      this.#common = this.exprs.some((e) => e.type === "unknown")
        ? undefined
        : decodeRule(this.exprs as never, this.family, this.key)
    return this.#common
  }
  toJSON(): Rule {
    const { family: _f, table: _t, chain: _c, ...rest } = { ...this, common: this.common }
    return rest as Rule
  }
}
