// The libnftnl encoding and decoding of typed expressions (expr.ts): one case per
// expression kind, attribute numbers from constants.ts.
import { fromHex, toHex } from "@linx/netlink/wire"
import type { Expr } from "../expr.ts"
import { type ExprView, NftExpr } from "../ffi/libnftnl.ts"
import {
  EXPR,
  FIB_FLAGS,
  FIB_RESULTS,
  fibFlagNames,
  fibResultName,
  LIMIT_UNITS,
  NFT_CMP_OPS,
  NFT_CT_KEYS,
  NFT_META_KEYS,
  NFT_PAYLOAD_BASES,
  NFT_RANGE_OPS,
  REJECT_KINDS,
  VERDICT_CODES,
} from "./constants.ts"

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
      if (e.group !== undefined) x.u16(EXPR.log.GROUP, e.group) // NFTA_LOG_GROUP is 16 bits
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
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: hand-tuned wire decoder, one flat case per expression kind
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
      const group = x.u16(EXPR.log.GROUP)
      if (group !== undefined) e.group = group
      const level = x.u32(EXPR.log.LEVEL)
      if (level !== undefined) e.level = level
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
