// Raw nf_tables expressions as typed values (the `{ expr: [...] }` form), their
// libnftnl encoding and decoding, and a normal form for comparing rules: registers
// renumbered in order of use, counter values dropped.
import { fromHex, toHex } from "@linx/netlink/wire"
import * as v from "valibot"
import {
  EXPR,
  FIB_FLAGS,
  FIB_RESULTS,
  fibFlagNames,
  fibResultName,
  LIMIT_UNITS,
  REJECT_KINDS,
  NFT_CMP_OPS,
  NFT_CT_KEYS,
  NFT_META_KEYS,
  NFT_PAYLOAD_BASES,
  NFT_RANGE_OPS,
  VERDICT_CODES,
} from "./wire/constants.ts"
import { type ExprView, NftExpr } from "./ffi/libnftnl.ts"

const Hex = v.pipe(v.string(), v.regex(/^([0-9a-f]{2})*$/, "data is hex bytes, e.g. 0a000001"))
const Reg = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(23))
const VerdictName = v.picklist(["accept", "drop", "return", "continue", "break", "jump", "goto"])

export const ExprSchema = v.variant("type", [
  v.strictObject({
    type: v.literal("payload"),
    base: v.picklist(NFT_PAYLOAD_BASES),
    offset: v.number(),
    len: v.number(),
    dreg: Reg,
  }),
  v.strictObject({ type: v.literal("meta"), key: v.picklist(NFT_META_KEYS), dreg: Reg }),
  v.strictObject({ type: v.literal("cmp"), sreg: Reg, op: v.picklist(NFT_CMP_OPS), data: Hex }),
  v.strictObject({ type: v.literal("range"), sreg: Reg, op: v.picklist(NFT_RANGE_OPS), from: Hex, to: Hex }),
  v.strictObject({ type: v.literal("bitwise"), sreg: Reg, dreg: Reg, len: v.number(), mask: Hex, xor: Hex }),
  v.strictObject({
    type: v.literal("lookup"),
    sreg: Reg,
    set: v.string(),
    /** a map lookup: where the value goes (0 = the verdict register for a verdict map) */
    dreg: v.optional(Reg),
    invert: v.optional(v.boolean()),
    /** an anonymous set ("{ 80, 443 }"): its key type and element keys (hex); the kernel names it */
    anon: v.optional(v.strictObject({ type: v.string(), elements: v.array(v.string()) })),
  }),
  v.strictObject({
    type: v.literal("immediate"),
    dreg: Reg,
    data: v.optional(Hex),
    verdict: v.optional(VerdictName),
    chain: v.optional(v.string()),
  }),
  v.strictObject({ type: v.literal("counter") }),
  v.strictObject({ type: v.literal("ct"), key: v.picklist(NFT_CT_KEYS), dreg: Reg }),
  v.strictObject({
    type: v.literal("log"),
    prefix: v.optional(v.string()),
    group: v.optional(v.number()),
    level: v.optional(v.number()),
  }),
  v.strictObject({
    type: v.literal("limit"),
    rate: v.number(),
    unit: v.picklist(["second", "minute", "hour", "day", "week"]),
    burst: v.optional(v.number()),
  }),
  v.strictObject({
    type: v.literal("reject"),
    kind: v.optional(v.picklist(["icmp", "tcp-reset", "icmpx"])),
    code: v.optional(v.number()),
  }),
  v.strictObject({ type: v.literal("masq") }),
  /** fib saddr . iif oif, fib daddr type: a FIB lookup (result oif, oifname or type) */
  v.strictObject({
    type: v.literal("fib"),
    result: v.picklist(["oif", "oifname", "type"]),
    flags: v.array(v.picklist(["saddr", "daddr", "mark", "iif", "oif", "present"])),
    dreg: Reg,
  }),
  v.strictObject({
    type: v.literal("nat"),
    nat: v.picklist(["snat", "dnat"]),
    family: v.picklist(["ip", "ip6"]),
    addrReg: v.optional(Reg),
    protoReg: v.optional(Reg),
    flags: v.optional(v.number()),
  }),
])

export type Expr = v.InferOutput<typeof ExprSchema>

const fibFlagBits = (flags: readonly string[]) =>
  flags.reduce((acc, f) => acc | (1 << FIB_FLAGS.indexOf(f as (typeof FIB_FLAGS)[number])), 0)
const UNITS: Readonly<Record<string, number>> = LIMIT_UNITS
const VERDICTS: Readonly<Record<string, number>> = VERDICT_CODES

export const hex = (b: Uint8Array | undefined): string => (b ? toHex(b) : "")
const bytes = fromHex

/** A typed expression as a libnftnl expression (ready for nftnl_rule_add_expr). */
export function encodeExpr(e: Expr, setIds?: WeakMap<object, number>): NftExpr {
  switch (e.type) {
    case "payload": {
      const a = EXPR.payload
      return new NftExpr("payload")
        .u32(a.DREG, e.dreg)
        .u32(a.BASE, NFT_PAYLOAD_BASES.indexOf(e.base))
        .u32(a.OFFSET, e.offset)
        .u32(a.LEN, e.len)
    }
    case "meta":
      return new NftExpr("meta").u32(EXPR.meta.KEY, NFT_META_KEYS.indexOf(e.key)).u32(EXPR.meta.DREG, e.dreg)
    case "cmp":
      return new NftExpr("cmp")
        .u32(EXPR.cmp.SREG, e.sreg)
        .u32(EXPR.cmp.OP, NFT_CMP_OPS.indexOf(e.op))
        .data(EXPR.cmp.DATA, bytes(e.data))
    case "range":
      return new NftExpr("range")
        .u32(EXPR.range.SREG, e.sreg)
        .u32(EXPR.range.OP, NFT_RANGE_OPS.indexOf(e.op))
        .data(EXPR.range.FROM, bytes(e.from))
        .data(EXPR.range.TO, bytes(e.to))
    case "bitwise": {
      const a = EXPR.bitwise
      return new NftExpr("bitwise")
        .u32(a.SREG, e.sreg)
        .u32(a.DREG, e.dreg)
        .u32(a.LEN, e.len)
        .data(a.MASK, bytes(e.mask))
        .data(a.XOR, bytes(e.xor))
    }
    case "lookup": {
      const x = new NftExpr("lookup").u32(EXPR.lookup.SREG, e.sreg).str(EXPR.lookup.SET, e.set)
      const id = setIds?.get(e)
      if (id !== undefined) x.u32(EXPR.lookup.SET_ID, id)
      if (e.dreg !== undefined) x.u32(EXPR.lookup.DREG, e.dreg)
      if (e.invert) x.u32(EXPR.lookup.FLAGS, 1)
      return x
    }
    case "immediate": {
      const x = new NftExpr("immediate").u32(EXPR.immediate.DREG, e.dreg)
      if (e.verdict !== undefined) x.u32(EXPR.immediate.VERDICT, VERDICTS[e.verdict]! >>> 0)
      if (e.chain !== undefined) x.str(EXPR.immediate.CHAIN, e.chain)
      if (e.data !== undefined) x.data(EXPR.immediate.DATA, bytes(e.data))
      return x
    }
    case "counter":
      return new NftExpr("counter").u64(EXPR.counter.PACKETS, 0n).u64(EXPR.counter.BYTES, 0n)
    case "ct":
      return new NftExpr("ct").u32(EXPR.ct.KEY, NFT_CT_KEYS.indexOf(e.key)).u32(EXPR.ct.DREG, e.dreg)
    case "log": {
      const x = new NftExpr("log")
      if (e.prefix !== undefined) x.str(EXPR.log.PREFIX, e.prefix)
      if (e.group !== undefined) x.u32(EXPR.log.GROUP, e.group)
      if (e.level !== undefined) x.u32(EXPR.log.LEVEL, e.level)
      return x
    }
    case "limit":
      // burst 5 is what nft and the kernel use when none is given
      return new NftExpr("limit")
        .u64(EXPR.limit.RATE, BigInt(e.rate))
        .u64(EXPR.limit.UNIT, BigInt(UNITS[e.unit]!))
        .u32(EXPR.limit.BURST, e.burst ?? 5)
        .u32(EXPR.limit.TYPE, 0)
    case "reject":
      return new NftExpr("reject")
        .u32(EXPR.reject.TYPE, REJECT_KINDS.indexOf(e.kind ?? "icmpx"))
        .u8(EXPR.reject.CODE, e.code ?? 0)
    case "masq":
      return new NftExpr("masq")
    case "fib":
      return new NftExpr("fib")
        .u32(EXPR.fib.DREG, e.dreg)
        .u32(EXPR.fib.RESULT, FIB_RESULTS.indexOf(e.result))
        .u32(EXPR.fib.FLAGS, fibFlagBits(e.flags))
    case "nat": {
      const a = EXPR.nat
      const x = new NftExpr("nat").u32(a.TYPE, e.nat === "snat" ? 0 : 1).u32(a.FAMILY, e.family === "ip" ? 2 : 10)
      if (e.addrReg !== undefined) x.u32(a.REG_ADDR_MIN, e.addrReg)
      if (e.protoReg !== undefined) x.u32(a.REG_PROTO_MIN, e.protoReg)
      if (e.flags) x.u32(a.FLAGS, e.flags)
      return x
    }
  }
}

/** A parsed expression as a typed value; unknown kinds keep their name only. */
export function decodeExpr(x: ExprView): Expr | { type: "unknown"; name: string } {
  const n = x.name
  switch (n) {
    case "payload": {
      const a = EXPR.payload
      return {
        type: "payload",
        base: NFT_PAYLOAD_BASES[x.u32or0(a.BASE)] ?? "network",
        offset: x.u32or0(a.OFFSET),
        len: x.u32or0(a.LEN),
        dreg: x.u32or0(a.DREG),
      }
    }
    case "meta":
      return { type: "meta", key: NFT_META_KEYS[x.u32or0(EXPR.meta.KEY)] ?? "len", dreg: x.u32or0(EXPR.meta.DREG) }
    case "cmp":
      return {
        type: "cmp",
        sreg: x.u32or0(EXPR.cmp.SREG),
        op: NFT_CMP_OPS[x.u32or0(EXPR.cmp.OP)] ?? "eq",
        data: x.hex(EXPR.cmp.DATA),
      }
    case "range":
      return {
        type: "range",
        sreg: x.u32(EXPR.range.SREG) ?? 0,
        op: NFT_RANGE_OPS[x.u32(EXPR.range.OP) ?? 0] ?? "eq",
        from: hex(x.data(EXPR.range.FROM)),
        to: hex(x.data(EXPR.range.TO)),
      }
    case "bitwise": {
      const a = EXPR.bitwise
      return {
        type: "bitwise",
        sreg: x.u32(a.SREG) ?? 0,
        dreg: x.u32(a.DREG) ?? 0,
        len: x.u32(a.LEN) ?? 0,
        mask: x.hex(a.MASK),
        xor: x.hex(a.XOR),
      }
    }
    case "lookup": {
      const e: Expr = { type: "lookup", sreg: x.u32(EXPR.lookup.SREG) ?? 0, set: x.str(EXPR.lookup.SET) ?? "" }
      const dreg = x.u32(EXPR.lookup.DREG)
      if (dreg !== undefined) e.dreg = dreg
      if ((x.u32(EXPR.lookup.FLAGS) ?? 0) & 1) e.invert = true
      return e
    }
    case "immediate": {
      const e: Expr = { type: "immediate", dreg: x.u32(EXPR.immediate.DREG) ?? 0 }
      const verdict = x.u32(EXPR.immediate.VERDICT)
      if (verdict !== undefined) {
        const code = verdict | 0
        const name = Object.keys(VERDICTS).find((k) => VERDICTS[k] === code)
        if (name) e.verdict = name as typeof e.verdict & string
      }
      const chain = x.str(EXPR.immediate.CHAIN)
      if (chain !== undefined) e.chain = chain
      const data = x.data(EXPR.immediate.DATA)
      if (data !== undefined && verdict === undefined) e.data = hex(data)
      return e
    }
    case "counter":
      return { type: "counter" }
    case "ct":
      return { type: "ct", key: NFT_CT_KEYS[x.u32(EXPR.ct.KEY) ?? 0] ?? "state", dreg: x.u32(EXPR.ct.DREG) ?? 0 }
    case "log": {
      const e: Expr = { type: "log" }
      const prefix = x.str(EXPR.log.PREFIX)
      if (prefix !== undefined) e.prefix = prefix
      return e
    }
    case "limit": {
      const unit = x.u64(EXPR.limit.UNIT) ?? 1
      const e: Expr = {
        type: "limit",
        rate: x.u64(EXPR.limit.RATE) ?? 0,
        unit: (Object.keys(UNITS).find((k) => UNITS[k] === unit) ?? "second") as "second",
      }
      const burst = x.u32(EXPR.limit.BURST)
      if (burst) e.burst = burst
      return e
    }
    case "reject":
      return {
        type: "reject",
        kind: REJECT_KINDS[x.u32(EXPR.reject.TYPE) ?? 2] ?? "icmpx",
        code: x.u8(EXPR.reject.CODE) ?? 0,
      }
    case "masq":
      return { type: "masq" }
    case "fib":
      return {
        type: "fib",
        result: fibResultName(x.u32or0(EXPR.fib.RESULT)),
        flags: fibFlagNames(x.u32or0(EXPR.fib.FLAGS)),
        dreg: x.u32or0(EXPR.fib.DREG),
      }
    case "nat": {
      const a = EXPR.nat
      const e: Expr = {
        type: "nat",
        nat: x.u32or0(a.TYPE) === 0 ? "snat" : "dnat",
        family: x.u32or0(a.FAMILY) === 10 ? "ip6" : "ip",
      }
      const addr = x.u32(a.REG_ADDR_MIN)
      if (addr !== undefined) e.addrReg = addr
      const proto = x.u32(a.REG_PROTO_MIN)
      if (proto !== undefined) e.protoReg = proto
      const flags = x.u32(a.FLAGS)
      if (flags) e.flags = flags
      return e
    }
    default:
      return { type: "unknown", name: n }
  }
}

const regMap = new Int16Array(32)

/**
 * A canonical text of an expression list for comparison: registers renumbered in
 * order of first use (nft may use 32-bit registers where we use NFT_REG_1; both mean
 * the same), counter values and comments left out. Hot: built for every observed rule.
 */
export function exprKey(list: readonly (Expr | { type: "unknown"; name: string })[]): string {
  regMap.fill(-1)
  regMap[0] = 0
  let next = 1
  const r = (n: number) => {
    const i = n & 31
    if (regMap[i] === -1) regMap[i] = next++
    return regMap[i]
  }
  let s = ""
  for (const e of list) {
    switch (e.type) {
      case "payload":
        s += `p${e.base},${e.offset},${e.len},${r(e.dreg)};`
        break
      case "meta":
        s += `m${e.key},${r(e.dreg)};`
        break
      case "cmp":
        s += `c${r(e.sreg)},${e.op},${e.data};`
        break
      case "range":
        s += `r${r(e.sreg)},${e.op},${e.from},${e.to};`
        break
      case "bitwise":
        s += `b${r(e.sreg)},${r(e.dreg)},${e.len},${e.mask},${e.xor};`
        break
      case "lookup":
        // an anonymous set compares by its contents, never by the name the kernel gave it
        s += `l${r(e.sreg)},${e.anon ? `{${e.anon.type}:${[...e.anon.elements].sort().join(",")}}` : e.set},${e.invert ? 1 : 0},${e.dreg === undefined ? "" : r(e.dreg)};`
        break
      case "immediate":
        s += `i${r(e.dreg)},${e.verdict ?? ""},${e.chain ?? ""},${e.data ?? ""};`
        break
      case "counter":
        s += "n;"
        break
      case "ct":
        s += `t${e.key},${r(e.dreg)};`
        break
      case "log":
        s += `g${JSON.stringify(e.prefix ?? "")},${e.group ?? ""},${e.level ?? ""};`
        break
      case "limit":
        s += `L${e.rate},${e.unit},${e.burst ?? 5};`
        break
      case "reject":
        s += `j${e.kind ?? "icmpx"},${e.code ?? 0};`
        break
      case "masq":
        s += "q;"
        break
      case "fib":
        s += `F${e.result},${[...e.flags].sort().join("|")},${r(e.dreg)};`
        break
      case "nat":
        // the kernel adds NF_NAT_RANGE_MAP_IPS (1) whenever an address is given
        s += `N${e.nat},${e.family},${e.addrReg === undefined ? "" : r(e.addrReg)},${e.protoReg === undefined ? "" : r(e.protoReg)},${(e.flags ?? 0) & ~1};`
        break
      case "unknown":
        s += `?${e.name};`
        break
    }
  }
  return s
}
