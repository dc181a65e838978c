// What observe returns: the kernel's ruleset, as typed objects.
import type { Expr } from "./expr.ts"
import type { CommonRule } from "./rule-schema.ts"

export interface Rule {
  handle: number
  exprs: (Expr | { type: "unknown"; name: string })[]
  /** the common form, when the expressions are exactly what it compiles to (else undefined) */
  readonly common?: CommonRule | undefined
  comment?: string
  /** normal form of the expressions, for comparison (comments and counters excluded) */
  key: string
  /** the kernel's bytes as a key (counters and anonymous set names excluded): how a rule written as nft text compares */
  readonly bytesKey?: string
}

export interface Chain {
  name: string
  handle: number
  type?: string
  hook?: string
  priority?: number
  policy?: "accept" | "drop"
  device?: string
  /** a netdev chain on several devices (sorted) */
  devices?: string[]
  rules: Rule[]
}

export interface NftSet {
  name: string
  handle: number
  /** the key type ("ipv4_addr", ...), or the datatype number when unknown */
  type: string
  flags: number
  /** a map: the type of its values ("ipv4_addr", ..., "verdict") */
  map?: string
  /** default element timeout, ms */
  timeout?: number
  /** element keys in the kernel's bytes, hex; a map's as "key=value" (value hex, or "v:<verdict>[:<chain>]") */
  elements: string[]
  /** what it was made with (setAttrsKey of its NEWSET attributes): tells a changed size, typeof or policy */
  attrsKey?: string
  /** only these element keys were looked at (an element event's): `elements` holds those of them present */
  lookedAt?: ReadonlySet<string>
}

/** Some chains and named sets of a table (a look narrowed to what events touched). */
export interface TableParts {
  chains: ReadonlySet<string>
  sets: ReadonlySet<string>
  /** of those sets, the ones looked at only for some elements (hex keys; "/e" for an interval's end) */
  elements?: ReadonlyMap<string, ReadonlySet<string>>
}

export interface Table {
  family: string
  name: string
  handle: number
  flags: number
  /** chains, when this table was looked at (tables outside interest list only their names) */
  chains?: Chain[]
  sets?: NftSet[]
  /** named stateful objects (counter, quota, limit, ct helper, …), when this table was looked at whole */
  objects?: NamedObject[]
  /** only these chains and sets were looked at (rule and element events touched them), nothing else of the table */
  narrowed?: TableParts
}

export interface NftObserved {
  /** the ruleset generation the whole look was taken at */
  genId: number
  /** the generation was still genId when the look ended: nothing was committed while it was taken */
  steady?: boolean
  tables: Table[]
  /** when set, only these tables ("inet edge") were looked into: diff leaves the others alone */
  scope?: ReadonlySet<string>
}

/** A named object: as observed, or as desired (made by nft from a table text). */
export interface NamedObject {
  name: string
  /** NFT_OBJECT_* */
  type: number
  /** type, data without running state, userdata: what two objects are compared by */
  key: string
  /** the attributes a NEWOBJ takes (type, data, userdata), as the kernel dumped them */
  attrs: Uint8Array
  /** its body as nft lists it ("over 10 mbytes"), for plans */
  text?: string
}
