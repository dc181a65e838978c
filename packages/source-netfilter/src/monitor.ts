// nftables events → hints scoped to the tables they touch (NFNLGRP_NFTABLES). Every
// object message names its table (NFTA_*_TABLE, or NFTA_TABLE_NAME, attribute 1) and its
// family (nfgenmsg); NFT_MSG_NEWGEN, which ends each transaction, names none.
import { forEachAttr, type Message, readString, requireHeader } from "@linx/netlink/wire"
import { NFPROTO } from "./wire/constants.ts"

const familyName = (n: number) => Object.keys(NFPROTO).find((k) => NFPROTO[k] === n)

/** A table an event touched ("inet edge"): the one scope entry kind of netfilter. */
export interface NftScopeEntry {
  readonly kind: "table"
  readonly key: string
}

export interface NftHint {
  scope?: readonly NftScopeEntry[]
  overrun?: true
  /** the event subscription ended: the loop subscribes again */
  ended?: Error
}

/** The hint for a chunk of events; undefined when it holds nothing but generation markers. */
export function hintFor(messages: readonly Message[]): NftHint | undefined {
  const tables = new Set<string>()
  let other = false
  for (const m of messages) {
    if (m.type >> 8 !== 10) {
      other = true
      continue
    }
    const msg = m.type & 0xff
    if (msg === 15 /* NFT_MSG_NEWGEN */) continue
    if (msg > 14) return {} // objects (flowtables, stateful objects) Linx does not model: look at everything
    requireHeader(m, 4, "nfgenmsg")
    const family = familyName(m.view.getUint8(m.payload))
    let table: string | undefined
    forEachAttr(m.view, m.payload + 4, m.end, (t, o, l) => {
      if (t === 1) table = readString(m.view, o, l)
    })
    if (!family || table === undefined) return {}
    tables.add(`${family} ${table}`)
  }
  if (tables.size) return { scope: [...tables].map((key) => ({ kind: "table", key })) }
  return other ? {} : undefined
}
