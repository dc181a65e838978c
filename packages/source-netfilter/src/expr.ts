// Raw nf_tables expressions as typed values (the `{ expr: [...] }` form), their
// libnftnl encoding and decoding, and a normal form for comparing rules: registers
// renumbered in order of use, counter values dropped.
import * as v from "valibot"
import { EXPR, NFT_BREAK, NFT_CMP_OPS, NFT_CONTINUE, NFT_CT_KEYS, NFT_GOTO, NFT_JUMP, NFT_META_KEYS, NFT_PAYLOAD_BASES, NFT_RANGE_OPS, NFT_RETURN, NF_ACCEPT, NF_DROP } from "./constants.ts"
import { type ExprView, NftExpr } from "./ffi/libnftnl.ts"


const Hex = v.pipe(v.string(), v.regex(/^([0-9a-f]{2})*$/, "data is hex bytes, e.g. 0a000001"))
const Reg = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(23))
const VerdictName = v.picklist(["accept", "drop", "return", "continue", "break", "jump", "goto"])

export const ExprSchema = v.variant("type", [
  v.strictObject({ type: v.literal("payload"), base: v.picklist(NFT_PAYLOAD_BASES), offset: v.number(), len: v.number(), dreg: Reg }),
  v.strictObject({ type: v.literal("meta"), key: v.picklist(NFT_META_KEYS), dreg: Reg }),
  v.strictObject({ type: v.literal("cmp"), sreg: Reg, op: v.picklist(NFT_CMP_OPS), data: Hex }),
  v.strictObject({ type: v.literal("range"), sreg: Reg, op: v.picklist(NFT_RANGE_OPS), from: Hex, to: Hex }),
  v.strictObject({ type: v.literal("bitwise"), sreg: Reg, dreg: Reg, len: v.number(), mask: Hex, xor: Hex }),
  v.strictObject({ type: v.literal("lookup"), sreg: Reg, set: v.string(), invert: v.optional(v.boolean()) }),
  v.strictObject({ type: v.literal("immediate"), dreg: Reg, data: v.optional(Hex), verdict: v.optional(VerdictName), chain: v.optional(v.string()) }),
  v.strictObject({ type: v.literal("counter") }),
  v.strictObject({ type: v.literal("ct"), key: v.picklist(NFT_CT_KEYS), dreg: Reg }),
  v.strictObject({ type: v.literal("log"), prefix: v.optional(v.string()), group: v.optional(v.number()), level: v.optional(v.number()) }),
  v.strictObject({ type: v.literal("limit"), rate: v.number(), unit: v.picklist(["second", "minute", "hour", "day", "week"]), burst: v.optional(v.number()) }),
  v.strictObject({ type: v.literal("reject"), kind: v.optional(v.picklist(["icmp", "tcp-reset", "icmpx"])), code: v.optional(v.number()) }),
  v.strictObject({ type: v.literal("masq") }),
])

export type Expr = v.InferOutput<typeof ExprSchema>

const UNITS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 }
const VERDICTS: Record<string, number> = { accept: NF_ACCEPT, drop: NF_DROP, return: NFT_RETURN, continue: NFT_CONTINUE, break: NFT_BREAK, jump: NFT_JUMP, goto: NFT_GOTO }
const REJECT_KINDS = ["icmp", "tcp-reset", "icmpx"] as const

export const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString("hex") : "")
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"))

/** A typed expression as a libnftnl expression (ready for nftnl_rule_add_expr). */
export function encodeExpr(e: Expr): NftExpr {
  switch (e.type) {
    case "payload": {
      const a = EXPR.payload
      return new NftExpr("payload").u32(a.DREG, e.dreg).u32(a.BASE, NFT_PAYLOAD_BASES.indexOf(e.base)).u32(a.OFFSET, e.offset).u32(a.LEN, e.len)
    }
    case "meta":
      return new NftExpr("meta").u32(EXPR.meta.KEY, NFT_META_KEYS.indexOf(e.key)).u32(EXPR.meta.DREG, e.dreg)
    case "cmp":
      return new NftExpr("cmp").u32(EXPR.cmp.SREG, e.sreg).u32(EXPR.cmp.OP, NFT_CMP_OPS.indexOf(e.op)).data(EXPR.cmp.DATA, bytes(e.data))
    case "range":
      return new NftExpr("range").u32(EXPR.range.SREG, e.sreg).u32(EXPR.range.OP, NFT_RANGE_OPS.indexOf(e.op)).data(EXPR.range.FROM, bytes(e.from)).data(EXPR.range.TO, bytes(e.to))
    case "bitwise": {
      const a = EXPR.bitwise
      return new NftExpr("bitwise").u32(a.SREG, e.sreg).u32(a.DREG, e.dreg).u32(a.LEN, e.len).data(a.MASK, bytes(e.mask)).data(a.XOR, bytes(e.xor))
    }
    case "lookup": {
      const x = new NftExpr("lookup").u32(EXPR.lookup.SREG, e.sreg).str(EXPR.lookup.SET, e.set)
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
      return new NftExpr("limit").u64(EXPR.limit.RATE, BigInt(e.rate)).u64(EXPR.limit.UNIT, BigInt(UNITS[e.unit]!)).u32(EXPR.limit.BURST, e.burst ?? 5).u32(EXPR.limit.TYPE, 0)
    case "reject":
      return new NftExpr("reject").u32(EXPR.reject.TYPE, REJECT_KINDS.indexOf(e.kind ?? "icmpx")).u8(EXPR.reject.CODE, e.code ?? 0)
    case "masq":
      return new NftExpr("masq")
  }
}

/** A parsed expression as a typed value; unknown kinds keep their name only. */
export function decodeExpr(x: ExprView): Expr | { type: "unknown"; name: string } {
  const n = x.name
  switch (n) {
    case "payload": {
      const a = EXPR.payload
      return { type: "payload", base: NFT_PAYLOAD_BASES[x.u32(a.BASE) ?? 0] ?? "network", offset: x.u32(a.OFFSET) ?? 0, len: x.u32(a.LEN) ?? 0, dreg: x.u32(a.DREG) ?? 0 }
    }
    case "meta":
      return { type: "meta", key: NFT_META_KEYS[x.u32(EXPR.meta.KEY) ?? 0] ?? "len", dreg: x.u32(EXPR.meta.DREG) ?? 0 }
    case "cmp":
      return { type: "cmp", sreg: x.u32(EXPR.cmp.SREG) ?? 0, op: NFT_CMP_OPS[x.u32(EXPR.cmp.OP) ?? 0] ?? "eq", data: hex(x.data(EXPR.cmp.DATA)) }
    case "range":
      return { type: "range", sreg: x.u32(EXPR.range.SREG) ?? 0, op: NFT_RANGE_OPS[x.u32(EXPR.range.OP) ?? 0] ?? "eq", from: hex(x.data(EXPR.range.FROM)), to: hex(x.data(EXPR.range.TO)) }
    case "bitwise": {
      const a = EXPR.bitwise
      return { type: "bitwise", sreg: x.u32(a.SREG) ?? 0, dreg: x.u32(a.DREG) ?? 0, len: x.u32(a.LEN) ?? 0, mask: hex(x.data(a.MASK)), xor: hex(x.data(a.XOR)) }
    }
    case "lookup": {
      const e: Expr = { type: "lookup", sreg: x.u32(EXPR.lookup.SREG) ?? 0, set: x.str(EXPR.lookup.SET) ?? "" }
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
      const e: Expr = { type: "limit", rate: x.u64(EXPR.limit.RATE) ?? 0, unit: (Object.keys(UNITS).find((k) => UNITS[k] === unit) ?? "second") as "second" }
      const burst = x.u32(EXPR.limit.BURST)
      if (burst) e.burst = burst
      return e
    }
    case "reject":
      return { type: "reject", kind: REJECT_KINDS[x.u32(EXPR.reject.TYPE) ?? 2] ?? "icmpx", code: x.u8(EXPR.reject.CODE) ?? 0 }
    case "masq":
      return { type: "masq" }
    default:
      return { type: "unknown", name: n }
  }
}

/**
 * A canonical text of an expression list for comparison: registers renumbered in
 * order of first use (nft uses 32-bit registers, we use NFT_REG_1; both mean the same).
 */
export function exprKey(list: readonly (Expr | { type: "unknown"; name: string })[]): string {
  const regs = new Map<number, number>([[0, 0]])
  const r = (n: number) => {
    if (!regs.has(n)) regs.set(n, regs.size)
    return regs.get(n)!
  }
  return JSON.stringify(
    list.map((e) => {
      const c: Record<string, unknown> = { ...e }
      for (const k of ["dreg", "sreg"]) if (typeof c[k] === "number") c[k] = r(c[k] as number)
      if (c.type === "limit") c.burst ??= 5
      return Object.keys(c)
        .sort()
        .map((k) => [k, c[k]])
    }),
  )
}
