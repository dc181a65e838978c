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

/**
 * Decodes expressions to the common form when they are exactly what compileRule makes
 * for it (compared in normal form); otherwise undefined (the rule stays raw).
 */
export function decodeRule(
  exprs: readonly Expr[],
  family: string,
  key: string = exprKey(exprs),
): CommonRule | undefined {
  const concat = findConcat(exprs, family)
  if (concat) {
    const rest = decodeRule([...exprs.slice(0, concat.start), ...exprs.slice(concat.end)], family)
    if (!rest) return undefined
    const r: CommonRule = { ...rest, match: { ...(rest.match ?? {}), concat: { keys: concat.keys, set: concat.set } } }
    if (r.verdict === undefined) delete r.verdict
    return exprKey(compileRule(r, family)) === key ? r : undefined
  }
  const tail = mapVerdictTail(exprs, family)
  if (tail) {
    const head = tail.start ? decodeRule(exprs.slice(0, tail.start), family) : {}
    if (!head || head.verdict) return undefined
    const r: CommonRule = { ...head, verdict: tail.verdict }
    return exprKey(compileRule(r, family)) === key ? r : undefined
  }
  const r: CommonRule = {}
  const m: Match = {}
  let i = 0
  const at = (k: number) => exprs[k]
  const isLoad = (e: Expr | undefined, key: string): boolean => e?.type === "meta" && e.key === key
  while (i < exprs.length) {
    const e = at(i)!
    const next = at(i + 1)
    if (e.type === "ct" && e.key === "state" && next?.type === "bitwise" && at(i + 2)?.type === "cmp") {
      const bits = fromHex(next.mask).reduce((acc, b, k) => acc | (b << (8 * k)), 0)
      m.ct = { state: Object.keys(CT_STATE_BITS).filter((s) => bits & CT_STATE_BITS[s]!) }
      i += 3
    } else if ((isLoad(e, "iifname") || isLoad(e, "oifname")) && next?.type === "cmp") {
      const name = Buffer.from(next.data, "hex").toString().replace(/\0+$/, "")
      if (e.type === "meta" && e.key === "iifname") m.iifname = name
      else m.oifname = name
      i += 2
    } else if (isLoad(e, "nfproto") && next?.type === "cmp") {
      i += 2 // a guard: re-created by compiling what follows
    } else if (e.type === "payload" && e.base === "network" && next) {
      const v4 = [12, 16].includes(e.offset) && e.len <= 4
      const proto: "ip" | "ip6" = v4 ? "ip" : "ip6"
      const field = e.offset === 12 || e.offset === 8 ? "saddr" : "daddr"
      let addr: string
      if (next.type === "lookup" && !next.invert && next.anon) {
        const list = next.anon.elements.map((k) => addrText(fromHex(k), proto === "ip" ? 32 : 128, proto))
        m[proto] = { ...(m[proto] ?? {}), [field]: list }
        i += 2
        continue
      }
      if (next.type === "lookup" && !next.invert) {
        addr = `@${next.set}`
        i += 2
      } else if (next.type === "bitwise" && at(i + 2)?.type === "cmp") {
        const mask = fromHex(next.mask)
        const len = mask.reduce((acc, b) => acc + b.toString(2).replace(/0/g, "").length, 0)
        addr = addrText(fromHex((at(i + 2) as { data: string }).data), len, proto)
        i += 3
      } else if (next.type === "cmp") {
        addr = addrText(fromHex(next.data), e.len * 8, proto)
        i += 2
      } else return undefined
      m[proto] = { ...(m[proto] ?? {}), [field]: addr }
    } else if (isLoad(e, "l4proto") && next?.type === "cmp") {
      const n = fromHex(next.data)[0]!
      const name = Object.keys(PROTO).find((k) => PROTO[k] === n)
      const after = at(i + 2)
      if ((name === "tcp" || name === "udp") && after?.type === "payload" && after.base === "transport") {
        const ports: { sport?: number | string | number[]; dport?: number | string | number[] } = {}
        i += 2
        while (at(i)?.type === "payload" && (at(i) as { base: string }).base === "transport") {
          const load = at(i) as { offset: number }
          const field = load.offset === 0 ? "sport" : "dport"
          const c1 = at(i + 1)
          const c2 = at(i + 2)
          if (c1?.type === "lookup" && !c1.invert && c1.anon) {
            ports[field] = c1.anon.elements.map((k) => parseInt(k, 16))
            i += 2
          } else if (c1?.type === "lookup" && !c1.invert) {
            ports[field] = `@${c1.set}`
            i += 2
          } else if (c1?.type === "cmp" && c1.op === "gte" && c2?.type === "cmp" && c2.op === "lte") {
            ports[field] = `${parseInt(c1.data, 16)}-${parseInt(c2.data, 16)}`
            i += 3
          } else if (c1?.type === "cmp" && c1.op === "eq") {
            ports[field] = parseInt(c1.data, 16)
            i += 2
          } else return undefined
        }
        m[name] = ports
      } else {
        m.meta = { l4proto: name ?? n }
        i += 2
      }
    } else if (e.type === "counter") {
      r.counter = true
      i++
    } else if (e.type === "immediate" && e.dreg === 0 && i === exprs.length - 1) {
      if (e.verdict === "jump" && e.chain) r.verdict = { jump: e.chain }
      else if (e.verdict === "goto" && e.chain) r.verdict = { goto: e.chain }
      else if (e.verdict === "accept" || e.verdict === "drop" || e.verdict === "return" || e.verdict === "continue")
        r.verdict = e.verdict
      else return undefined
      i++
    } else if (e.type === "immediate" && e.dreg !== 0 && e.data !== undefined) {
      // NAT: immediate address [immediate port] nat, at the end
      const port = at(i + 1)?.type === "immediate" ? (at(i + 1) as { data?: string }).data : undefined
      const nat = at(i + (port !== undefined ? 2 : 1))
      if (nat?.type !== "nat" || i + (port !== undefined ? 3 : 2) !== exprs.length) return undefined
      const addr = addrText(fromHex(e.data), nat.family === "ip" ? 32 : 128, nat.family)
      const target = port !== undefined ? `${nat.family === "ip6" ? `[${addr}]` : addr}:${parseInt(port, 16)}` : addr
      r.verdict = nat.nat === "snat" ? { snat: target } : { dnat: target }
      i = exprs.length
    } else if (e.type === "masq" && i === exprs.length - 1) {
      r.verdict = "masquerade"
      i++
    } else if (e.type === "reject" && i === exprs.length - 1) {
      r.verdict = "reject"
      i++
    } else return undefined
  }
  if (Object.keys(m).length) r.match = m
  // only when it compiles back to exactly these expressions
  return exprKey(compileRule(r, family)) === key ? r : undefined
}
