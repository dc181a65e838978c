// nftables events → hints scoped to the tables they touch (NFNLGRP_NFTABLES). Every
// object message names its table (NFTA_*_TABLE, or NFTA_TABLE_NAME, attribute 1) and its
// family (nfgenmsg); NFT_MSG_NEWGEN, which ends each transaction, names none. Every event
// carries the port id of the socket whose request caused it (nlmsg_pid): the echo of a
// source's own transaction is not news to it (echoFilter).
import { forEachAttr, type Message, readString, requireHeader } from "@linx/netlink/wire"
import { toHex } from "@linx/netlink/wire"
import { END_MARK } from "./elements.ts"
import { ELEM_INTERVAL_END, NFPROTO } from "./wire/constants.ts"
import { decodeElementsMessage } from "./wire/objects.ts"

const familyName = (n: number) => Object.keys(NFPROTO).find((k) => NFPROTO[k] === n)

/**
 * What an event touched: a table ("inet edge"); for a rule event just its chain ("inet
 * edge input": a flushed chain is looked at alone, not its whole table); for an element
 * event just its set ("inet edge blocked").
 */
export interface NftScopeEntry {
  readonly kind: "table" | "chain" | "set"
  readonly key: string
  /** a set entry: the elements the events touched (hex keys, "/e" for an interval's end); absent: the whole set */
  readonly elements?: readonly string[]
}

/** Past this many elements of one set in one transaction, the set is looked at whole. */
const ELEMENTS_PER_HINT = 256

export interface NftHint {
  scope?: readonly NftScopeEntry[]
  overrun?: true
  /** the event subscription ended: the loop subscribes again */
  ended?: Error
}

/** The hint for a chunk of events; undefined when it holds nothing but generation markers. */
export function hintFor(messages: readonly Message[]): NftHint | undefined {
  const tables = new Set<string>()
  const chains = new Set<string>()
  const sets = new Map<string, Set<string> | null>()
  let other = false
  for (const m of messages) {
    if (m.type >> 8 !== 10) {
      other = true
      continue
    }
    const msg = m.type & 0xff
    if (msg === 15 /* NFT_MSG_NEWGEN */) continue
    requireHeader(m, 4, "nfgenmsg")
    const family = familyName(m.view.getUint8(m.payload))
    let table: string | undefined
    let chain: string | undefined
    forEachAttr(m.view, m.payload + 4, m.end, (t, o, l) => {
      if (t === 1) table = readString(m.view, o, l)
      else if (t === 2) chain = readString(m.view, o, l)
    })
    if (!family || table === undefined) return {}
    // an anonymous set or map ("{ 22, 80 }", "vmap { … }": nft names them __set0, __map0)
    // lives and dies with its rule, whose event names the chain
    if (msg >= 9 && msg <= 14 && chain !== undefined && /^__(set|map)\d+$/.test(chain)) continue
    // NFT_MSG_NEWRULE 6, DELRULE 8: NFTA_RULE_CHAIN (2) names the chain
    const named = chain !== undefined && !chain.includes(" ")
    if ((msg === 6 || msg === 8) && named) chains.add(`${family} ${table} ${chain}`)
    // NFT_MSG_NEWSETELEM 12, DELSETELEM 14: NFTA_SET_ELEM_LIST_SET (2) names the set
    else if ((msg === 12 || msg === 14) && named) {
      const key = `${family} ${table} ${chain}`
      const seen = sets.get(key)
      if (seen === null) continue
      const els = seen ?? new Set<string>()
      for (const e of elementKeysOf(m)) els.add(e)
      sets.set(key, els.size > ELEMENTS_PER_HINT ? null : els)
    } else tables.add(`${family} ${table}`)
  }
  const scope: NftScopeEntry[] = [
    ...[...tables].map((key) => ({ kind: "table" as const, key })),
    ...[...chains].map((key) => ({ kind: "chain" as const, key })),
    ...[...sets].map(([key, els]) =>
      els ? { kind: "set" as const, key, elements: [...els] } : { kind: "set" as const, key },
    ),
  ]
  if (scope.length) return { scope }
  return other ? {} : undefined
}

/** The element keys of a NEWSETELEM or DELSETELEM event (malformed: none, and the set is looked at whole). */
function elementKeysOf(m: Message): string[] {
  try {
    return decodeElementsMessage(m).map((e) => toHex(e.key) + (e.flags & ELEM_INTERVAL_END ? END_MARK : ""))
  } catch {
    return new Array(ELEMENTS_PER_HINT + 1).fill("")
  }
}

/** How long a transaction's events wait for their NEWGEN before they are a hint anyway. */
const HOLD_MS = 20

/**
 * The hints of an event stream, one per transaction: events are gathered until the
 * NEWGEN that ends their transaction (a foreign `nft flush` of a 10k-rule chain is ~6 MB
 * of events, read in chunks: each chunk used to wake a full pass of its own). Events the
 * socket `portId()` caused (a source's own transactions, already known to the loop that
 * made them) are left out. Events still waiting after HOLD_MS are a hint anyway.
 */
export function transactionHints(
  portId: () => number | undefined,
  onHint: (hint: NftHint) => void,
): { feed(messages: readonly Message[]): void; close(): void } {
  let held: NftHint | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const flush = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    const h = held
    held = undefined
    if (h) onHint(h)
  }
  return {
    feed(messages) {
      const own = portId() || undefined
      let start = 0
      for (let i = 0; i <= messages.length; i++) {
        const m = messages[i]
        const end = m === undefined || (m.type >> 8 === 10 && (m.type & 0xff) === 15) /* NFT_MSG_NEWGEN */
        if (!end) continue
        const news = messages.slice(start, i).filter((x) => x.pid !== own)
        held = merge(held, news.length ? hintFor(news) : undefined)
        start = i + 1
        if (m !== undefined && held) flush()
      }
      if (held && !timer) timer = setTimeout(flush, HOLD_MS)
    },
    close() {
      if (timer) clearTimeout(timer)
      timer = undefined
      held = undefined
    },
  }
}

function merge(a: NftHint | undefined, b: NftHint | undefined): NftHint | undefined {
  if (!a || !b) return a ?? b
  if (!a.scope || !b.scope) return {}
  return { scope: [...a.scope, ...b.scope] }
}
