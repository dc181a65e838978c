// A consistent look at nf_tables (one generation): tables, and for the tables of interest
// their chains, rules (decoded in TypeScript, wire/rule.ts), sets and elements (libnftnl).
import type { NetlinkSocket } from "@linx/netlink"
import { nfnl, toHex } from "@linx/netlink/wire"
import {
  CHAIN,
  ELEM_INTERVAL_END,
  HOOKS,
  NFPROTO,
  NFTA_CHAIN_TABLE,
  NFTA_RULE_TABLE,
  NFT_DATA_VERDICT,
  NFT_SET_MAP,
  NFTNL_UDATA_RULE_COMMENT,
  RULE,
  SET,
  NFT_SET_ANONYMOUS,
  TABLE,
  VERDICT_CODES,
  VERDICT_NAMES,
} from "./wire/constants.ts"
import { exprKey } from "./expr.ts"
import { decodeExpr } from "./wire/expr.ts"
import { NftObject } from "./ffi/libnftnl.ts"
import type { Chain, NftObserved, NftSet, Rule, Table } from "./model.ts"
import { decodeRule } from "./rule-decode.ts"
import type { CommonRule } from "./rule-schema.ts"
import { decodeRuleMessage, type RawRule } from "./wire/rule.ts"
import { END_MARK, keyTypeName } from "./elements.ts"

const familyName = (n: number) => Object.keys(NFPROTO).find((k) => NFPROTO[k] === n) ?? String(n)
const hookName = (family: string, n: number) =>
  family === "netdev" ? "ingress" : Object.keys(HOOKS).find((k) => HOOKS[k] === n && k !== "ingress")

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

/** One dump request for an nf_tables object kind, optionally filtered by table (and set). */
function dump<T>(
  sock: NetlinkSocket,
  msg: number,
  filter: { family?: number; table?: string; tableAttr?: number; set?: string },
  decode: (m: Uint8Array) => T | undefined,
): T[] {
  return sock.dumpInto(
    (w) => {
      w.begin(nfnl.nftType(msg), 0)
      nfnl.writeNfgenmsg(w, filter.family ?? 0)
      if (filter.table !== undefined) w.attrString(filter.tableAttr ?? 1, filter.table)
      if (filter.set !== undefined) w.attrString(2 /* NFTA_SET_ELEM_LIST_SET */, filter.set)
      w.end()
    },
    (m) => decode(m.data),
  )
}

function parseTable(data: Uint8Array): Table | undefined {
  using t = new NftObject("table")
  if (!t.parse(data)) return undefined
  return {
    family: familyName(t.u32(TABLE.FAMILY) ?? 0),
    name: t.str(TABLE.NAME) ?? "",
    handle: t.u64(TABLE.HANDLE) ?? 0,
    flags: t.u32(TABLE.FLAGS) ?? 0,
  }
}

type TableChain = Chain & { family: string; table: string }

function parseChain(data: Uint8Array): TableChain | undefined {
  using c = new NftObject("chain")
  if (!c.parse(data)) return undefined
  const family = familyName(c.u32(CHAIN.FAMILY) ?? 0)
  const chain: TableChain = {
    family,
    table: c.str(CHAIN.TABLE) ?? "",
    name: c.str(CHAIN.NAME) ?? "",
    handle: c.u64(CHAIN.HANDLE) ?? 0,
    rules: [],
  }
  const hook = c.u32(CHAIN.HOOKNUM)
  if (hook !== undefined) {
    const h = hookName(family, hook)
    if (h) chain.hook = h
    chain.priority = (c.u32(CHAIN.PRIO) ?? 0) | 0
    const type = c.str(CHAIN.TYPE)
    if (type) chain.type = type
    chain.policy = c.u32(CHAIN.POLICY) === VERDICT_CODES.drop ? "drop" : "accept"
    const dev = c.str(CHAIN.DEV)
    if (dev) chain.device = dev
  }
  return chain
}

function parseSet(data: Uint8Array, family: string): NftSet | undefined {
  using o = new NftObject("set")
  if (!o.parse(data)) return undefined
  if (familyName(o.u32(SET.FAMILY) ?? 0) !== family) return undefined
  const flags = o.u32(SET.FLAGS) ?? 0
  const set: NftSet = {
    name: o.str(SET.NAME) ?? "",
    handle: o.u64(SET.HANDLE) ?? 0,
    type: keyTypeName(o.u32(SET.KEY_TYPE) ?? 0),
    flags,
    elements: [],
  }
  const timeout = o.u64(SET.TIMEOUT)
  if (timeout) set.timeout = timeout
  if (flags & NFT_SET_MAP) {
    const dt = o.u32(SET.DATA_TYPE) ?? 0
    set.map = dt === NFT_DATA_VERDICT ? "verdict" : keyTypeName(dt)
  }
  return set
}

/** A set's elements as diff keys: hex key (+ END_MARK for an interval end), and "=data" for maps. */
function readElements(sock: NetlinkSocket, t: Table, set: NftSet): string[] {
  using acc = new NftObject("set")
  acc.setStr(SET.TABLE, t.name).setStr(SET.NAME, set.name)
  const filter = { family: NFPROTO[t.family]!, table: t.name, set: set.name }
  dump(sock, nfnl.NFT_MSG_GETSETELEM, filter, (data) => acc.parseElements(data))
  const flags = acc.elementFlags()
  const values = set.map ? acc.elementValues() : []
  return acc.elementKeys().map((k, i) => {
    const key = toHex(k) + ((flags[i] ?? 0) & ELEM_INTERVAL_END ? END_MARK : "")
    if (!set.map) return key
    const v = values[i] ?? {}
    if (v.verdict !== undefined)
      return `${key}=v:${VERDICT_NAMES[v.verdict] ?? v.verdict}${v.chain ? `:${v.chain}` : ""}`
    return `${key}=${v.data ? toHex(v.data) : ""}`
  })
}

/** Every set of the table with its elements, anonymous ones included (their rules read them). */
function observeSets(sock: NetlinkSocket, t: Table): NftSet[] {
  // a set lookup needs the table's family
  const sets = dump(sock, nfnl.NFT_MSG_GETSET, { family: NFPROTO[t.family]!, table: t.name }, (data) =>
    parseSet(data, t.family),
  )
  for (const set of sets) set.elements = readElements(sock, t, set)
  return sets
}

/** The table's rules, decoded in TypeScript, with their anonymous sets' elements filled in. */
function observeRules(sock: NetlinkSocket, t: Table, anon: ReadonlyMap<string, NftSet>): ObservedRule[] {
  const withAnon = (raw: RawRule): RawRule => {
    for (const e of raw.exprs) {
      const a = e.type === "lookup" ? anon.get(e.set) : undefined
      if (a && e.type === "lookup") e.anon = { type: a.type, elements: [...a.elements].sort() }
    }
    return raw
  }
  const filter = { family: NFPROTO[t.family]!, table: t.name, tableAttr: NFTA_RULE_TABLE }
  return sock
    .dumpInto(
      (w) => {
        w.begin(nfnl.nftType(nfnl.NFT_MSG_GETRULE), 0)
        nfnl.writeNfgenmsg(w, filter.family)
        w.attrString(filter.tableAttr, filter.table)
        w.end()
      },
      (m) => {
        const raw = withAnon(decodeRuleMessage(m))
        return new ObservedRule(raw, familyName(raw.family))
      },
    )
    .filter((r) => r.family === t.family && r.table === t.name)
}

/** Fills in a table's chains (with their rules) and named sets. */
function lookInto(sock: NetlinkSocket, t: Table): void {
  // a chain dump ignores NFTA_CHAIN_TABLE and returns every table's chains: filter here (PLATFORM 14)
  const chains = dump(sock, nfnl.NFT_MSG_GETCHAIN, { table: t.name, tableAttr: NFTA_CHAIN_TABLE }, parseChain).filter(
    (c) => c.family === t.family && c.table === t.name,
  )
  const allSets = observeSets(sock, t)
  const anon = new Map(allSets.filter((x) => x.flags & NFT_SET_ANONYMOUS).map((x) => [x.name, x]))
  const byName = new Map(chains.map((c) => [c.name, c]))
  for (const r of observeRules(sock, t, anon)) byName.get(r.chain)?.rules.push(r)
  t.chains = chains.map(({ family: _f, table: _t, ...c }) => c)
  t.sets = allSets.filter((x) => !(x.flags & NFT_SET_ANONYMOUS))
}

/** The observe of one socket: `look(interest)` reads every table, and those in `interest` whole. */
export function createNftObserver(sock: NetlinkSocket): (interest?: ReadonlySet<string>) => NftObserved {
  return (interest) => {
    const genId = nfnl.getGeneration(sock)
    const tables = dump(sock, nfnl.NFT_MSG_GETTABLE, {}, parseTable)
    for (const t of tables) if (!interest || interest.has(`${t.family} ${t.name}`)) lookInto(sock, t)
    return { genId, tables }
  }
}

/** The same rule decoded by libnftnl (nftnl_rule_nlmsg_parse and its getters): tests check both agree. */
export function decodeRuleWithLibnftnl(data: Uint8Array): RawRule | undefined {
  using r = new NftObject("rule")
  if (!r.parse(data)) return undefined
  const raw: RawRule = {
    family: r.u32(RULE.FAMILY) ?? 0,
    table: r.str(RULE.TABLE) ?? "",
    chain: r.str(RULE.CHAIN) ?? "",
    handle: r.u64(RULE.HANDLE) ?? 0,
    exprs: r.exprs().map(decodeExpr),
  }
  const ud = r.data(RULE.USERDATA)
  if (ud) raw.userdata = ud
  return raw
}

/** An observed rule; its common form is decoded on first use (diff compares keys only). */
class ObservedRule implements Rule {
  readonly family: string
  readonly table: string
  readonly chain: string
  readonly handle: number
  readonly exprs: RawRule["exprs"]
  readonly key: string
  comment?: string
  #common: CommonRule | undefined | null = null
  constructor(raw: RawRule, family: string) {
    this.family = family
    this.table = raw.table
    this.chain = raw.chain
    this.handle = raw.handle
    this.exprs = raw.exprs
    this.key = exprKey(raw.exprs)
    const comment = commentOf(raw.userdata)
    if (comment !== undefined) this.comment = comment
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
