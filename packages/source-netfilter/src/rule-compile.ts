// The common rule form compiled to the very expressions `nft` generates (protocol
// guards included). rule-decode.ts reads observed expressions back through this.
import { toHex } from "@linx/netlink/wire"
import { CT_STATE_BITS, NFPROTO_IPV4, NFPROTO_IPV6 } from "./wire/constants.ts"
import { type Expr, exprKey } from "./expr.ts"
import { type CommonRule, type MAP_KEYS, PROTO, parseAddr, parseNatTarget } from "./rule-schema.ts"

const h = (bytes: readonly number[]) => toHex(bytes)
const be16 = (n: number) => h([n >> 8, n & 255])
const REG = 1

function ifname(name: string): string {
  const b = new Array<number>(16).fill(0)
  Buffer.from(name).forEach((x, i) => {
    b[i] = x
  })
  return h(b)
}

/**
 * In tables of several protocols nft first checks the packet's protocol: `meta nfproto`
 * in inet; in bridge and netdev `meta protocol`, the ether type (nfproto is BRIDGE or
 * NETDEV there, so an nfproto guard would never match; PLATFORM 15).
 */
function nfprotoGuard(family: string, proto: "ip" | "ip6"): Expr[] {
  if (family === "bridge" || family === "netdev")
    return [
      { type: "meta", key: "protocol", dreg: REG },
      { type: "cmp", sreg: REG, op: "eq", data: proto === "ip" ? "0800" : "86dd" },
    ]
  if (family !== "inet") return []
  return [
    { type: "meta", key: "nfproto", dreg: REG },
    { type: "cmp", sreg: REG, op: "eq", data: h([proto === "ip" ? NFPROTO_IPV4 : NFPROTO_IPV6]) },
  ]
}

function addrMatch(family: string, proto: "ip" | "ip6", field: "saddr" | "daddr", value: string | string[]): Expr[] {
  const out = nfprotoGuard(family, proto)
  const full = proto === "ip" ? 4 : 16
  const offset = proto === "ip" ? (field === "saddr" ? 12 : 16) : field === "saddr" ? 8 : 24
  if (Array.isArray(value)) {
    const elements = [...new Set(value.map((x) => h(parseAddr(x, proto)!.bytes)))].sort()
    out.push(
      { type: "payload", base: "network", offset, len: full, dreg: REG },
      {
        type: "lookup",
        sreg: REG,
        set: "__set%d",
        anon: { type: proto === "ip" ? "ipv4_addr" : "ipv6_addr", elements },
      },
    )
    return out
  }
  if (value.startsWith("@")) {
    out.push(
      { type: "payload", base: "network", offset, len: full, dreg: REG },
      { type: "lookup", sreg: REG, set: value.slice(1) },
    )
    return out
  }
  const a = parseAddr(value, proto)!
  if (a.len === 0) return out
  if (a.len % 8 === 0) {
    // a byte-aligned prefix loads just its bytes (as nft does)
    const n = a.len / 8
    out.push(
      { type: "payload", base: "network", offset, len: n, dreg: REG },
      { type: "cmp", sreg: REG, op: "eq", data: h(a.bytes.slice(0, n)) },
    )
  } else {
    const mask = Array.from({ length: full }, (_, i) =>
      i < a.len >> 3 ? 255 : i === a.len >> 3 ? (0xff00 >> (a.len & 7)) & 255 : 0,
    )
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
  if (Array.isArray(value))
    return [
      load,
      {
        type: "lookup",
        sreg: REG,
        set: "__set%d",
        anon: { type: "inet_service", elements: [...new Set(value.map(be16))].sort() },
      },
    ]
  if (typeof value === "string" && value.startsWith("@"))
    return [load, { type: "lookup", sreg: REG, set: value.slice(1) }]
  if (typeof value === "number") return [load, { type: "cmp", sreg: REG, op: "eq", data: be16(value) }]
  const [lo, hi] = value.split("-").map(Number) as [number, number]
  return [
    load,
    { type: "cmp", sreg: REG, op: "gte", data: be16(lo) },
    { type: "cmp", sreg: REG, op: "lte", data: be16(hi) },
  ]
}

function l4guard(proto: number): Expr[] {
  return [
    { type: "meta", key: "l4proto", dreg: REG },
    { type: "cmp", sreg: REG, op: "eq", data: h([proto]) },
  ]
}

/** The expressions that load a map key into REG (with nft's protocol guards). */
export function keyLoad(key: (typeof MAP_KEYS)[number], family: string): Expr[] {
  const [what, field] = key.split(" ") as [string, string | undefined]
  switch (what) {
    case "ip":
    case "ip6": {
      const guard = nfprotoGuard(family, what)
      const offset = what === "ip" ? (field === "saddr" ? 12 : 16) : field === "saddr" ? 8 : 24
      return [...guard, { type: "payload", base: "network", offset, len: what === "ip" ? 4 : 16, dreg: REG }]
    }
    case "tcp":
    case "udp":
      return [
        ...l4guard(PROTO[what]!),
        { type: "payload", base: "transport", offset: field === "sport" ? 0 : 2, len: 2, dreg: REG },
      ]
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
  guards.sort((a, b) =>
    a.type === "meta" && b.type === "meta" ? (a.key === "nfproto" ? -1 : b.key === "nfproto" ? 1 : 0) : 0,
  )
  const ordered: Expr[] = []
  for (let i = 0; i < guards.length; i += 2) ordered.push(guards[i]!, guards[i + 1]!)
  return [...ordered, ...loads, { type: "lookup", sreg: REG, set: set.slice(1) }]
}

/** Compiles the common form for a table of `family` ("inet", "ip", "ip6", ...). */
/**
 * nft's bare `reject`: port unreachable, as the family speaks it — ICMP type 3 code 3 in
 * ip, ICMPv6 code 4 (port unreachable) in ip6, icmpx port-unreachable (1) elsewhere.
 * (icmpx code 0 would tell clients "network unreachable" instead of "connection refused".)
 */
function bareReject(family: string): Expr {
  if (family === "ip") return { type: "reject", kind: "icmp", code: 3 }
  if (family === "ip6") return { type: "reject", kind: "icmp", code: 4 }
  return { type: "reject", kind: "icmpx", code: 1 }
}

export function compileRule(r: CommonRule, family: string): Expr[] {
  const out: Expr[] = []
  const m = r.match ?? {}
  if (m.ct?.state) {
    const bits = m.ct.state.reduce((acc, s) => acc | CT_STATE_BITS[s]!, 0)
    const le = (n: number) => h([n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >> 24) & 255])
    out.push(
      { type: "ct", key: "state", dreg: REG },
      { type: "bitwise", sreg: REG, dreg: REG, len: 4, mask: le(bits), xor: le(0) },
      { type: "cmp", sreg: REG, op: "neq", data: le(0) },
    )
  }
  if (m.iifname)
    out.push({ type: "meta", key: "iifname", dreg: REG }, { type: "cmp", sreg: REG, op: "eq", data: ifname(m.iifname) })
  if (m.oifname)
    out.push({ type: "meta", key: "oifname", dreg: REG }, { type: "cmp", sreg: REG, op: "eq", data: ifname(m.oifname) })
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
  else if (verdict === "reject") out.push(bareReject(family))
  else if (typeof verdict === "string") out.push({ type: "immediate", dreg: 0, verdict })
  else if (verdict && "vmap" in verdict) {
    out.push(...keyLoad(verdict.key, family), { type: "lookup", sreg: REG, set: verdict.vmap.slice(1), dreg: 0 })
  } else if (verdict && ("snat" in verdict || "dnat" in verdict) && "key" in verdict) {
    const mv = verdict as { snat?: string; dnat?: string; key: (typeof MAP_KEYS)[number]; family?: "ip" | "ip6" }
    const kind = mv.snat !== undefined ? "snat" : "dnat"
    const map = (mv.snat ?? mv.dnat)!.slice(1)
    const fam = mv.family ?? (family === "ip6" ? "ip6" : "ip")
    out.push(
      ...keyLoad(mv.key, family),
      { type: "lookup", sreg: REG, set: map, dreg: REG },
      { type: "nat", nat: kind, family: fam, addrReg: REG },
    )
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
  } else if (verdict && "jump" in verdict)
    out.push({ type: "immediate", dreg: 0, verdict: "jump", chain: verdict.jump })
  else if (verdict && "goto" in verdict) out.push({ type: "immediate", dreg: 0, verdict: "goto", chain: verdict.goto })
  return out
}
