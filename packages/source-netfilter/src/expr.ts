// Raw nf_tables expressions as typed values (the `{ expr: [...] }` form) and a normal
// form for comparing rules: registers renumbered in order of use, counter values
// dropped. Their libnftnl encoding and decoding is wire/expr.ts.
import * as v from "valibot"
import { SET_TYPES } from "./elements.ts"
import { NFT_CMP_OPS, NFT_CT_KEYS, NFT_META_KEYS, NFT_PAYLOAD_BASES, NFT_RANGE_OPS } from "./wire/constants.ts"

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
    anon: v.optional(
      v.strictObject({
        type: v.pipe(
          v.string(),
          v.check(
            (t) => t in SET_TYPES || /^\d+\/\d+$/.test(t),
            (i) =>
              `anonymous set type ${JSON.stringify(i.input)}: a datatype (${Object.keys(SET_TYPES).join(", ")}) or "id/len"`,
          ),
        ),
        elements: v.array(Hex),
      }),
    ),
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
    prefix: v.optional(v.pipe(v.string(), v.maxLength(127, "a log prefix is at most 127 bytes"))),
    /** nflog group (log to userspace); not with level */
    group: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535))),
    /** syslog level 0–7 (8: audit); not with group */
    level: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8))),
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

/**
 * A canonical text of an expression list for comparison: registers renumbered in
 * order of first use (nft may use 32-bit registers where we use NFT_REG_1; both mean
 * the same), counter values and comments left out. Hot: built for every observed rule.
 */
export function exprKey(list: readonly (Expr | { type: "unknown"; name: string })[]): string {
  const regMap = new Int16Array(32).fill(-1)
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
