// Set elements as the kernel keeps them: key types, element bytes (in the kernel's
// byte order) and back, interval keys, map data. Elements diff by their bytes in hex.
import { formatIp } from "@linx/netlink/ip"
import { fromHex, toHex } from "@linx/netlink/wire"
import { parseAddr } from "./rule-schema.ts"

/** nft datatypes (nftables src/datatype.h) with their key length in bytes. */
export const SET_TYPES = {
  ipv4_addr: { id: 7, len: 4 },
  ipv6_addr: { id: 8, len: 16 },
  ether_addr: { id: 9, len: 6 },
  inet_proto: { id: 12, len: 1 },
  inet_service: { id: 13, len: 2 },
  mark: { id: 19, len: 4 },
  ifname: { id: 41, len: 16 },
} as const
export type SetType = keyof typeof SET_TYPES
/** A key type: one datatype, or a concatenation "ipv4_addr . inet_service". */
export type KeyType = SetType | `${string} . ${string}`

const pad4 = (n: number) => (n + 3) & ~3

/** The parts of a key type (one for a plain type). */
export function keyParts(type: string): SetType[] {
  return type.split(" . ").map((p) => p.trim()) as SetType[]
}

export function isKeyType(type: string): boolean {
  const parts = keyParts(type)
  return parts.length >= 1 && parts.length <= 8 && parts.every((p) => p in SET_TYPES)
}

/** The kernel's key type id and key length: a concatenation packs 6 bits a part, each part padded to 4 bytes. */
export function keyTypeInfo(type: string): { id: number; len: number } {
  const parts = keyParts(type)
  if (parts.length === 1) return SET_TYPES[parts[0]!]
  return {
    id: parts.reduce((acc, p) => acc * 64 + SET_TYPES[p].id, 0),
    len: parts.reduce((acc, p) => acc + pad4(SET_TYPES[p].len), 0),
  }
}

/** A kernel key type id back to its name ("ipv4_addr . inet_service"). */
export function keyTypeName(id: number): string {
  const byId = (n: number) => Object.keys(SET_TYPES).find((k) => SET_TYPES[k as SetType].id === n)
  const single = byId(id)
  if (single) return single
  const parts: string[] = []
  for (let n = id; n > 0; n = Math.floor(n / 64)) {
    const name = byId(n % 64)
    if (!name) return String(id)
    parts.unshift(name)
  }
  return parts.join(" . ")
}

export const NUMERIC = new Set(["inet_service", "inet_proto", "mark"])

/** Protocol names nft accepts for an inet_proto (/etc/protocols spelling). */
const PROTOCOLS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
}
const PROTOCOL_NAMES = Object.fromEntries(Object.entries(PROTOCOLS).map(([k, n]) => [n, k]))

/** In element keys of interval sets, an interval end is its hex key with this suffix. */
export const END_MARK = "/e"
/**
 * An element's own attributes beyond key, data and flags (timeout, comment, per-element
 * expressions, a concatenated interval's end), as the kernel dumps them with running
 * state zeroed: "key=data;a=hex". Compared as they are, written back as they are.
 */
export const EXTRA_MARK = ";a="

/** An element entry ("key[/e][=data][;a=extra]") taken apart. */
export function entryParts(entry: string): { key: string; end: boolean; data?: string; extra?: string } {
  const x = entry.indexOf(EXTRA_MARK)
  const head = x < 0 ? entry : entry.slice(0, x)
  const eq = head.indexOf("=")
  const k = eq < 0 ? head : head.slice(0, eq)
  const end = k.endsWith(END_MARK)
  const out: { key: string; end: boolean; data?: string; extra?: string } = {
    key: end ? k.slice(0, -END_MARK.length) : k,
    end,
  }
  if (eq >= 0) out.data = head.slice(eq + 1)
  if (x >= 0) out.extra = entry.slice(x + EXTRA_MARK.length)
  return out
}
export const MAP_TYPES = [...(Object.keys(SET_TYPES) as SetType[]), "verdict"] as const
export type MapType = (typeof MAP_TYPES)[number]

const VERDICT_RE = /^(accept|drop|return|continue|(jump|goto) [A-Za-z0-9_.-]+)$/

/** A map value as its element data: hex bytes, or "v:<verdict>[:<chain>]". */
export function mapData(type: MapType, value: string | number): string | { error: string } {
  if (type === "verdict") {
    if (typeof value !== "string" || !VERDICT_RE.test(value))
      return {
        error: `${JSON.stringify(value)} is not a verdict (accept, drop, return, continue, "jump <chain>", "goto <chain>")`,
      }
    return `v:${value.replace(" ", ":")}`
  }
  const b = elementBytes(type, value)
  return typeof b === "string" ? { error: b } : toHex(b)
}

/** Element data back to text: "10.0.0.2", 8080, "jump other". */
export function mapDataText(type: string, data: string): string | number {
  if (data.startsWith("v:")) return data.slice(2).replace(":", " ")
  return elementText(type as SetType, fromHex(data))
}

/** An element as key bytes, or an error message. Concatenations: "10.0.0.1 . 22". */
export function elementBytes(type: SetType | string, value: string | number): number[] | string {
  const parts = keyParts(type)
  if (parts.length > 1) {
    const values =
      String(value).split(".").length > 1 && typeof value === "string" ? value.split(" . ").map((x) => x.trim()) : []
    if (values.length !== parts.length)
      return `${JSON.stringify(value)} is not a "${type}" element (write its parts joined by " . ")`
    const out: number[] = []
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!
      const b = elementBytes(part, NUMERIC.has(part) && part !== "inet_proto" ? Number(values[i]) : values[i]!)
      if (typeof b === "string") return b
      out.push(...b, ...new Array<number>(pad4(b.length) - b.length).fill(0))
    }
    return out
  }
  switch (type as SetType) {
    case "ipv4_addr":
    case "ipv6_addr": {
      const a = typeof value === "string" ? parseAddr(value, type === "ipv4_addr" ? "ip" : "ip6") : undefined
      if (!a) return `"${value}" is not an ${type === "ipv4_addr" ? "IPv4" : "IPv6"} address`
      if (a.len !== a.bytes.length * 8) return `"${value}" is a network: prefixes need a set with flags: [interval]`
      return a.bytes
    }
    case "inet_service":
    case "inet_proto": {
      const n =
        type === "inet_proto" && typeof value === "string" && value in PROTOCOLS ? PROTOCOLS[value]! : Number(value)
      const max = type === "inet_service" ? 65535 : 255
      if (!Number.isInteger(n) || n < 0 || n > max)
        return `${JSON.stringify(value)} is not a ${type === "inet_service" ? "port" : "protocol (a number, or tcp, udp, icmp, …)"}`
      return type === "inet_service" ? [n >> 8, n & 255] : [n]
    }
    case "mark": {
      const n = Number(value)
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return `${JSON.stringify(value)} is not a 32-bit mark`
      return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255] // host byte order
    }
    case "ifname": {
      if (typeof value !== "string" || !value || value.length > 15)
        return `${JSON.stringify(value)} is not an interface name`
      const b = new Array<number>(16).fill(0)
      Buffer.from(value).forEach((x, i) => {
        b[i] = x
      })
      return b
    }
    case "ether_addr": {
      if (typeof value !== "string" || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(value))
        return `${JSON.stringify(value)} is not a MAC address`
      return value.split(":").map((x) => parseInt(x, 16))
    }
  }
}

/** Key bytes back to the element as a person writes it. */
export function elementText(type: SetType | string, b: Uint8Array): string | number {
  const parts = keyParts(type)
  if (parts.length > 1) {
    const out: (string | number)[] = []
    let off = 0
    for (const p of parts) {
      const len = SET_TYPES[p].len
      out.push(elementText(p, b.subarray(off, off + len)))
      off += pad4(len)
    }
    return out.join(" . ")
  }
  switch (type as SetType) {
    case "ipv4_addr":
      return [...b].join(".")
    case "ipv6_addr":
      return formatIp(b)
    case "inet_service":
      return (b[0]! << 8) | b[1]!
    case "inet_proto":
      return PROTOCOL_NAMES[b[0]!] ?? b[0]!
    case "mark":
      return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0
    case "ifname":
      return Buffer.from(b).toString().replace(/\0+$/, "")
    case "ether_addr":
      return [...b].map((x) => toHex([x])).join(":")
    default:
      // a datatype Linx has no name for ("id/len"): the bytes
      return `0x${toHex(b)}`
  }
}

/** An interval set element: a value, a prefix ("10.0.0.0/8") or a range ("a-b"), as [first, last] bytes. */
export function elementRange(type: SetType, value: string | number): [number[], number[]] | string {
  if (typeof value === "string" && (type === "ipv4_addr" || type === "ipv6_addr") && value.includes("/")) {
    const a = parseAddr(value, type === "ipv4_addr" ? "ip" : "ip6")
    if (!a) return `"${value}" is not an ${type === "ipv4_addr" ? "IPv4" : "IPv6"} network (host bits must be zero)`
    const last = a.bytes.map((b, i) => {
      const bit0 = i * 8
      if (bit0 + 8 <= a.len) return b
      if (bit0 >= a.len) return 255
      return b | (0xff >> (a.len - bit0))
    })
    return [a.bytes, last]
  }
  if (typeof value === "string" && value.includes("-") && !/^[0-9a-f:]+$/i.test(value)) {
    const [lo, hi] = value.split("-")
    const a = elementBytes(type, type === "inet_service" || type === "inet_proto" || type === "mark" ? Number(lo) : lo!)
    const b = elementBytes(type, type === "inet_service" || type === "inet_proto" || type === "mark" ? Number(hi) : hi!)
    if (typeof a === "string") return a
    if (typeof b === "string") return b
    if (compare(a, b) > 0) return `"${value}" runs backwards`
    return [a, b]
  }
  const one = elementBytes(type, value)
  return typeof one === "string" ? one : [one, one]
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}

function plusOne(b: readonly number[]): number[] | undefined {
  const out = [...b]
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 255) {
      out[i]!++
      return out
    }
    out[i] = 0
  }
  return undefined // past the top of the key space: the interval runs to the end
}

/**
 * The kernel's elements of an interval set (as nft makes them): for each merged
 * interval [a, b], a start element a and an end element b+1 flagged INTERVAL_END,
 * after an initial end element at 0 when no interval starts there.
 */
export function intervalKeys(type: SetType, elements: readonly (string | number)[]): string[] {
  const ranges = elements.map((e) => elementRange(type, e) as [number[], number[]]).sort((x, y) => compare(x[0], y[0]))
  const merged: [number[], number[]][] = []
  for (const [a, b] of ranges) {
    const last = merged[merged.length - 1]
    const next = last ? plusOne(last[1]) : undefined
    if (last && (compare(a, last[1]) <= 0 || (next && compare(a, next) === 0))) {
      if (compare(b, last[1]) > 0) last[1] = b
    } else merged.push([a, b])
  }
  const keys: string[] = []
  const zero = new Array<number>(SET_TYPES[type].len).fill(0)
  if (!merged.length || compare(merged[0]![0], zero) !== 0) keys.push(toHex(zero) + END_MARK)
  for (const [a, b] of merged) {
    keys.push(toHex(a))
    const end = plusOne(b)
    if (end) keys.push(toHex(end) + END_MARK)
  }
  return keys
}
