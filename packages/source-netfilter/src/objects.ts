// Named stateful objects of a table (counter, quota, limit, ct helper, ct timeout, ct
// expectation, synproxy, secmark, connlimit): observed with their attributes as the
// kernel keeps them, compared by those attributes without their running state (a
// counter's packets and bytes, a quota's consumed bytes), written back as they are.
// They come from a table written as nft text (table-text.ts). Attributes:
// linux/netfilter/nf_tables.h, enum nft_object_attributes.
import type { NetlinkSocket } from "@linx/netlink"
import { type Message, type MessageWriter, nfnl, toHex } from "@linx/netlink/wire"
import type { NamedObject } from "./model.ts"
import { NFPROTO } from "./wire/constants.ts"
import { messageAttrs } from "./wire/objects.ts"
import { eachAttr } from "./wire/raw.ts"
import type { NftOp } from "./ops.ts"

const OBJ = { TABLE: 1, NAME: 2, TYPE: 3, DATA: 4, USERDATA: 8 } as const

/** Attributes of an object's data that change while it runs (counter packets/bytes; quota consumed). */
const RUNNING: Readonly<Record<number, readonly number[]>> = { 1: [1, 2], 2: [4] }

const td = new TextDecoder()

/** An object from a NEWOBJ message (a dump reply), with the table it is in. */
export function parseObject(m: Message): (NamedObject & { family: number; table: string }) | undefined {
  const b = messageAttrs(m).slice()
  const family = m.view.getUint8(m.payload)
  let table = ""
  let name = ""
  let type = 0
  const keep: Uint8Array[] = []
  const key: string[] = []
  eachAttr(b, (t, s, e, at) => {
    if (t === OBJ.TABLE) table = td.decode(b.subarray(s, e)).replace(/\0+$/, "")
    else if (t === OBJ.NAME) name = td.decode(b.subarray(s, e)).replace(/\0+$/, "")
    else if (t === OBJ.TYPE) type = new DataView(b.buffer, s, 4).getUint32(0)
    if (t !== OBJ.TYPE && t !== OBJ.DATA && t !== OBJ.USERDATA) return
    keep.push(b.subarray(at, e))
    if (t !== OBJ.DATA) key.push(`${t}:${toHex(b.subarray(s, e))}`)
    else {
      const running = RUNNING[type] ?? []
      const parts: string[] = []
      eachAttr(
        b,
        (dt, ds, de) => {
          if (!running.includes(dt)) parts.push(`${dt}=${toHex(b.subarray(ds, de))}`)
        },
        s,
        e,
      )
      key.push(`data:${parts.join(",")}`)
    }
  })
  if (!name) return undefined
  return { family, table, name, type, key: key.join("|"), attrs: concatPadded(keep) }
}

/** Attributes back to back, each padded to 4 (as in a message). */
function concatPadded(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + ((p.length + 3) & ~3), 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += (p.length + 3) & ~3
  }
  return out
}

/** The named objects of a table. */
export function observeObjects(sock: NetlinkSocket, family: string, table: string): NamedObject[] {
  const nfproto = NFPROTO[family]!
  return sock
    .dumpInto((w) => {
      w.begin(nfnl.nftType(nfnl.NFT_MSG_GETOBJ), 0)
      nfnl.writeNfgenmsg(w, nfproto)
      w.attrString(OBJ.TABLE, table)
      w.end()
    }, parseObject)
    .filter((o) => o.family === nfproto && o.table === table)
    .map(({ family: _f, table: _t, ...o }) => o)
}

interface Lists {
  deletes: NftOp[]
  creates: NftOp[]
}

/**
 * The named objects of an owned table: created, deleted, or (changed: another type or
 * other attributes) deleted and created. Returns whether one was made anew: the rules
 * that refer to it by name must then be rewritten in the same transaction.
 */
export function diffObjects(
  want: readonly NamedObject[],
  have: readonly NamedObject[],
  where: { family: string; table: string },
  out: Lists,
): boolean {
  const haveByName = new Map(have.map((o) => [o.name, o]))
  let recreated = false
  for (const o of want) {
    const h = haveByName.get(o.name)
    if (h && h.key === o.key) continue
    if (h) {
      out.deletes.push({ kind: "delete", object: "obj", name: h.name, type: h.type, ...where })
      recreated = true
    }
    out.creates.push({ kind: "create", object: "obj", obj: o, ...where })
  }
  const wanted = new Set(want.map((o) => o.name))
  for (const h of have)
    if (!wanted.has(h.name)) out.deletes.push({ kind: "delete", object: "obj", name: h.name, type: h.type, ...where })
  return recreated
}

/** NFT_MSG_NEWOBJ for an object, its attributes as dumped. */
export function writeObject(
  w: MessageWriter,
  where: { family: number; table: string; label: string },
  o: NamedObject,
  flags: number,
): void {
  w.begin(nfnl.nftType(nfnl.NFT_MSG_NEWOBJ), flags, where.label)
  nfnl.writeNfgenmsg(w, where.family)
  w.attrString(OBJ.TABLE, where.table).attrString(OBJ.NAME, o.name)
  w.bytes(o.attrs)
  w.end()
}

/** NFT_MSG_DELOBJ by name and type. */
export function writeDeleteObject(
  w: MessageWriter,
  where: { family: number; table: string; label: string },
  name: string,
  type: number,
): void {
  w.begin(nfnl.nftType(nfnl.NFT_MSG_DELOBJ), 0, where.label)
  nfnl.writeNfgenmsg(w, where.family)
  w.attrString(OBJ.TABLE, where.table).attrString(OBJ.NAME, name).attrU32be(OBJ.TYPE, type)
  w.end()
}
