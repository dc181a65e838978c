// Named sets: key types, elements as bytes (in the kernel's byte order) and back.
// Elements diff per element, by their bytes in hex.
import * as v from "valibot"
import { parseAddr } from "./match.ts"

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

export const NFT_SET_TIMEOUT = 0x10
export const SET = { TABLE: 0, NAME: 1, FLAGS: 2, KEY_TYPE: 3, KEY_LEN: 4, FAMILY: 7, ID: 8, HANDLE: 15 } as const

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
export const hexOf = (b: Uint8Array | readonly number[]): string => {
  let s = ""
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! & 255]!
  return s
}

/** An element as key bytes, or an error message. */
export function elementBytes(type: SetType, value: string | number): number[] | string {
  switch (type) {
    case "ipv4_addr":
    case "ipv6_addr": {
      const a = typeof value === "string" ? parseAddr(value, type === "ipv4_addr" ? "ip" : "ip6") : undefined
      if (!a) return `"${value}" is not an ${type === "ipv4_addr" ? "IPv4" : "IPv6"} address`
      if (a.len !== a.bytes.length * 8) return `"${value}" is a network: prefixes need interval sets, not supported yet`
      return a.bytes
    }
    case "inet_service":
    case "inet_proto": {
      const n = Number(value)
      const max = type === "inet_service" ? 65535 : 255
      if (!Number.isInteger(n) || n < 0 || n > max) return `${JSON.stringify(value)} is not a ${type === "inet_service" ? "port" : "protocol number"}`
      return type === "inet_service" ? [n >> 8, n & 255] : [n]
    }
    case "mark": {
      const n = Number(value)
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return `${JSON.stringify(value)} is not a 32-bit mark`
      return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255] // host byte order
    }
    case "ifname": {
      if (typeof value !== "string" || !value || value.length > 15) return `${JSON.stringify(value)} is not an interface name`
      const b = new Array<number>(16).fill(0)
      Buffer.from(value).forEach((x, i) => (b[i] = x))
      return b
    }
    case "ether_addr": {
      if (typeof value !== "string" || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(value)) return `${JSON.stringify(value)} is not a MAC address`
      return value.split(":").map((x) => parseInt(x, 16))
    }
  }
}

/** Key bytes back to the element as a person writes it. */
export function elementText(type: SetType, b: Uint8Array): string | number {
  switch (type) {
    case "ipv4_addr":
      return [...b].join(".")
    case "ipv6_addr": {
      const g: number[] = []
      for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!)
      let best = -1
      let bestLen = 0
      for (let i = 0; i < 8; ) {
        if (g[i] !== 0) {
          i++
          continue
        }
        let j = i
        while (j < 8 && g[j] === 0) j++
        if (j - i > bestLen && j - i >= 2) {
          best = i
          bestLen = j - i
        }
        i = j
      }
      const hx = g.map((x) => x.toString(16))
      return best < 0 ? hx.join(":") : `${hx.slice(0, best).join(":")}::${hx.slice(best + bestLen).join(":")}`
    }
    case "inet_service":
      return (b[0]! << 8) | b[1]!
    case "inet_proto":
      return b[0]!
    case "mark":
      return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0
    case "ifname":
      return Buffer.from(b).toString().replace(/\0+$/, "")
    case "ether_addr":
      return [...b].map((x) => HEX[x]).join(":")
  }
}

export const SetSpecSchema = v.pipe(
  v.strictObject({
    name: v.pipe(v.string(), v.minLength(1), v.maxLength(255), v.regex(/^[A-Za-z0-9_.\-]+$/, "a name uses letters, digits, _ . -")),
    type: v.picklist(Object.keys(SET_TYPES) as [SetType, ...SetType[]], `type must be one of ${Object.keys(SET_TYPES).join(", ")}`),
    elements: v.optional(v.array(v.union([v.string(), v.number()])), []),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const seen = new Set<string>()
    dataset.value.elements.forEach((e, i) => {
      const b = elementBytes(dataset.value.type, e)
      if (typeof b === "string") {
        addIssue({ message: `elements.${i}: ${b}` })
        return
      }
      const k = hexOf(b)
      if (seen.has(k)) addIssue({ message: `elements.${i}: ${JSON.stringify(e)} is listed twice` })
      seen.add(k)
    })
  }),
)
export type SetSpec = v.InferOutput<typeof SetSpecSchema>

const keysCache = new WeakMap<SetSpec, string[]>()

/** The desired elements as hex keys (cached per spec). */
export function desiredKeys(s: SetSpec): string[] {
  let k = keysCache.get(s)
  if (!k) {
    k = s.elements.map((e) => hexOf(elementBytes(s.type, e) as number[]))
    keysCache.set(s, k)
  }
  return k
}

export function bytesOfHex(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16)
  return out
}
