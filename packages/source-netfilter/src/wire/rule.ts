// NFT_MSG_NEWRULE decoded in TypeScript, for observe's hot path: libnftnl's
// per-attribute getters cost ~16 µs a rule through FFI, this walk ~2 µs. Building
// rules (and every other object) stays on libnftnl; a test checks both decoders agree.
// Attributes: linux/netfilter/nf_tables.h (nft_rule_attributes, nft_expr_attributes and
// each expression's own); integers are big-endian.
import { DecodeError } from "@linx/netlink"
import { type Message, requireHeader, toHex } from "@linx/netlink/wire"
import {
  fibFlagNames,
  fibResultName,
  LIMIT_UNITS,
  NFT_CMP_OPS,
  NFT_CT_KEYS,
  NFT_META_KEYS,
  NFT_PAYLOAD_BASES,
  NFT_RANGE_OPS,
  REJECT_KINDS,
  VERDICT_NAMES,
} from "./constants.ts"
import type { Expr } from "../expr.ts"

export interface RawRule {
  family: number
  table: string
  chain: string
  handle: number
  exprs: (Expr | { type: "unknown"; name: string })[]
  /** the NFTA_RULE_EXPRESSIONS payload as the kernel sent it (a rule's byte key, wire/raw.ts) */
  bytes?: Uint8Array
  userdata?: Uint8Array
}

const td = new TextDecoder()
const VERDICTS = VERDICT_NAMES as Readonly<
  Record<number, "accept" | "drop" | "return" | "continue" | "break" | "jump" | "goto">
>
const UNITS = Object.fromEntries(Object.entries(LIMIT_UNITS).map(([k, n]) => [n, k])) as Readonly<
  Record<number, keyof typeof LIMIT_UNITS>
>

/** Calls fn(type, offset, length) for each attribute in [start, end). */
function each(v: DataView, start: number, end: number, fn: (type: number, off: number, len: number) => void): void {
  let p = start
  while (p + 4 <= end) {
    const len = v.getUint16(p, true)
    if (len < 4 || p + len > end) throw new DecodeError(p, `nf_tables attribute length ${len} is malformed`)
    fn(v.getUint16(p + 2, true) & 0x3fff, p + 4, len - 4)
    p += (len + 3) & ~3
  }
}

/** A big-endian u64 attribute, which must hold 8 bytes. */
function u64(v: DataView, off: number, len: number): number {
  if (len < 8) throw new DecodeError(off, `attribute holds ${len} bytes, not a 64-bit value`)
  return Number(v.getBigUint64(off, false))
}

/** A NUL-padded string attribute; short ASCII ones (names) without a decoder or a view. */
function str(v: DataView, off: number, len: number): string {
  let n = len
  while (n > 0 && v.getUint8(off + n - 1) === 0) n--
  if (n > 32) return td.decode(new Uint8Array(v.buffer, v.byteOffset + off, n))
  let out = ""
  for (let i = 0; i < n; i++) {
    const c = v.getUint8(off + i)
    if (c > 127) return td.decode(new Uint8Array(v.buffer, v.byteOffset + off, n))
    out += String.fromCharCode(c)
  }
  return out
}

/** NFTA_DATA_VALUE inside a nested data attribute, as hex. */
function dataHex(v: DataView, off: number, len: number): string {
  let out = ""
  each(v, off, off + len, (t, o, l) => {
    if (t === 1) out = toHex(new Uint8Array(v.buffer, v.byteOffset + o, l))
  })
  return out
}

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: hand-tuned wire decoder on the observe hot path, one flat case per expression kind
function decodeExprData(name: string, v: DataView, s: number, e: number): Expr | { type: "unknown"; name: string } {
  const a: number[] = []
  const at: [number, number][] = []
  each(v, s, e, (t, o, l) => {
    at[t] = [o, l]
    if (l >= 4) a[t] = v.getUint32(o, false)
    else if (l === 1) a[t] = v.getUint8(o)
    else if (l === 2) a[t] = v.getUint16(o, false)
  })
  switch (name) {
    case "payload":
      return {
        type: "payload",
        base: NFT_PAYLOAD_BASES[a[2] ?? 0] ?? "network",
        offset: a[3] ?? 0,
        len: a[4] ?? 0,
        dreg: a[1] ?? 0,
      }
    case "meta":
      return { type: "meta", key: NFT_META_KEYS[a[2] ?? 0] ?? "len", dreg: a[1] ?? 0 }
    case "cmp":
      return {
        type: "cmp",
        sreg: a[1] ?? 0,
        op: NFT_CMP_OPS[a[2] ?? 0] ?? "eq",
        data: at[3] ? dataHex(v, at[3][0], at[3][1]) : "",
      }
    case "range":
      return {
        type: "range",
        sreg: a[1] ?? 0,
        op: NFT_RANGE_OPS[a[2] ?? 0] ?? "eq",
        from: at[3] ? dataHex(v, at[3][0], at[3][1]) : "",
        to: at[4] ? dataHex(v, at[4][0], at[4][1]) : "",
      }
    case "bitwise":
      return {
        type: "bitwise",
        sreg: a[1] ?? 0,
        dreg: a[2] ?? 0,
        len: a[3] ?? 0,
        mask: at[4] ? dataHex(v, at[4][0], at[4][1]) : "",
        xor: at[5] ? dataHex(v, at[5][0], at[5][1]) : "",
      }
    case "lookup": {
      const x: Expr = { type: "lookup", sreg: a[2] ?? 0, set: at[1] ? str(v, at[1][0], at[1][1]) : "" }
      if (a[3] !== undefined) x.dreg = a[3]
      if ((a[5] ?? 0) & 1) x.invert = true
      return x
    }
    case "immediate": {
      const x: Expr = { type: "immediate", dreg: a[1] ?? 0 }
      if (at[2]) {
        each(v, at[2][0], at[2][0] + at[2][1], (t, o, l) => {
          if (t === 1) x.data = toHex(new Uint8Array(v.buffer, v.byteOffset + o, l))
          else if (t === 2) {
            each(v, o, o + l, (vt, vo, vl) => {
              if (vt === 1) {
                if (vl < 4) throw new DecodeError(vo, `verdict code holds ${vl} bytes`)
                const code = v.getInt32(vo, false)
                const name = VERDICTS[code]
                if (name) x.verdict = name
              } else if (vt === 2) x.chain = str(v, vo, vl)
            })
          }
        })
      }
      return x
    }
    case "counter":
      return { type: "counter" }
    case "ct":
      return { type: "ct", key: NFT_CT_KEYS[a[2] ?? 0] ?? "state", dreg: a[1] ?? 0 }
    case "log": {
      // NFTA_LOG_GROUP 1 (u16), PREFIX 2, LEVEL 5 (u32): a group or level left out would never converge
      const x: Expr = { type: "log" }
      if (at[2]) x.prefix = str(v, at[2][0], at[2][1])
      if (a[1] !== undefined) x.group = a[1]
      if (a[5] !== undefined) x.level = a[5]
      return x
    }
    case "limit": {
      const rate = at[1] ? u64(v, at[1][0], at[1][1]) : 0
      const unit = at[2] ? u64(v, at[2][0], at[2][1]) : 1
      const x: Expr = { type: "limit", rate, unit: UNITS[unit] ?? "second" }
      if (a[3]) x.burst = a[3]
      return x
    }
    case "reject":
      return {
        type: "reject",
        kind: REJECT_KINDS[a[1] ?? 2] ?? "icmpx",
        code: at[2] && at[2][1] > 0 ? v.getUint8(at[2][0]) : 0,
      }
    case "masq":
      return { type: "masq" }
    case "fib":
      return { type: "fib", result: fibResultName(a[2] ?? 1), flags: fibFlagNames(a[3] ?? 0), dreg: a[1] ?? 0 }
    case "nat": {
      const x: Expr = { type: "nat", nat: a[1] === 0 ? "snat" : "dnat", family: a[2] === 10 ? "ip6" : "ip" }
      if (a[3] !== undefined) x.addrReg = a[3]
      if (a[5] !== undefined) x.protoReg = a[5]
      if (a[7]) x.flags = a[7]
      return x
    }
    default:
      return { type: "unknown", name }
  }
}

/** NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA } … decoded into `out`. */
function decodeList(v: DataView, o: number, l: number, out: RawRule["exprs"]): void {
  each(v, o, o + l, (_lt, lo, ll) => {
    let name = ""
    let ds = -1
    let de = -1
    each(v, lo, lo + ll, (et, eo, el) => {
      if (et === 1) name = str(v, eo, el)
      else if (et === 2) {
        ds = eo
        de = eo + el
      }
    })
    out.push(
      ds < 0
        ? name === "counter"
          ? { type: "counter" }
          : name === "masq"
            ? { type: "masq" }
            : { type: "unknown", name }
        : decodeExprData(name, v, ds, de),
    )
  })
}

/** The expressions of a rule's NFTA_RULE_EXPRESSIONS payload (as kept in `RawRule.bytes`). */
export function decodeExprList(bytes: Uint8Array): RawRule["exprs"] {
  const out: RawRule["exprs"] = []
  decodeList(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.byteLength, out)
  return out
}

/** Decodes an NFT_MSG_NEWRULE message (`exprs: false`: keep the expression bytes only, decode them later). */
export function decodeRuleMessage(m: Message, opts: { exprs?: boolean } = {}): RawRule {
  requireHeader(m, 4, "nfgenmsg")
  const v = m.view
  const r: RawRule = { family: v.getUint8(m.payload), table: "", chain: "", handle: 0, exprs: [] }
  each(v, m.payload + 4, m.end, (t, o, l) => {
    switch (t) {
      case 1:
        r.table = str(v, o, l)
        break
      case 2:
        r.chain = str(v, o, l)
        break
      case 3:
        r.handle = u64(v, o, l)
        break
      case 4:
        // a view: the socket hands each datagram over as its own copy
        r.bytes = new Uint8Array(v.buffer, v.byteOffset + o, l)
        if (opts.exprs !== false) decodeList(v, o, l, r.exprs)
        break
      case 7:
        r.userdata = new Uint8Array(v.buffer, v.byteOffset + o, l).slice()
        break
    }
  })
  return r
}
