// Rules written as nft text are kept as the kernel's own bytes (what nft sent, as the
// kernel holds it): compared by a byte key and written back verbatim. Only the names of
// anonymous sets change on the way: the kernel names them ("__set3"), a transaction
// binds them by id ("__set%d" + NFTA_*_SET_ID), and a key names them by their contents.
// Attributes: linux/netfilter/nf_tables.h.
import { DecodeError } from "@linx/netlink"
import { type MessageWriter, nfnl, toHex } from "@linx/netlink/wire"

/** An anonymous set of a text rule: its NEWSET attributes and its element lists, as dumped. */
export interface AnonSetBytes {
  /** the kernel's name for it where it was compiled ("__set0") */
  name: string
  /** NEWSET attributes without table, name, handle and id */
  attrs: Uint8Array
  /** the NFTA_SET_ELEM_LIST_ELEMENTS payload of each dumped message */
  elements: Uint8Array[]
}

/** A text rule's bytes: its expression list, its userdata (nft's comment) and the anonymous sets it uses. */
export interface RuleBytes {
  exprs: Uint8Array
  userdata?: Uint8Array
  anon: AnonSetBytes[]
  /**
   * the bytes are nft's own batch, not the kernel's dump (text-capture.ts): the kernel
   * stores some expressions with defaults added, so the key an observed rule is compared
   * with is learned from the kernel once the rule was written (`written`, chain.ts)
   */
  captured?: boolean
  /** that key, once learned */
  kernelKey?: string
  /** nft's words when the kernel refused the rule (it was compiled without asking the kernel) */
  explain?: () => string | undefined
  /** where a transaction wrote the rule, and the generation its commit made */
  written?: { by: object; genId: number; family: string; table: string; chain: string; index: number }
}

const NLA_F_NESTED = 0x8000
const td = new TextDecoder()

/** Calls fn for each attribute of b[start, end): type (flags masked), payload start and end, whole-attribute start. */
export function eachAttr(
  b: Uint8Array,
  fn: (type: number, start: number, end: number, at: number) => void,
  start = 0,
  end = b.length,
): void {
  let p = start
  while (p + 4 <= end) {
    const len = b[p]! | (b[p + 1]! << 8)
    if (len < 4 || p + len > end) throw new DecodeError(p, `nf_tables attribute length ${len} is malformed`)
    fn((b[p + 2]! | (b[p + 3]! << 8)) & 0x3fff, p + 4, p + len, p)
    p += (len + 3) & ~3
  }
}

/** A NUL-padded string attribute; short ASCII ones (expression and set names) without a decoder or a view. */
const cstr = (b: Uint8Array, s: number, e: number) => {
  let n = e
  while (n > s && b[n - 1] === 0) n--
  if (n - s > 32) return td.decode(b.subarray(s, n))
  let out = ""
  for (let i = s; i < n; i++) {
    const c = b[i]!
    if (c > 127) return td.decode(b.subarray(s, n))
    out += String.fromCharCode(c)
  }
  return out
}

/** The string in the first attribute `type` of b[s, e), if any. */
function findStr(b: Uint8Array, s: number, e: number, type: number): string | undefined {
  let out: string | undefined
  eachAttr(
    b,
    (t, as, ae) => {
      if (t === type && out === undefined) out = cstr(b, as, ae)
    },
    s,
    e,
  )
  return out
}

/** The data range of an expression (NFTA_EXPR_DATA), or an empty range. */
function dataOf(b: Uint8Array, s: number, e: number): [number, number] {
  let out: [number, number] = [e, e]
  eachAttr(
    b,
    (t, as, ae) => {
      if (t === 2) out = [as, ae]
    },
    s,
    e,
  )
  return out
}

/** The expressions of a list: name and data range. */
function eachExpr(exprs: Uint8Array, fn: (name: string, start: number, end: number) => void): void {
  eachAttr(exprs, (_t, s, e) => {
    const [ds, de] = dataOf(exprs, s, e)
    fn(findStr(exprs, s, e, 1) ?? "", ds, de)
  })
}

/** Which attribute of an expression names a set, and which carries its id (lookup, objref maps, dynset). */
const SET_ATTRS: Readonly<Record<string, readonly [name: number, id: number]>> = {
  lookup: [1, 4],
  objref: [3, 4],
  dynset: [1, 2],
}
/** Attributes that change while a rule runs, left out of its key (quota's consumed bytes; last's time). */
const VOLATILE: Readonly<Record<string, readonly number[]>> = { quota: [3], last: [1, 2] }

/** The names of the sets a rule's expressions refer to. */
export function setsReferenced(exprs: Uint8Array): string[] {
  const out: string[] = []
  eachExpr(exprs, (name, s, e) => {
    const a = SET_ATTRS[name]
    const set = a ? findStr(exprs, s, e, a[0]) : undefined
    if (set !== undefined) out.push(set)
  })
  return out
}

/**
 * A rule's byte key: each expression's name and data in hex, counters without their
 * values, volatile attributes left out, and an anonymous set by its contents (`anonKey`
 * returns it for the kernel's name, or undefined for a named set).
 */
export function bytesKey(exprs: Uint8Array, anonKey: (name: string) => string | undefined): string {
  // runs of ordinary expressions are taken whole, as one hex string: this is built for
  // every observed rule of a chain holding text rules
  let s = ""
  let run = -1
  eachAttr(exprs, (_t, es, ee, at) => {
    const name = findStr(exprs, es, ee, 1) ?? ""
    const setAttr = SET_ATTRS[name]
    const skip = VOLATILE[name]
    if (name !== "counter" && !setAttr && !skip) {
      if (run < 0) run = at
      return
    }
    if (run >= 0) s += `${toHex(exprs.subarray(run, at))};`
    run = -1
    if (name === "counter") {
      s += "counter;"
      return
    }
    const [ds, de] = dataOf(exprs, es, ee)
    s += `${name}(`
    eachAttr(
      exprs,
      (t, as, ae, aat) => {
        if (skip?.includes(t) || (setAttr && t === setAttr[1])) return
        if (setAttr && t === setAttr[0]) {
          const set = cstr(exprs, as, ae)
          s += `set=${anonKey(set) ?? set},`
          return
        }
        s += `${toHex(exprs.subarray(aat, ae))},`
      },
      ds,
      de,
    )
    s += ");"
  })
  if (run >= 0) s += toHex(exprs.subarray(run))
  return s
}

/** Whether the bytes hold nft's template name of an anonymous set: "%d" followed by its NUL. */
function namesTemplate(b: Uint8Array): boolean {
  for (let i = b.indexOf(0x25); i >= 0 && i + 2 < b.length; i = b.indexOf(0x25, i + 1))
    if (b[i + 1] === 0x64 && b[i + 2] === 0) return true
  return false
}

/**
 * nft's batch names every anonymous set "__set%d" (or "__map%d") and binds it by id:
 * in a copy, each such reference gets its set's own name of the same length (`names` by
 * id), so the rule reads like a kernel dump and keeps its layout; most rules name none
 * and are returned as they are (text-capture.ts).
 */
export function nameAnonSets(exprs: Uint8Array, names: ReadonlyMap<number, string>): Uint8Array {
  if (!names.size || !namesTemplate(exprs)) return exprs
  const out = exprs.slice()
  eachAttr(out, (_t, s, e) => {
    const a = SET_ATTRS[findStr(out, s, e, 1) ?? ""]
    if (!a) return
    const [ds, de] = dataOf(out, s, e)
    let at = -1
    let id = -1
    eachAttr(
      out,
      (t, as, ae) => {
        if (t === a[0] && ae - as === 8 && out[as] === 95 && out[as + 1] === 95) at = as
        if (t === a[1] && ae - as === 4) id = new DataView(out.buffer, out.byteOffset + as, 4).getUint32(0)
      },
      ds,
      de,
    )
    const renamed = id < 0 ? undefined : names.get(id)
    if (at >= 0 && renamed) out.set(Buffer.from(renamed, "latin1"), at)
  })
  return out
}

/** Copies the attributes of src listed in `keep` into w, keeping their header flags. */
function copyAttrs(w: MessageWriter, src: Uint8Array, keep: readonly number[]): void {
  eachAttr(src, (t, _s, e, at) => {
    if (!keep.includes(t)) return
    w.bytes(src.subarray(at, e))
    padTo4(w, e - at)
  })
}

/** Appends an attribute's bytes padded to 4 (the writer pads its own attributes only). */
export function padTo4(w: MessageWriter, n: number): void {
  if (n & 3) w.zeros(4 - (n & 3))
}

/** The expression list with every reference to an anonymous set renamed "__set%d" and bound by id. */
function writeExprs(w: MessageWriter, exprs: Uint8Array, ids: ReadonlyMap<string, number>): void {
  // no anonymous set to bind (most rules): the list as it is, its attributes already aligned
  if (!ids.size) {
    w.bytes(exprs)
    return
  }
  eachAttr(exprs, (_t, s, e, at) => {
    const name = findStr(exprs, s, e, 1) ?? ""
    const a = SET_ATTRS[name]
    const [ds, de] = dataOf(exprs, s, e)
    const set = a ? findStr(exprs, ds, de, a[0]) : undefined
    const id = set === undefined ? undefined : ids.get(set)
    if (!a || id === undefined) {
      w.bytes(exprs.subarray(at, e))
      padTo4(w, e - at)
      return
    }
    const elem = w.nestStart(1)
    w.attrString(1, name)
    const data = w.nestStart(2)
    eachAttr(
      exprs,
      (t, _as, ae, aat) => {
        // the set's name where it stood, its id beside it; every other attribute as it was
        if (t === a[0]) w.attrString(a[0], "__set%d").attrU32be(a[1], id)
        else if (t !== a[1]) {
          w.bytes(exprs.subarray(aat, ae))
          padTo4(w, ae - aat)
        }
      },
      ds,
      de,
    )
    w.nestEnd(data).nestEnd(elem)
  })
}

/** NFT_MSG_NEWRULE for a text rule, appended at the end of its chain. */
export function writeRule(
  w: MessageWriter,
  where: { family: number; table: string; chain: string; label: string },
  rule: RuleBytes,
  ids: ReadonlyMap<string, number>,
  flags: number,
): void {
  w.begin(nfnl.nftType(nfnl.NFT_MSG_NEWRULE), flags, where.label)
  nfnl.writeNfgenmsg(w, where.family)
  w.attrString(1, where.table).attrString(2, where.chain)
  const list = w.nestStart(4)
  writeExprs(w, rule.exprs, ids)
  w.nestEnd(list)
  if (rule.userdata) w.attrBytes(7, rule.userdata)
  w.end()
}

/**
 * What a NEWSET takes of a dumped set (flags, key and data type and length, policy, desc,
 * timeout, gc interval, userdata, object type, expressions): a dump also carries handle
 * and attributes only a dump has, which the kernel refuses on input.
 */
const SET_INPUT_ATTRS = [3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 17, 18]

/**
 * What a set is made with (its NEWSET attributes, as dumped), as a key: two sets with
 * equal keys behave alike. Userdata (13: nft's typeof and byte-order notes, for listing
 * only) is left out, so a set made by another tool is not made anew for it alone.
 */
export function setAttrsKey(attrs: Uint8Array): string {
  let out = ""
  eachAttr(attrs, (t, s, e) => {
    if (t !== 13 && SET_INPUT_ATTRS.includes(t)) out += `${t}:${toHex(attrs.subarray(s, e))};`
  })
  return out
}

/** NFT_MSG_NEWSET for a named set as dumped (a set of a table written as nft text), under its name. */
export function writeNamedSet(
  w: MessageWriter,
  where: { family: number; table: string; label: string },
  name: string,
  attrs: Uint8Array,
  id: number,
  flags: number,
): void {
  w.begin(nfnl.nftType(nfnl.NFT_MSG_NEWSET), flags, where.label)
  nfnl.writeNfgenmsg(w, where.family)
  w.attrString(1, where.table).attrString(2, name).attrU32be(10, id)
  copyAttrs(w, attrs, SET_INPUT_ATTRS)
  w.end()
}

/** NFT_MSG_NEWSET and NEWSETELEM for one anonymous set of a text rule, bound to `id`; returns the message count. */
export function writeAnonSet(
  w: MessageWriter,
  where: { family: number; table: string; label: string },
  set: AnonSetBytes,
  id: number,
  flags: number,
): number {
  w.begin(nfnl.nftType(nfnl.NFT_MSG_NEWSET), flags, where.label)
  nfnl.writeNfgenmsg(w, where.family)
  w.attrString(1, where.table).attrString(2, "__set%d").attrU32be(10, id)
  copyAttrs(w, set.attrs, SET_INPUT_ATTRS)
  w.end()
  let n = 1
  for (const elements of set.elements) {
    if (!elements.length) continue
    n++
    w.begin(nfnl.nftType(nfnl.NFT_MSG_NEWSETELEM), flags, where.label)
    nfnl.writeNfgenmsg(w, where.family)
    w.attrString(1, where.table).attrString(2, "__set%d").attrU32be(4, id)
    w.attrBytes(3 | NLA_F_NESTED, elements)
    w.end()
  }
  return n
}
