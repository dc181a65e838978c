// Observed expressions decoded back to the common form when they are exactly what
// compileRule makes for it; otherwise the rule stays raw.
import { formatIp } from "@linx/netlink/ip"
import { fromHex as bytesOf } from "@linx/netlink/wire"
import { CT_STATE_BITS } from "./wire/constants.ts"
import { type Expr, exprKey } from "./expr.ts"
import { compileRule, concatExprs, keyLoad } from "./rule-compile.ts"
import { type CommonRule, MAP_KEYS, type Match, PROTO, type Verdict } from "./rule-schema.ts"

const fromHex = (s: string): number[] => [...bytesOf(s)]

function addrText(bytes: number[], len: number, proto: "ip" | "ip6"): string {
  const full = proto === "ip" ? 4 : 16
  const b = [...bytes, ...new Array<number>(Math.max(0, full - bytes.length)).fill(0)].slice(0, full)
  const text = formatIp(new Uint8Array(b))
  return len === full * 8 ? text : `${text}/${len}`
}

/** A map verdict at the end of a rule: [key load][lookup with dreg][nat]; returns the verdict and where it starts. */
function mapVerdictTail(exprs: readonly Expr[], family: string): { verdict: Verdict; start: number } | undefined {
  const last = exprs[exprs.length - 1]
  const nat = last?.type === "nat" ? last : undefined
  const li = exprs.length - (nat ? 2 : 1)
  const lookup = exprs[li]
  if (lookup?.type !== "lookup" || lookup.dreg === undefined || lookup.invert) return undefined
  for (const k of MAP_KEYS) {
    const load = keyLoad(k, family)
    const start = li - load.length
    if (start < 0) continue
    if (exprKey(exprs.slice(start, li)) !== exprKey(load)) continue
    if (!nat && lookup.dreg === 0) return { verdict: { vmap: `@${lookup.set}`, key: k }, start }
    if (nat && lookup.dreg !== 0) {
      const v = { [nat.nat]: `@${lookup.set}`, key: k } as Verdict & { family?: "ip" | "ip6" }
      if (nat.family !== (family === "ip6" ? "ip6" : "ip")) v.family = nat.family
      return { verdict: v, start }
    }
  }
  return undefined
}

/** Finds "guards, loads, lookup" of a concatenation in the rule and the keys it loads. */
function findConcat(
  exprs: readonly Expr[],
  family: string,
): { start: number; end: number; keys: (typeof MAP_KEYS)[number][]; set: string } | undefined {
  for (let li = 0; li < exprs.length; li++) {
    const lookup = exprs[li]!
    if (lookup.type !== "lookup" || lookup.dreg !== undefined || lookup.anon || lookup.invert) continue
    let first = li
    // the loads sit right before the lookup; the guards before them end with a cmp
    while (first > 0 && (exprs[first - 1]!.type === "payload" || exprs[first - 1]!.type === "meta")) first--
    const loads = exprs.slice(first, li)
    if (loads.length < 2) continue
    // which keys: from the loads, and tcp/udp from the l4proto guard before them
    const guardData = exprs
      .slice(0, first)
      .filter((e) => e.type === "cmp")
      .map((e) => (e as { data: string }).data)
    const l4 = guardData.includes("11") ? "udp" : "tcp"
    const keys: (typeof MAP_KEYS)[number][] = []
    for (const e of loads) {
      if (e.type === "meta") keys.push(e.key === "l4proto" ? "meta l4proto" : (e.key as "iifname" | "oifname"))
      else if (e.type === "payload" && e.base === "network")
        keys.push(
          e.len === 4 ? (e.offset === 12 ? "ip saddr" : "ip daddr") : e.offset === 8 ? "ip6 saddr" : "ip6 daddr",
        )
      else if (e.type === "payload" && e.base === "transport")
        keys.push(`${l4} ${e.offset === 0 ? "sport" : "dport"}` as (typeof MAP_KEYS)[number])
      else break
    }
    if (keys.length !== loads.length) continue
    const compiled = concatExprs(keys, `@${lookup.set}`, family)
    const start = li + 1 - compiled.length
    if (start < 0 || exprKey(exprs.slice(start, li + 1)) !== exprKey(compiled)) continue
    return { start, end: li + 1, keys, set: `@${lookup.set}` }
  }
  return undefined
}

/** What one reader makes of the expressions at an index. */
interface Reading {
  exprs: readonly Expr[]
  rule: CommonRule
  match: Match
}
/**
 * A reader recognises one shape of compileRule's output at index i: it returns how
 * many expressions it consumed, 0 when the shape is not its own, or -1 when it is its
 * own but not something compileRule makes (the rule stays raw).
 */
type Reader = (x: Reading, i: number) => number

const isLoad = (e: Expr | undefined, key: string): boolean => e?.type === "meta" && e.key === key

const readCtState: Reader = ({ exprs, match }, i) => {
  const [e, mask, cmp] = [exprs[i], exprs[i + 1], exprs[i + 2]]
  if (e?.type !== "ct" || e.key !== "state" || mask?.type !== "bitwise" || cmp?.type !== "cmp") return 0
  const bits = fromHex(mask.mask).reduce((acc, b, k) => acc | (b << (8 * k)), 0)
  match.ct = { state: Object.keys(CT_STATE_BITS).filter((s) => bits & CT_STATE_BITS[s]!) }
  return 3
}

const readIfname: Reader = ({ exprs, match }, i) => {
  const [e, cmp] = [exprs[i], exprs[i + 1]]
  if (!(isLoad(e, "iifname") || isLoad(e, "oifname")) || cmp?.type !== "cmp") return 0
  const name = Buffer.from(cmp.data, "hex").toString().replace(/\0+$/, "")
  if (isLoad(e, "iifname")) match.iifname = name
  else match.oifname = name
  return 2
}

/** a family guard: re-created by compiling what follows */
const readGuard: Reader = ({ exprs }, i) =>
  (isLoad(exprs[i], "nfproto") || isLoad(exprs[i], "protocol")) && exprs[i + 1]?.type === "cmp" ? 2 : 0

const readAddress: Reader = ({ exprs, match }, i) => {
  const [e, next, after] = [exprs[i], exprs[i + 1], exprs[i + 2]]
  if (e?.type !== "payload" || e.base !== "network" || !next) return 0
  const proto: "ip" | "ip6" = [12, 16].includes(e.offset) && e.len <= 4 ? "ip" : "ip6"
  const field = e.offset === 12 || e.offset === 8 ? "saddr" : "daddr"
  const bits = proto === "ip" ? 32 : 128
  const set = (value: string | string[], n: number) => {
    match[proto] = { ...(match[proto] ?? {}), [field]: value }
    return n
  }
  if (next.type === "lookup" && !next.invert && next.anon)
    return set(
      next.anon.elements.map((k) => addrText(fromHex(k), bits, proto)),
      2,
    )
  if (next.type === "lookup" && !next.invert) return set(`@${next.set}`, 2)
  if (next.type === "bitwise" && after?.type === "cmp") {
    const len = fromHex(next.mask).reduce((acc, b) => acc + b.toString(2).replace(/0/g, "").length, 0)
    return set(addrText(fromHex(after.data), len, proto), 3)
  }
  if (next.type === "cmp") return set(addrText(fromHex(next.data), e.len * 8, proto), 2)
  return -1
}

/** One port match after a transport payload load: [value, consumed] or undefined. */
function readPort(exprs: readonly Expr[], i: number): [number | string | number[], number] | undefined {
  const [c1, c2] = [exprs[i + 1], exprs[i + 2]]
  if (c1?.type === "lookup" && !c1.invert && c1.anon) return [c1.anon.elements.map((k) => parseInt(k, 16)), 2]
  if (c1?.type === "lookup" && !c1.invert) return [`@${c1.set}`, 2]
  if (c1?.type === "cmp" && c1.op === "gte" && c2?.type === "cmp" && c2.op === "lte")
    return [`${parseInt(c1.data, 16)}-${parseInt(c2.data, 16)}`, 3]
  if (c1?.type === "cmp" && c1.op === "eq") return [parseInt(c1.data, 16), 2]
  return undefined
}

const isTransportLoad = (e: Expr | undefined): e is Extract<Expr, { type: "payload" }> =>
  e?.type === "payload" && e.base === "transport"

const readL4: Reader = ({ exprs, match }, i) => {
  const [e, cmp] = [exprs[i], exprs[i + 1]]
  if (!isLoad(e, "l4proto") || cmp?.type !== "cmp") return 0
  const n = fromHex(cmp.data)[0]!
  const name = Object.keys(PROTO).find((k) => PROTO[k] === n)
  if ((name !== "tcp" && name !== "udp") || !isTransportLoad(exprs[i + 2])) {
    match.meta = { l4proto: name ?? n }
    return 2
  }
  const ports: { sport?: number | string | number[]; dport?: number | string | number[] } = {}
  let k = i + 2
  for (let load = exprs[k]; isTransportLoad(load); load = exprs[k]) {
    const port = readPort(exprs, k)
    if (!port) return -1
    ports[load.offset === 0 ? "sport" : "dport"] = port[0]
    k += port[1]
  }
  match[name] = ports
  return k - i
}

const readCounter: Reader = ({ exprs, rule }, i) => {
  if (exprs[i]?.type !== "counter") return 0
  rule.counter = true
  return 1
}

/** the final verdict: accept, drop, return, continue, jump, goto, masquerade, reject */
const readVerdict: Reader = ({ exprs, rule }, i) => {
  const e = exprs[i]
  if (i !== exprs.length - 1) return 0
  if (e?.type === "masq") rule.verdict = "masquerade"
  else if (e?.type === "reject") rule.verdict = "reject"
  else if (e?.type !== "immediate" || e.dreg !== 0) return 0
  else if (e.verdict === "jump" && e.chain) rule.verdict = { jump: e.chain }
  else if (e.verdict === "goto" && e.chain) rule.verdict = { goto: e.chain }
  else if (e.verdict === "accept" || e.verdict === "drop" || e.verdict === "return" || e.verdict === "continue")
    rule.verdict = e.verdict
  else return -1
  return 1
}

/** NAT: immediate address [immediate port] nat, at the end */
const readNat: Reader = ({ exprs, rule }, i) => {
  const e = exprs[i]
  if (e?.type !== "immediate" || e.dreg === 0 || e.data === undefined) return 0
  const next = exprs[i + 1]
  const port = next?.type === "immediate" ? next.data : undefined
  const nat = exprs[i + (port !== undefined ? 2 : 1)]
  if (nat?.type !== "nat" || i + (port !== undefined ? 3 : 2) !== exprs.length) return -1
  const addr = addrText(fromHex(e.data), nat.family === "ip" ? 32 : 128, nat.family)
  const target = port !== undefined ? `${nat.family === "ip6" ? `[${addr}]` : addr}:${parseInt(port, 16)}` : addr
  rule.verdict = nat.nat === "snat" ? { snat: target } : { dnat: target }
  return exprs.length - i
}

const READERS: readonly Reader[] = [
  readCtState,
  readIfname,
  readGuard,
  readAddress,
  readL4,
  readCounter,
  readVerdict,
  readNat,
]

/** The plain rule (no concatenation, no verdict map): each expression read by one reader. */
function readPlain(exprs: readonly Expr[]): CommonRule | undefined {
  const x: Reading = { exprs, rule: {}, match: {} }
  for (let i = 0; i < exprs.length; ) {
    let n = 0
    for (const read of READERS) {
      n = read(x, i)
      if (n !== 0) break
    }
    if (n <= 0) return undefined
    i += n
  }
  if (Object.keys(x.match).length) x.rule.match = x.match
  return x.rule
}

/**
 * Decodes expressions to the common form when they are exactly what compileRule makes
 * for it (compared in normal form); otherwise undefined (the rule stays raw).
 */
export function decodeRule(
  exprs: readonly Expr[],
  family: string,
  key: string = exprKey(exprs),
): CommonRule | undefined {
  let r: CommonRule | undefined
  const concat = findConcat(exprs, family)
  const tail = concat ? undefined : mapVerdictTail(exprs, family)
  if (concat) {
    const rest = decodeRule([...exprs.slice(0, concat.start), ...exprs.slice(concat.end)], family)
    if (!rest) return undefined
    r = { ...rest, match: { ...(rest.match ?? {}), concat: { keys: concat.keys, set: concat.set } } }
    if (r.verdict === undefined) delete r.verdict
  } else if (tail) {
    const head = tail.start ? decodeRule(exprs.slice(0, tail.start), family) : {}
    if (!head || head.verdict) return undefined
    r = { ...head, verdict: tail.verdict }
  } else r = readPlain(exprs)
  // only when it compiles back to exactly these expressions
  return r && exprKey(compileRule(r, family)) === key ? r : undefined
}
