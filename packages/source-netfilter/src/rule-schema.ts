// The common rule form's shape: `{ match, counter, verdict, comment }` as valibot schemas,
// and the parsers of its address and NAT-target strings (shared by compile and sets).
import { isNetworkAddress, parsePrefix } from "@linx/netlink/ip"
import * as v from "valibot"
import { CT_STATE_BITS } from "./wire/constants.ts"

export const PROTO: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, gre: 47 }

/** "10.0.0.0/8" → bytes and prefix length, for the family. */
export function parseAddr(s: string, family: "ip" | "ip6"): { bytes: number[]; len: number } | undefined {
  const p = parsePrefix(s)
  if (!p || p.family !== (family === "ip" ? "inet" : "inet6") || !isNetworkAddress(p)) return undefined
  return { bytes: [...p.bytes], len: p.prefixLen }
}

const SetRef = /^@[A-Za-z0-9_.-]+$/
const Addr4 = v.pipe(
  v.string(),
  v.check(
    (s) => SetRef.test(s) || parseAddr(s, "ip") !== undefined,
    (i) => `"${i.input}" is not an IPv4 address, network (host bits must be zero) or @set`,
  ),
)
const Addr6 = v.pipe(
  v.string(),
  v.check(
    (s) => SetRef.test(s) || parseAddr(s, "ip6") !== undefined,
    (i) => `"${i.input}" is not an IPv6 address, network (host bits must be zero) or @set`,
  ),
)
const Port = v.union(
  [
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535)),
    v.pipe(
      v.string(),
      v.regex(/^(\d{1,5}-\d{1,5}|@[A-Za-z0-9_.-]+)$/, 'a port is a number, a range "1000-2000" or a @set'),
      v.check((s) => {
        if (s.startsWith("@")) return true
        const [a, b] = s.split("-").map(Number)
        return a! <= b! && b! <= 65535
      }, "a port range goes from low to high, up to 65535"),
    ),
  ],
  'a port is a number, a range "1000-2000" or a @set',
)
const Addr4List = v.pipe(
  v.array(
    v.pipe(
      v.string(),
      v.check(
        (s) => {
          const a = parseAddr(s, "ip")
          return !!a && a.len === 32
        },
        (i) => `"${i.input}" is not an IPv4 address (networks in a list need a named interval set)`,
      ),
    ),
  ),
  v.minLength(1),
)
const Addr6List = v.pipe(
  v.array(
    v.pipe(
      v.string(),
      v.check(
        (s) => {
          const a = parseAddr(s, "ip6")
          return !!a && a.len === 128
        },
        (i) => `"${i.input}" is not an IPv6 address (networks in a list need a named interval set)`,
      ),
    ),
  ),
  v.minLength(1),
)
const PortList = v.pipe(v.array(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535))), v.minLength(1))
const MAP_KEYS_LIST = [
  "ip saddr",
  "ip daddr",
  "ip6 saddr",
  "ip6 daddr",
  "tcp sport",
  "tcp dport",
  "udp sport",
  "udp dport",
  "iifname",
  "oifname",
  "meta l4proto",
] as const
const IfName = v.pipe(v.string(), v.minLength(1), v.maxLength(15, "an interface name has at most 15 characters"))

export const MatchSchema = v.strictObject({
  meta: v.optional(
    v.strictObject({
      l4proto: v.optional(
        v.union([
          v.picklist(Object.keys(PROTO) as [string, ...string[]]),
          v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255)),
        ]),
      ),
    }),
  ),
  iifname: v.optional(IfName),
  oifname: v.optional(IfName),
  ip: v.optional(
    v.strictObject({ saddr: v.optional(v.union([Addr4, Addr4List])), daddr: v.optional(v.union([Addr4, Addr4List])) }),
  ),
  ip6: v.optional(
    v.strictObject({ saddr: v.optional(v.union([Addr6, Addr6List])), daddr: v.optional(v.union([Addr6, Addr6List])) }),
  ),
  tcp: v.optional(
    v.strictObject({ sport: v.optional(v.union([Port, PortList])), dport: v.optional(v.union([Port, PortList])) }),
  ),
  udp: v.optional(
    v.strictObject({ sport: v.optional(v.union([Port, PortList])), dport: v.optional(v.union([Port, PortList])) }),
  ),
  /** ip saddr . tcp dport @s: a concatenation looked up in a set whose type concatenates the same */
  concat: v.optional(
    v.strictObject({
      keys: v.pipe(
        v.array(v.picklist(MAP_KEYS_LIST)),
        v.minLength(2, "a concatenation has at least two keys"),
        v.maxLength(8),
      ),
      set: v.pipe(v.string(), v.regex(SetRef, 'the set is "@name"')),
    }),
  ),
  ct: v.optional(
    v.strictObject({
      state: v.optional(
        v.pipe(v.array(v.picklist(Object.keys(CT_STATE_BITS) as [string, ...string[]])), v.minLength(1)),
      ),
    }),
  ),
})

const NatTarget = v.pipe(
  v.string(),
  v.check(
    (s) => parseNatTarget(s) !== undefined,
    (i) => `"${i.input}" is not an address, "address:port" or "[ipv6]:port"`,
  ),
)

/** "10.0.0.2", "10.0.0.2:8080", "fd00::2", "[fd00::2]:8080" */
export function parseNatTarget(s: string): { proto: "ip" | "ip6"; addr: number[]; port?: number } | undefined {
  const m6 = /^\[([0-9a-fA-F:]+)\](?::(\d{1,5}))?$/.exec(s)
  const m4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(s)
  const [proto, addrText, portText] = m6
    ? (["ip6", m6[1], m6[2]] as const)
    : m4
      ? (["ip", m4[1], m4[2]] as const)
      : s.includes(":")
        ? (["ip6", s, undefined] as const)
        : ([undefined, undefined, undefined] as const)
  if (!proto || !addrText) return undefined
  const a = parseAddr(addrText, proto)
  if (!a || a.len !== a.bytes.length * 8) return undefined
  const port = portText === undefined ? undefined : Number(portText)
  if (port !== undefined && (port < 1 || port > 65535)) return undefined
  return port === undefined ? { proto, addr: a.bytes } : { proto, addr: a.bytes, port }
}

export const MAP_KEYS = MAP_KEYS_LIST
const MapRef = v.pipe(v.string(), v.regex(SetRef, 'a map is named "@name"'))
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
