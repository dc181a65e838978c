// A consistent look at nf_tables (one generation): tables, and for the tables of interest
// their chains, rules, sets and elements, all decoded in TypeScript (wire/): no byte from a
// socket reaches libnftnl's parsers, which exit(1) or crash on malformed input.
import { type NetlinkSocket, NetlinkError } from "@linx/netlink"
import { errno, fromHex, type Message, MessageWriter, nfnl, toHex } from "@linx/netlink/wire"
import {
  ELEM_INTERVAL_END,
  hookNameOf,
  NFPROTO,
  NFTA_CHAIN_TABLE,
  NFTA_RULE_CHAIN,
  NFTA_RULE_TABLE,
  NFT_DATA_VERDICT,
  NFT_SET_INTERVAL,
  NFT_SET_MAP,
  NFT_SET_ANONYMOUS,
  VERDICT_CODES,
  VERDICT_NAMES,
} from "./wire/constants.ts"
import type { Chain, NftObserved, NftSet, Table, TableParts } from "./model.ts"
import {
  decodeChainMessage,
  decodeElementsMessage,
  decodeSetMessage,
  decodeTableMessage,
  type ElementMessage,
  messageAttrs,
} from "./wire/objects.ts"
import { observeObjects } from "./objects.ts"
import { anonKey, commentOf, ObservedRule } from "./observed-rule.ts"

export { anonKey, commentOf }
import { decodeRuleMessage, type RawRule } from "./wire/rule.ts"
import { eachAttr, setAttrsKey } from "./wire/raw.ts"
import { END_MARK, EXTRA_MARK, keyTypeName } from "./elements.ts"

const familyName = (n: number) => Object.keys(NFPROTO).find((k) => NFPROTO[k] === n) ?? String(n)
const hookName = hookNameOf

/** One dump request for an nf_tables object kind, optionally filtered by table (and set). */
export function dumpObjects<T>(
  sock: NetlinkSocket,
  msg: number,
  filter: { family?: number; table?: string; tableAttr?: number; set?: string },
  decode: (m: Message) => T | undefined,
): T[] {
  return sock.dumpInto((w) => {
    w.begin(nfnl.nftType(msg), 0)
    nfnl.writeNfgenmsg(w, filter.family ?? 0)
    if (filter.table !== undefined) w.attrString(filter.tableAttr ?? 1, filter.table)
    if (filter.set !== undefined) w.attrString(2 /* NFTA_SET_ELEM_LIST_SET */, filter.set)
    w.end()
  }, decode)
}

function parseTable(m: Message): Table {
  const t = decodeTableMessage(m)
  return { family: familyName(t.family), name: t.name, handle: t.handle, flags: t.flags }
}

export type TableChain = Chain & { family: string; table: string }

export function parseChain(m: Message): TableChain {
  const c = decodeChainMessage(m)
  const family = familyName(c.family)
  const chain: TableChain = { family, table: c.table, name: c.name, handle: c.handle, rules: [] }
  if (c.hook) {
    const h = hookName(family, c.hook.num)
    if (h) chain.hook = h
    chain.priority = c.hook.priority
    if (c.type) chain.type = c.type
    chain.policy = c.policy === VERDICT_CODES.drop ? "drop" : "accept"
    if (c.hook.device) chain.device = c.hook.device
    if (c.hook.devices?.length === 1) chain.device = c.hook.devices[0]!
    else if (c.hook.devices?.length) chain.devices = c.hook.devices
  }
  return chain
}

export function parseSet(m: Message, family: string): NftSet | undefined {
  const s = decodeSetMessage(m)
  if (familyName(s.family) !== family) return undefined
  let type = keyTypeName(s.keyType)
  // a datatype Linx has no name for (say ct_state, in `ct state { … }`): "id/len", so that
  // an anonymous set of it can be written back as it was
  if (/^\d+$/.test(type)) type = `${s.keyType}/${s.keyLen}`
  const set: NftSet = { name: s.name, handle: s.handle, type, flags: s.flags, elements: [] }
  if (!(s.flags & NFT_SET_ANONYMOUS)) set.attrsKey = setAttrsKey(messageAttrs(m))
  if (s.timeout) set.timeout = s.timeout
  if (s.flags & NFT_SET_MAP) set.map = s.dataType === NFT_DATA_VERDICT ? "verdict" : keyTypeName(s.dataType ?? 0)
  return set
}

/** An element's own attributes as a key suffix; a timeout equal to the set's default is the set's, not the element's. */
function elementExtra(e: ElementMessage, setTimeout: number | undefined): string {
  if (!e.extra) return ""
  let b = e.extra
  if (e.timeout !== undefined && e.timeout === setTimeout) {
    // drop TIMEOUT (type 4, 12 bytes: header + u64) from the attributes
    const parts: Uint8Array[] = []
    eachAttr(b, (t, _s, end, at) => {
      if (t !== 4) parts.push(b.subarray(at, (end + 3) & ~3))
    })
    b = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let at = 0
    for (const p of parts) {
      b.set(p, at)
      at += p.length
    }
    if (!b.length) return ""
  }
  return EXTRA_MARK + toHex(b)
}

/** A set's elements as diff keys: hex key (+ END_MARK for an interval end), and "=data" for maps. */
export function elementKeys(set: NftSet, messages: readonly ElementMessage[][]): string[] {
  const out: string[] = []
  for (const elements of messages) {
    for (const e of elements) {
      const key = toHex(e.key) + (e.flags & ELEM_INTERVAL_END ? END_MARK : "")
      const extra = elementExtra(e, set.timeout)
      if (!set.map) out.push(key + extra)
      else if (e.verdict !== undefined)
        out.push(`${key}=v:${VERDICT_NAMES[e.verdict] ?? e.verdict}${e.chain ? `:${e.chain}` : ""}${extra}`)
      else out.push(`${key}=${e.data ? toHex(e.data) : ""}${extra}`)
    }
  }
  return out
}

function readElements(sock: NetlinkSocket, t: Table, set: NftSet): string[] {
  const filter = { family: NFPROTO[t.family]!, table: t.name, set: set.name }
  return elementKeys(set, dumpObjects(sock, nfnl.NFT_MSG_GETSETELEM, filter, decodeElementsMessage))
}

/** Every set of the table with its elements, anonymous ones included (their rules read them). */
export function observeSets(sock: NetlinkSocket, t: Table, known?: Known): NftSet[] {
  // a set lookup needs the table's family
  const sets = dumpObjects(sock, nfnl.NFT_MSG_GETSET, { family: NFPROTO[t.family]!, table: t.name }, (m) =>
    parseSet(m, t.family),
  )
  for (const set of sets) set.elements = anonElements(sock, t, set, known) ?? readElements(sock, t, set)
  return sets
}

/**
 * Elements of anonymous sets by their handle, per table (by the table's handle): an
 * anonymous set is bound to one rule and constant, so its elements never change while it
 * lives, and handles are never reused in a namespace. A loop's later looks read them from
 * here instead of one element dump per set (the kernel finds each set by walking the
 * table's list of sets: 10k kube-proxy services are 10k such dumps).
 */
export type AnonCache = Map<string, Map<number, string[]>>

/** For one look at a table: what earlier looks read (`prev`), and what this one saw (`next`). */
interface Known {
  prev?: Map<number, string[]> | undefined
  next: Map<number, string[]>
}

/** An anonymous set's elements from what an earlier look read (recorded in `known` when read now). */
function anonElements(sock: NetlinkSocket, t: Table, set: NftSet, known: Known | undefined): string[] | undefined {
  if (!known || !(set.flags & NFT_SET_ANONYMOUS)) return undefined
  const els = known.next.get(set.handle) ?? known.prev?.get(set.handle) ?? readElements(sock, t, set)
  known.next.set(set.handle, els)
  return els
}

/** The table's rules (or one chain's) as decoded from the kernel's messages. */
function dumpRules(sock: NetlinkSocket, t: Table, chain?: string): RawRule[] {
  const family = NFPROTO[t.family]!
  return sock
    .dumpInto((w) => {
      w.begin(nfnl.nftType(nfnl.NFT_MSG_GETRULE), 0)
      nfnl.writeNfgenmsg(w, family)
      w.attrString(NFTA_RULE_TABLE, t.name)
      if (chain !== undefined) w.attrString(NFTA_RULE_CHAIN, chain)
      w.end()
    }, decodeRuleMessage)
    .filter((r) => r.family === family && r.table === t.name && (chain === undefined || r.chain === chain))
}

/** Observed rules, with their anonymous sets' elements filled in. */
function observed(raws: readonly RawRule[], family: string, anon: ReadonlyMap<string, NftSet>): ObservedRule[] {
  return raws.map((raw) => {
    for (const e of raw.exprs) {
      const a = e.type === "lookup" ? anon.get(e.set) : undefined
      if (a && e.type === "lookup") e.anon = { type: a.type, elements: [...a.elements].sort() }
    }
    return new ObservedRule(raw, family, anon)
  })
}

/** The chains of a table (a chain dump ignores NFTA_CHAIN_TABLE and returns every table's: filtered here, PLATFORM 14). */
function observeChains(sock: NetlinkSocket, t: Table): TableChain[] {
  return dumpObjects(sock, nfnl.NFT_MSG_GETCHAIN, { table: t.name, tableAttr: NFTA_CHAIN_TABLE }, parseChain).filter(
    (c) => c.family === t.family && c.table === t.name,
  )
}

/**
 * Fills in only some chains of a table, with their rules and the anonymous sets those
 * use, and some named sets with their elements (after rule and element events: a
 * flushed chain or a deleted element is healed without reading the whole table).
 */
function lookIntoParts(sock: NetlinkSocket, t: Table, parts: TableParts, known?: Known): void {
  const chains = [...parts.chains].flatMap((name) => getObject(sock, t, nfnl.NFT_MSG_GETCHAIN, name, parseChain) ?? [])
  const raws = chains.map((c) => dumpRules(sock, t, c.name))
  // the anonymous sets these rules use, each asked for by name (a table may hold thousands)
  const used = new Map<string, NftSet>()
  for (const list of raws)
    for (const r of list)
      for (const e of r.exprs) {
        if (e.type !== "lookup" || used.has(e.set) || !/^__(set|map)\d+$/.test(e.set)) continue
        const set = getObject(sock, t, nfnl.NFT_MSG_GETSET, e.set, (m) => parseSet(m, t.family))
        if (set && set.flags & NFT_SET_ANONYMOUS) used.set(e.set, set)
      }
  for (const set of used.values()) set.elements = anonElements(sock, t, set, known) ?? readElements(sock, t, set)
  chains.forEach((c, i) => {
    c.rules = observed(raws[i]!, t.family, used)
  })
  t.chains = chains.map(({ family: _f, table: _t, ...c }) => c)
  const sets = [...parts.sets].flatMap(
    (name) => getObject(sock, t, nfnl.NFT_MSG_GETSET, name, (m) => parseSet(m, t.family)) ?? [],
  )
  for (const set of sets) {
    // an element event names its elements: in a hash set or map those are asked for one by one
    // (an interval set's elements are ranges, read whole)
    const some = parts.elements?.get(set.name)
    if (some && !(set.flags & NFT_SET_INTERVAL)) {
      set.elements = [...some].flatMap((key) => getElement(sock, t, set, key) ?? [])
      set.lookedAt = some
    } else set.elements = readElements(sock, t, set)
  }
  t.sets = sets.filter((x) => !(x.flags & NFT_SET_ANONYMOUS))
  t.narrowed = parts
}

const REPLY: Record<number, number> = {
  [nfnl.NFT_MSG_GETCHAIN]: nfnl.NFT_MSG_NEWCHAIN,
  [nfnl.NFT_MSG_GETSET]: nfnl.NFT_MSG_NEWSET,
}

/** One chain or set by name (a get, not a dump), or undefined when it is gone. */
function getObject<T>(
  sock: NetlinkSocket,
  t: Table,
  msg: number,
  name: string,
  parse: (m: Message) => T | undefined,
): T | undefined {
  const w = new MessageWriter(256)
  w.begin(nfnl.nftType(msg), 0)
  nfnl.writeNfgenmsg(w, NFPROTO[t.family]!)
  // NFTA_CHAIN_NAME is 3, NFTA_SET_NAME 2 (both after their table, 1)
  w.attrString(1, t.name).attrString(msg === nfnl.NFT_MSG_GETSET ? 2 : 3, name)
  w.end()
  try {
    for (const m of sock.request(w)) if (m.type === nfnl.nftType(REPLY[msg]!)) return parse(m)
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === errno.ENOENT) return undefined
    throw e
  }
  return undefined
}

/** One element of a set by its key (a get, not a dump), as a diff key; undefined when it is not there. */
function getElement(sock: NetlinkSocket, t: Table, set: NftSet, key: string): string | undefined {
  const w = new MessageWriter(256)
  w.begin(nfnl.nftType(nfnl.NFT_MSG_GETSETELEM), 0)
  nfnl.writeNfgenmsg(w, NFPROTO[t.family]!)
  w.attrString(1, t.name).attrString(2, set.name)
  const list = w.nestStart(3)
  const el = w.nestStart(1)
  const k = w.nestStart(1)
  w.attrBytes(1, fromHex(key)).nestEnd(k).nestEnd(el).nestEnd(list)
  w.end()
  try {
    for (const m of sock.request(w))
      if (m.type === nfnl.nftType(nfnl.NFT_MSG_NEWSETELEM)) return elementKeys(set, [decodeElementsMessage(m)])[0]
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === errno.ENOENT) return undefined
    throw e
  }
  return undefined
}

/** Fills in a table's chains (with their rules) and named sets. */
function lookInto(sock: NetlinkSocket, t: Table, known?: Known): void {
  const chains = observeChains(sock, t)
  const allSets = observeSets(sock, t, known)
  const anon = new Map(allSets.filter((x) => x.flags & NFT_SET_ANONYMOUS).map((x) => [x.name, x]))
  const byName = new Map(chains.map((c) => [c.name, c]))
  for (const r of observed(dumpRules(sock, t), t.family, anon)) byName.get(r.chain)?.rules.push(r)
  t.chains = chains.map(({ family: _f, table: _t, ...c }) => c)
  t.sets = allSets.filter((x) => !(x.flags & NFT_SET_ANONYMOUS))
  t.objects = observeObjects(sock, t.family, t.name)
}

/**
 * The observe of one socket: `look(interest)` reads every table, and those in `interest`
 * whole, or (`parts`) only some of their chains and sets.
 */
export function createNftObserver(
  sock: NetlinkSocket,
): (interest?: ReadonlySet<string>, parts?: ReadonlyMap<string, TableParts>) => NftObserved {
  const anon: AnonCache = new Map()
  return (interest, parts) => {
    const genId = nfnl.getGeneration(sock)
    const tables = dumpObjects(sock, nfnl.NFT_MSG_GETTABLE, {}, parseTable)
    const present = new Set<string>()
    for (const t of tables) {
      const key = `${t.family} ${t.name}`
      const byHandle = `${t.family} ${t.handle}`
      present.add(byHandle)
      if (interest && !interest.has(key)) continue
      const only = parts?.get(key)
      if (only) {
        const next = anon.get(byHandle) ?? new Map<number, string[]>()
        anon.set(byHandle, next)
        lookIntoParts(sock, t, only, { next })
      } else {
        // a whole look keeps what it saw: sets gone since are forgotten
        const next = new Map<number, string[]>()
        lookInto(sock, t, { prev: anon.get(byHandle), next })
        anon.set(byHandle, next)
      }
    }
    for (const k of anon.keys()) if (!present.has(k)) anon.delete(k)
    return { genId, tables, steady: nfnl.getGeneration(sock) === genId }
  }
}
