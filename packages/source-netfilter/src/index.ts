// @linx/source-netfilter: nftables tables, chains and rules as a reconcilable source.
export { createNftSource, type NftSource, type NftSourceOptions, type NftWant } from "./source.ts"
export type { NftHint, NftScopeEntry } from "./monitor.ts"
export { showNft } from "./show.ts"
export { nftRuleTexts, nftTableTexts } from "./listing.ts"
export { TextRule } from "./text.ts"
export {
  NftDesiredSchema,
  NftOwnershipSchema,
  type NftDesired,
  type NftOwnership,
  type TableSpec,
  type ChainSpec,
  type RuleSpec,
} from "./schema.ts"
export type { NftObserved, Table, Chain, Rule, NamedObject } from "./model.ts"
export { NftTextTable } from "./table-text.ts"
export { KernelSet } from "./set.ts"
export { commonText, type NftOp, type CompiledRule } from "./ops.ts"
export type { Expr } from "./expr.ts"
export { compileRule } from "./rule-compile.ts"
export { decodeRule } from "./rule-decode.ts"
export type { CommonRule, Match, Verdict } from "./rule-schema.ts"
export type { NftKernel } from "./kernel.ts"
