// Set elements with their own attributes (timeout, comment, expressions, a key end),
// written as bytes: libnftnl's element builder takes none of them from a dump.
import { type MessageWriter, nfnl } from "@linx/netlink/wire"
import { eachAttr, padTo4 } from "./raw.ts"

/** One element to write: key, interval-end flag, data (bytes, or a verdict with its chain), its other attributes as dumped. */
export interface ElementBytes {
  key: Uint8Array
  flags: number
  data?: Uint8Array
  verdict?: { code: number; chain?: string }
  extra?: Uint8Array
}

/** The nest of one NFTA_SET_ELEM_LIST_ELEMENTS list holds at most this much (a u16 length). */
const ELEMENTS_NEST_MAX = 60_000

/**
 * NFT_MSG_NEWSETELEM (or DELSETELEM: key, flags and a key end only) for elements with
 * their own attributes, as many messages as their size needs; returns the message count.
 */
export function writeElements(
  w: MessageWriter,
  where: { family: number; table: string; set: string; label: string },
  elements: readonly ElementBytes[],
  type: number,
  flags: number,
): number {
  let n = 0
  for (let i = 0; i < elements.length; ) {
    w.begin(nfnl.nftType(type), flags, where.label)
    nfnl.writeNfgenmsg(w, where.family)
    w.attrString(1, where.table).attrString(2, where.set)
    const list = w.nestStart(3)
    const start = w.length
    do {
      const e = elements[i++]!
      const el = w.nestStart(1)
      const key = w.nestStart(1)
      w.attrBytes(1, e.key).nestEnd(key)
      if (e.flags) w.attrU32be(3, e.flags)
      if (type === nfnl.NFT_MSG_NEWSETELEM && (e.data || e.verdict)) {
        const data = w.nestStart(2)
        if (e.data) w.attrBytes(1, e.data)
        else {
          const v = w.nestStart(2)
          w.attrU32be(1, e.verdict!.code >>> 0)
          if (e.verdict!.chain) w.attrString(2, e.verdict!.chain)
          w.nestEnd(v)
        }
        w.nestEnd(data)
      }
      if (e.extra)
        eachAttr(e.extra, (t, _s, end, at) => {
          // a delete names the element by its key (and a concatenated interval's end), nothing more
          if (type === nfnl.NFT_MSG_NEWSETELEM || t === 10) {
            w.bytes(e.extra!.subarray(at, end))
            padTo4(w, end - at)
          }
        })
      w.nestEnd(el)
    } while (i < elements.length && w.length - start < ELEMENTS_NEST_MAX)
    w.nestEnd(list)
    w.end()
    n++
  }
  return n
}
