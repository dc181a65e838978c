// The common rule form: `{ match, counter, verdict, comment }`, compiled to the very
// expressions `nft` generates (protocol guards included), and observed expressions
// decoded back when they are exactly what this compiles.
import { formatIp, isNetworkAddress, parsePrefix } from "@linx/netlink"
import * as v from "valibot"
import { CT_STATE_BITS, NFPROTO_IPV4, NFPROTO_IPV6 } from "./constants.ts"
import { type Expr, exprKey } from "./expr.ts"

const PROTO: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, gre: 47 }

/** "10.0.0.0/8" → bytes and prefix length, for the family. */
export function parseAddr(s: string, family: "ip" | "ip6"): { bytes: number[]; len: number } | undefined {
  const p = parsePrefix(s)
  if (!p || p.family !== (family === "ip" ? "inet" : "inet6") || !isNetworkAddress(p)) return undefined
  return { bytes: [...p.bytes], len: p.prefixLen }
}

const SetRef = /^@[A-Za-z0-9_.\-]+$/
const Addr4 = v.pipe(v.string(), v.check((s) => SetRef.test(s) || parseAddr(s, "ip") !== undefined, (i) => `"${i.input}" is not an IPv4 address, network (host bits must be zero) or @set`))
const Addr6 = v.pipe(v.string(), v.check((s) => SetRef.test(s) || parseAddr(s, "ip6") !== undefined, (i) => `"${i.input}" is not an IPv6 address, network (host bits must be zero) or @set`))
const Port = v.union(
  [
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)),
    v.pipe(
      v.string(),
      v.regex(/^(\d{1,5}-\d{1,5}|@[A-Za-z0-9_.\-]+)$/, 'a port is a number, a range "1000-2000" or a @set'),
      v.check((s) => {
        if (s.startsWith("@")) return true
        const [a, b] = s.split("-").map(Number)
        return a! <= b! && b! <= 65535
      }, "a port range goes from low to high, up to 65535"),
    ),
  ],
  'a port is a number, a range "1000-2000" or a @set',
)
const Addr4List = v.pipe(v.array(v.pipe(v.string(), v.check((s) => { const a = parseAddr(s, "ip"); return !!a && a.len === 32 }, (i) => `"${i.input}" is not an IPv4 address (networks in a list need a named interval set)`))), v.minLength(1))
const Addr6List = v.pipe(v.array(v.pipe(v.string(), v.check((s) => { const a = parseAddr(s, "ip6"); return !!a && a.len === 128 }, (i) => `"${i.input}" is not an IPv6 address (networks in a list need a named interval set)`))), v.minLength(1))
const PortList = v.pipe(v.array(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535))), v.minLength(1))
const MAP_KEYS_LIST = ["ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr", "tcp sport", "tcp dport", "udp sport", "udp dport", "iifname", "oifname", "meta l4proto"] as const
const IfName = v.pipe(v.string(), v.minLength(1), v.maxLength(15, "an interface name has at most 15 characters"))

export const MatchSchema = v.strictObject({
  meta: v.optional(v.strictObject({ l4proto: v.optional(v.union([v.picklist(Object.keys(PROTO) as [string, ...string[]]), v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255))])) })),
  iifname: v.optional(IfName),
  oifname: v.optional(IfName),
  ip: v.optional(v.strictObject({ saddr: v.optional(v.union([Addr4, Addr4List])), daddr: v.optional(v.union([Addr4, Addr4List])) })),
  ip6: v.optional(v.strictObject({ saddr: v.optional(v.union([Addr6, Addr6List])), daddr: v.optional(v.union([Addr6, Addr6List])) })),
  tcp: v.optional(v.strictObject({ sport: v.optional(v.union([Port, PortList])), dport: v.optional(v.union([Port, PortList])) })),
  udp: v.optional(v.strictObject({ sport: v.optional(v.union([Port, PortList])), dport: v.optional(v.union([Port, PortList])) })),
  /** ip saddr . tcp dport @s: a concatenation looked up in a set whose type concatenates the same */
  concat: v.optional(v.strictObject({ keys: v.pipe(v.array(v.picklist(MAP_KEYS_LIST)), v.minLength(2, "a concatenation has at least two keys"), v.maxLength(8)), set: v.pipe(v.string(), v.regex(/^@[A-Za-z0-9_.\-]+$/, 'the set is "@name"')) })),
  ct: v.optional(v.strictObject({ state: v.optional(v.pipe(v.array(v.picklist(Object.keys(CT_STATE_BITS) as [string, ...string[]])), v.minLength(1))) })),
})

const NatTarget = v.pipe(
  v.string(),
  v.check((s) => parseNatTarget(s) !== undefined, (i) => `"${i.input}" is not an address, "address:port" or "[ipv6]:port"`),
)

/** "10.0.0.2", "10.0.0.2:8080", "fd00::2", "[fd00::2]:8080" */
export function parseNatTarget(s: string): { proto: "ip" | "ip6"; addr: number[]; port?: number } | undefined {
  const m6 = /^\[([0-9a-fA-F:]+)\](?::(\d{1,5}))?$/.exec(s)
  const m4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(s)
  const [proto, addrText, portText] = m6 ? (["ip6", m6[1], m6[2]] as const) : m4 ? (["ip", m4[1], m4[2]] as const) : s.includes(":") ? (["ip6", s, undefined] as const) : ([undefined, undefined, undefined] as const)
  if (!proto || !addrText) return undefined
  const a = parseAddr(addrText, proto)
  if (!a || a.len !== a.bytes.length * 8) return undefined
  const port = portText === undefined ? undefined : Number(portText)
  if (port !== undefined && (port < 1 || port > 65535)) return undefined
  return port === undefined ? { proto, addr: a.bytes } : { proto, addr: a.bytes, port }
}

export const MAP_KEYS = MAP_KEYS_LIST
const MapRef = v.pipe(v.string(), v.regex(/^@[A-Za-z0-9_.\-]+$/, 'a map is named "@name"'))
const MapKey = v.picklist(MAP_KEYS, `key must be one of ${MAP_KEYS.join(", ")}`)

export const VerdictSchema = v.union([
  v.picklist(["accept", "drop", "return", "continue", "reject", "masquerade"]),
  v.strictObject({ snat: NatTarget }),
  v.strictObject({ dnat: NatTarget }),
  /** ip saddr vmap @name */
  v.strictObject({ vmap: MapRef, key: MapKey }),
  /** dnat to tcp dport map @name (the map's values are addresses of `family`, default ip) */
  v.strictObject({ dnat: MapRef, key: MapKey, family: v.optional(v.picklist(["ip", "ip6"])) }),
  v.strictObject({ snat: MapRef, key: MapKey, family: v.optional(v.picklist(["ip", "ip6"])) }),
  v.strictObject({ jump: v.pipe(v.string(), v.minLength(1)) }),
  v.strictObject({ goto: v.pipe(v.string(), v.minLength(1)) }),
])

export type Match = v.InferOutput<typeof MatchSchema>
export type Verdict = v.InferOutput<typeof VerdictSchema>
export interface CommonRule {
  match?: Match
  counter?: boolean
  verdict?: Verdict
}

const HEXB = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
const h = (bytes: readonly number[]) => {
  let s = ""
  for (const b of bytes) s += HEXB[b & 255]!
  return s
}
const be16 = (n: number) => h([n >> 8, n & 255])
const REG = 1

function ifname(name: string): string {
  const b = new Array<number>(16).fill(0)
  Buffer.from(name).forEach((x, i) => (b[i] = x))
  return h(b)
}

function addrMatch(family: string, proto: "ip" | "ip6", field: "saddr" | "daddr", value: string | string[]): Expr[] {
  const out: Expr[] = []
  if (family === "inet" || family === "bridge" || family === "netdev") {
    out.push({ type: "meta", key: "nfproto", dreg: REG }, { type: "cmp", sreg: REG, op: "eq", data: h([proto === "ip" ? NFPROTO_IPV4 : NFPROTO_IPV6]) })
  }
  const full = proto === "ip" ? 4 : 16
  const offset = proto === "ip" ? (field === "saddr" ? 12 : 16) : field === "saddr" ? 8 : 24
  if (Array.isArray(value)) {
    const elements = [...new Set(value.map((x) => h(parseAddr(x, proto)!.bytes)))].sort()
    out.push({ type: "payload", base: "network", offset, len: full, dreg: REG }, { type: "lookup", sreg: REG, set: "__set%d", anon: { type: proto === "ip" ? "ipv4_addr" : "ipv6_addr", elements } })
    return out
  }
  if (value.startsWith("@")) {
    out.push({ type: "payload", base: "network", offset, len: full, dreg: REG }, { type: "lookup", sreg: REG, set: value.slice(1) })
    return out
  }
  const a = parseAddr(value, proto)!
  if (a.len === 0) return out
  if (a.len % 8 === 0) {
    // a byte-aligned prefix loads just its bytes (as nft does)
    const n = a.len / 8
    out.push({ type: "payload", base: "network", offset, len: n, dreg: REG }, { type: "cmp", sreg: REG, op: "eq", data: h(a.bytes.slice(0, n)) })
  } else {
    const mask = Array.from({ length: full }, (_, i) => (i < a.len >> 3 ? 255 : i === a.len >> 3 ? (0xff00 >> (a.len & 7)) & 255 : 0))
    out.push(
      { type: "payload", base: "network", offset, len: full, dreg: REG },
      { type: "bitwise", sreg: REG, dreg: REG, len: full, mask: h(mask), xor: h(new Array<number>(full).fill(0)) },
      { type: "cmp", sreg: REG, op: "eq", data: h(a.bytes) },
    )
  }
  return out
}

function portMatch(field: "sport" | "dport", value: number | string | number[]): Expr[] {
  const load: Expr = { type: "payload", base: "transport", offset: field === "sport" ? 0 : 2, len: 2, dreg: REG }
  if (Array.isArray(value)) return [load, { type: "lookup", sreg: REG, set: "__set%d", anon: { type: "inet_service", elements: [...new Set(value.map(be16))].sort() } }]
  if (typeof value === "string" && value.startsWith("@")) return [load, { type: "lookup", sreg: REG, set: value.slice(1) }]
  if (typeof value === "number") return [load, { type: "cmp", sreg: REG, op: "eq", data: be16(value) }]
  const [lo, hi] = value.split("-").map(Number) as [number, number]
  return [load, { type: "cmp", sreg: REG, op: "gte", data: be16(lo) }, { type: "cmp", sreg: REG, op: "lte", data: be16(hi) }]
}

function l4guard(proto: number): Expr[] {
  return [{ type: "meta", key: "l4proto", dreg: REG }, { type: "cmp", sreg: REG, op: "eq", data: h([proto]) }]
}

/** The expressions that load a map key into REG (with nft's protocol guards). */
function keyLoad(key: (typeof MAP_KEYS)[number], family: string): Expr[] {
  const [what, field] = key.split(" ") as [string, string | undefined]
  switch (what) {
    case "ip":
    case "ip6": {
      const guard: Expr[] = family === "inet" || family === "bridge" || family === "netdev" ? [{ type: "meta", key: "nfproto", dreg: REG }, { type: "cmp", sreg: REG, op: "eq", data: h([what === "ip" ? NFPROTO_IPV4 : NFPROTO_IPV6]) }] : []
      const offset = what === "ip" ? (field === "saddr" ? 12 : 16) : field === "saddr" ? 8 : 24
      return [...guard, { type: "payload", base: "network", offset, len: what === "ip" ? 4 : 16, dreg: REG }]
    }
    case "tcp":
    case "udp":
      return [...l4guard(PROTO[what]!), { type: "payload", base: "transport", offset: field === "sport" ? 0 : 2, len: 2, dreg: REG }]
    case "iifname":
    case "oifname":
      return [{ type: "meta", key: what, dreg: REG }]
    default:
      return [{ type: "meta", key: "l4proto", dreg: REG }]
  }
}

const KEY_LEN: Record<string, number> = { ip: 4, ip6: 16, tcp: 2, udp: 2, iifname: 16, oifname: 16, meta: 1 }

/** nft's concatenation: every guard first, then each key into consecutive 32-bit registers, then the lookup. */
export function concatExprs(keys: readonly (typeof MAP_KEYS)[number][], set: string, family: string): Expr[] {
  const guards: Expr[] = []
  const loads: Expr[] = []
  const seen = new Set<string>()
  let word = 0
  for (const k of keys) {
    const load = keyLoad(k, family)
    const guard = load.slice(0, -1)
    const g = exprKey(guard)
    if (guard.length && !seen.has(g)) {
      seen.add(g)
      guards.push(...guard)
    }
    const last = { ...load[load.length - 1]! } as Expr & { dreg: number }
    last.dreg = word === 0 ? REG : 8 + word // NFT_REG32_00 = 8: the n-th 32-bit word of the key
    loads.push(last)
    word += Math.ceil(KEY_LEN[k.split(" ")[0]!]! / 4)
  }
  // nft puts the network-layer guard before the transport one
  guards.sort((a, b) => (a.type === "meta" && b.type === "meta" ? (a.key === "nfproto" ? -1 : b.key === "nfproto" ? 1 : 0) : 0))
  const ordered: Expr[] = []
  for (let i = 0; i < guards.length; i += 2) ordered.push(guards[i]!, guards[i + 1]!)
  return [...ordered, ...loads, { type: "lookup", sreg: REG, set: set.slice(1) }]
}

/** Compiles the common form for a table of `family` ("inet", "ip", "ip6", ...). */
export function compileRule(r: CommonRule, family: string): Expr[] {
  const out: Expr[] = []
  const m = r.match ?? {}
  if (m.ct?.state) {
    const bits = m.ct.state.reduce((acc, s) => acc | CT_STATE_BITS[s]!, 0)
    const le = (n: number) => h([n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >> 24) & 255])
    out.push({ type: "ct", key: "state", dreg: REG }, { type: "bitwise", sreg: REG, dreg: REG, len: 4, mask: le(bits), xor: le(0) }, { type: "cmp", sreg: REG, op: "neq", data: le(0) })
  }
  if (m.iifname) out.push({ type: "meta", key: "iifname", dreg: REG }, { type: "cmp", sreg: REG, op: "eq", data: ifname(m.iifname) })
  if (m.oifname) out.push({ type: "meta", key: "oifname", dreg: REG }, { type: "cmp", sreg: REG, op: "eq", data: ifname(m.oifname) })
  for (const proto of ["ip", "ip6"] as const) {
    const p = m[proto]
    if (p?.saddr) out.push(...addrMatch(family, proto, "saddr", p.saddr))
    if (p?.daddr) {
      // a second field of the same protocol needs no second guard
      const e = addrMatch(family, proto, "daddr", p.daddr)
      out.push(...(p.saddr && e[0]?.type === "meta" ? e.slice(2) : e))
    }
  }
  if (m.concat) out.push(...concatExprs(m.concat.keys, m.concat.set, family))
  const l4 = m.tcp ? "tcp" : m.udp ? "udp" : undefined
  if (m.meta?.l4proto !== undefined && !l4) {
    const n = typeof m.meta.l4proto === "number" ? m.meta.l4proto : PROTO[m.meta.l4proto]!
    out.push(...l4guard(n))
  }
  if (l4) {
    const ports = m[l4]!
    out.push(...l4guard(PROTO[l4]!))
    if (ports.sport !== undefined) out.push(...portMatch("sport", ports.sport))
    if (ports.dport !== undefined) out.push(...portMatch("dport", ports.dport))
  }
  if (r.counter) out.push({ type: "counter" })
  const verdict = r.verdict
  if (verdict === "masquerade") out.push({ type: "masq" })
  else if (verdict === "reject") out.push({ type: "reject", kind: "icmpx", code: 0 })
  else if (typeof verdict === "string") out.push({ type: "immediate", dreg: 0, verdict })
  else if (verdict && "vmap" in verdict) {
    out.push(...keyLoad(verdict.key, family), { type: "lookup", sreg: REG, set: verdict.vmap.slice(1), dreg: 0 })
  } else if (verdict && ("snat" in verdict || "dnat" in verdict) && "key" in verdict) {
    const mv = verdict as { snat?: string; dnat?: string; key: (typeof MAP_KEYS)[number]; family?: "ip" | "ip6" }
    const kind = mv.snat !== undefined ? "snat" : "dnat"
    const map = (mv.snat ?? mv.dnat)!.slice(1)
    const fam = mv.family ?? (family === "ip6" ? "ip6" : "ip")
    out.push(...keyLoad(mv.key, family), { type: "lookup", sreg: REG, set: map, dreg: REG }, { type: "nat", nat: kind, family: fam, addrReg: REG })
  } else if (verdict && ("snat" in verdict || "dnat" in verdict)) {
    const kind = "snat" in verdict ? "snat" : "dnat"
    const t = parseNatTarget("snat" in verdict ? verdict.snat : verdict.dnat)!
    out.push({ type: "immediate", dreg: REG, data: h(t.addr) })
    if (t.port !== undefined) out.push({ type: "immediate", dreg: REG + 1, data: h([t.port >> 8, t.port & 255]) })
    const nat: Expr = { type: "nat", nat: kind, family: t.proto, addrReg: REG }
    if (t.port !== undefined) {
      nat.protoReg = REG + 1
      nat.flags = 2 // NF_NAT_RANGE_PROTO_SPECIFIED
    }
    out.push(nat)
  } else if (verdict && "jump" in verdict) out.push({ type: "immediate", dreg: 0, verdict: "jump", chain: verdict.jump })
  else if (verdict && "goto" in verdict) out.push({ type: "immediate", dreg: 0, verdict: "goto", chain: verdict.goto })
  return out
}

// ---- decoding ---------------------------------------------------------------------

function fromHex(s: string): number[] {
  const out: number[] = []
  for (let i = 0; i + 1 < s.length; i += 2) out.push(parseInt(s.slice(i, i + 2), 16))
  return out
}

function addrText(bytes: number[], len: number, proto: "ip" | "ip6"): string {
  const full = proto === "ip" ? 4 : 16
  const b = [...bytes, ...new Array<number>(Math.max(0, full - bytes.length)).fill(0)].slice(0, full)
  const text = formatIp(new Uint8Array(b))
  return len === full * 8 ? text : `${text}/${len}`
}

/**
 * Decodes expressions to the common form when they are exactly what compileRule makes
 * for it (compared in normal form); otherwise undefined (the rule stays raw).
 */
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
function findConcat(exprs: readonly Expr[], family: string): { start: number; end: number; keys: (typeof MAP_KEYS)[number][]; set: string } | undefined {
  for (let li = 0; li < exprs.length; li++) {
    const lookup = exprs[li]!
    if (lookup.type !== "lookup" || lookup.dreg !== undefined || lookup.anon || lookup.invert) continue
    let first = li
    // the loads sit right before the lookup; the guards before them end with a cmp
    while (first > 0 && (exprs[first - 1]!.type === "payload" || exprs[first - 1]!.type === "meta")) first--
    const loads = exprs.slice(first, li)
    if (loads.length < 2) continue
    // which keys: from the loads, and tcp/udp from the l4proto guard before them
    const guardData = exprs.slice(0, first).filter((e) => e.type === "cmp").map((e) => (e as { data: string }).data)
    const l4 = guardData.includes("11") ? "udp" : "tcp"
    const keys: (typeof MAP_KEYS)[number][] = []
    for (const e of loads) {
      if (e.type === "meta") keys.push(e.key === "l4proto" ? "meta l4proto" : (e.key as "iifname" | "oifname"))
      else if (e.type === "payload" && e.base === "network") keys.push(e.len === 4 ? (e.offset === 12 ? "ip saddr" : "ip daddr") : e.offset === 8 ? "ip6 saddr" : "ip6 daddr")
      else if (e.type === "payload" && e.base === "transport") keys.push(`${l4} ${e.offset === 0 ? "sport" : "dport"}` as (typeof MAP_KEYS)[number])
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

export function decodeRule(exprs: readonly Expr[], family: string, key: string = exprKey(exprs)): CommonRule | undefined {
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
      else if (e.verdict === "accept" || e.verdict === "drop" || e.verdict === "return" || e.verdict === "continue") r.verdict = e.verdict
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
