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
  TABLE,
  VERDICT_NAMES,
} from "./wire/constants.ts"
import { decodeExpr, exprKey } from "./expr.ts"
import { NftObject } from "./ffi/libnftnl.ts"
import type { Chain, NftObserved, NftSet, Rule, Table } from "./model.ts"
import { decodeRule } from "./rule-decode.ts"
import type { CommonRule } from "./rule-schema.ts"
import { decodeRuleMessage, type RawRule } from "./wire/rule.ts"
import { END_MARK, keyTypeName } from "./set.ts"

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

/** The observe of one socket: `look(interest)` reads every table, and those in `interest` whole. */
export function createNftObserver(sock: NetlinkSocket): (interest?: ReadonlySet<string>) => NftObserved {
  const dump = <T>(
    msg: number,
    table: string | undefined,
    tableAttr: number,
    decode: (m: Uint8Array) => T | undefined,
    extra: { family?: number; set?: string } = {},
  ): T[] =>
    sock.dumpInto(
      (w) => {
        w.begin(nfnl.nftType(msg), 0)
        nfnl.writeNfgenmsg(w, extra.family ?? 0)
        if (table !== undefined) w.attrString(tableAttr, table)
        if (extra.set !== undefined) w.attrString(2 /* NFTA_SET_ELEM_LIST_SET */, extra.set)
        w.end()
      },
      (m) => decode(m.data),
    )

  const typeName = keyTypeName

  /** every set of the table, anonymous ones included (their rules read them) */
  const observeSets = (t: Table): NftSet[] => {
    const sets = dump(
      nfnl.NFT_MSG_GETSET,
      t.name,
      1 /* NFTA_SET_TABLE */,
      (data) => {
        using o = new NftObject("set")
        if (!o.parse(data)) return undefined
        if (familyName(o.u32(SET.FAMILY) ?? 0) !== t.family) return undefined
        const flags = o.u32(SET.FLAGS) ?? 0
        const set: NftSet = {
          name: o.str(SET.NAME) ?? "",
          handle: o.u64(SET.HANDLE) ?? 0,
          type: typeName(o.u32(SET.KEY_TYPE) ?? 0),
          flags,
          elements: [] as string[],
        }
        const timeout = o.u64(SET.TIMEOUT)
        if (timeout) set.timeout = timeout
        if (flags & NFT_SET_MAP) {
          const dt = o.u32(SET.DATA_TYPE) ?? 0
          set.map = dt === NFT_DATA_VERDICT ? "verdict" : typeName(dt)
        }
        return set
      },
      { family: NFPROTO[t.family]! },
    ) // a set lookup needs the table's family
    for (const set of sets) {
      using acc = new NftObject("set")
      acc.setStr(SET.TABLE, t.name).setStr(SET.NAME, set.name)
      dump(nfnl.NFT_MSG_GETSETELEM, t.name, 1 /* NFTA_SET_ELEM_LIST_TABLE */, (data) => acc.parseElements(data), {
        family: NFPROTO[t.family]!,
        set: set.name,
      })
      const flags = acc.elementFlags()
      const values = set.map ? acc.elementValues() : []
      set.elements = acc.elementKeys().map((k, i) => {
        const key = toHex(k) + ((flags[i] ?? 0) & ELEM_INTERVAL_END ? END_MARK : "")
        if (!set.map) return key
        const v = values[i] ?? {}
        if (v.verdict !== undefined)
          return `${key}=v:${VERDICT_NAMES[v.verdict] ?? v.verdict}${v.chain ? `:${v.chain}` : ""}`
        return `${key}=${v.data ? toHex(v.data) : ""}`
      })
    }
    return sets
  }

  const parseTable = (data: Uint8Array): Table | undefined => {
    using t = new NftObject("table")
    if (!t.parse(data)) return undefined
    return {
      family: familyName(t.u32(TABLE.FAMILY) ?? 0),
      name: t.str(TABLE.NAME) ?? "",
      handle: t.u64(TABLE.HANDLE) ?? 0,
      flags: t.u32(TABLE.FLAGS) ?? 0,
    }
  }
  const parseChain = (data: Uint8Array): (Chain & { family: string; table: string }) | undefined => {
    using c = new NftObject("chain")
    if (!c.parse(data)) return undefined
    const family = familyName(c.u32(CHAIN.FAMILY) ?? 0)
    const chain: Chain & { family: string; table: string } = {
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
      chain.policy = c.u32(CHAIN.POLICY) === 0 ? "drop" : "accept"
      const dev = c.str(CHAIN.DEV)
      if (dev) chain.device = dev
    }
    return chain
  }
  const toRule = (raw: RawRule) => new ObservedRule(raw, familyName(raw.family))

  const observeOnce = (interest?: ReadonlySet<string>): NftObserved => {
    const genId = nfnl.getGeneration(sock)
    const tables = dump(nfnl.NFT_MSG_GETTABLE, undefined, 0, parseTable)
    for (const t of tables) {
      if (interest && !interest.has(`${t.family} ${t.name}`)) continue
      // a chain dump ignores NFTA_CHAIN_TABLE and returns every table's chains: filter here (PLATFORM 14)
      const chains = dump(nfnl.NFT_MSG_GETCHAIN, t.name, NFTA_CHAIN_TABLE, parseChain).filter(
        (c) => c.family === t.family && c.table === t.name,
      )
      const allSets = observeSets(t)
      const anon = new Map(allSets.filter((x) => x.flags & 0x1).map((x) => [x.name, x]))
      const withAnon = (raw: RawRule): RawRule => {
        for (const e of raw.exprs) {
          if (e.type === "lookup" && anon.has(e.set)) {
            const a = anon.get(e.set)!
            e.anon = { type: a.type, elements: [...a.elements].sort() }
          }
        }
        return raw
      }
      const rules = sock
        .dumpInto(
          (w) => {
            w.begin(nfnl.nftType(nfnl.NFT_MSG_GETRULE), 0)
            nfnl.writeNfgenmsg(w, NFPROTO[t.family]!)
            w.attrString(NFTA_RULE_TABLE, t.name)
            w.end()
          },
          (m) => toRule(withAnon(decodeRuleMessage(m))),
        )
        .filter((r) => r.family === t.family && r.table === t.name)
      const byName = new Map(chains.map((c) => [c.name, c]))
      for (const r of rules) byName.get(r.chain)?.rules.push(r)
      t.chains = chains.map(({ family: _f, table: _t, ...c }) => c)
      t.sets = allSets.filter((x) => !(x.flags & 0x1))
    }
    return { genId, tables }
  }
  return observeOnce
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
