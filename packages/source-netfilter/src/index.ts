// @linx/source-netfilter: nftables tables, chains and rules as a reconcilable source.
export { createNftSource, type NftSource, type NftSourceOptions, type NftApplyReport } from "./source.ts"
export { NftDesiredSchema, NftOwnershipSchema, type NftDesired, type NftOwnership, type TableSpec, type ChainSpec, type RuleSpec } from "./schema.ts"
export type { NftObserved, Table, Chain, Rule } from "./model.ts"
export { commonText, type NftOp, type CompiledRule } from "./ops.ts"
export type { Expr } from "./expr.ts"
export { compileRule, decodeRule, type CommonRule, type Match, type Verdict } from "./match.ts"
export type { NftKernel } from "./kernel.ts"
