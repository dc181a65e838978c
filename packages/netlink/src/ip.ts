// IP addresses and prefixes: parsing, canonical text (RFC 5952 for IPv6), bytes.

export type Family = "inet" | "inet6"

export interface IpAddr {
  family: Family
  bytes: Uint8Array
}

export interface IpPrefix extends IpAddr {
  prefixLen: number
}

/** Dotted quad, strictly: four decimal octets 0–255, no leading zeros (hot: one char loop, no regex). */
function parseIpv4(s: string): Uint8Array | undefined {
  if (s.length < 7 || s.length > 15) return undefined
  const out = new Uint8Array(4)
  let part = 0
  let n = 0
  let digits = 0
  for (let i = 0; i <= s.length; i++) {
    const ch = i < s.length ? s.charCodeAt(i) : 46 /* "." ends the last octet */
    if (ch === 46) {
      if (digits === 0 || part > 3) return undefined
      out[part++] = n
      n = 0
      digits = 0
    } else if (ch >= 48 && ch <= 57) {
      if (digits === 1 && n === 0) return undefined // leading zero
      n = n * 10 + (ch - 48)
      if (++digits > 3 || n > 255) return undefined
    } else return undefined
  }
  return part === 4 ? out : undefined
}

/** a short text's characters as bytes, for the byte readers below (one at a time: no array per call) */
const scratch = new Uint8Array(18)

/** `s` between start and end into `scratch`, or false (too long, or a character past one byte). */
function toScratch(s: string, start: number, end: number): boolean {
  if (end - start > scratch.length) return false
  for (let i = start; i < end; i++) {
    const ch = s.charCodeAt(i)
    if (ch > 255) return false
    scratch[i - start] = ch
  }
  return true
}

/**
 * The value of a dotted quad (strictly, as parseIp takes it) between `start` and `end`, as
 * an unsigned number, or -1: no array made (hot: a million routes' text).
 */
export function ipv4Number(s: string, start = 0, end = s.length): number {
  if (end - start < 7 || end - start > 15 || !toScratch(s, start, end)) return -1
  return ipv4NumberIn(scratch, 0, end - start)
}

/** ipv4Number of the ASCII bytes b[start…end) (a file read without making strings). */
export function ipv4NumberIn(b: Uint8Array, start: number, end: number): number {
  if (end - start < 7 || end - start > 15) return -1
  let value = 0
  let parts = 0
  let n = 0
  let digits = 0
  for (let i = start; i <= end; i++) {
    const ch = i < end ? b[i]! : 46 /* "." ends the last octet */
    if (ch === 46) {
      if (digits === 0 || parts > 3) return -1
      value = value * 256 + n
      parts++
      n = 0
      digits = 0
    } else if (ch >= 48 && ch <= 57) {
      if (digits === 1 && n === 0) return -1 // leading zero
      n = n * 10 + (ch - 48)
      if (++digits > 3 || n > 255) return -1
    } else return -1
  }
  return parts === 4 ? value : -1
}

/**
 * An IPv4 prefix in canonical text ("10.1.0.0/16": strict quad, a length 0–32 without
 * leading zeros, no host bits) as address * 64 + length, or -1.
 */
export function ipv4PrefixNumber(s: string): number {
  return toScratch(s, 0, s.length) ? ipv4PrefixNumberIn(scratch, 0, s.length) : -1
}

/** ipv4PrefixNumber of the ASCII bytes b[start…end). */
export function ipv4PrefixNumberIn(b: Uint8Array, start: number, end: number): number {
  let slash = start
  while (slash < end && b[slash] !== 47) slash++
  if (slash === end) return -1
  const addr = ipv4NumberIn(b, start, slash)
  if (addr < 0) return -1
  const tail = end - slash - 1
  if (tail < 1 || tail > 2) return -1
  const d0 = b[slash + 1]! - 48
  const d1 = tail === 2 ? b[slash + 2]! - 48 : 0
  if (d0 < 0 || d0 > 9 || d1 < 0 || d1 > 9 || (tail === 2 && d0 === 0)) return -1
  const len = tail === 2 ? d0 * 10 + d1 : d0
  if (len > 32) return -1
  const host = len === 32 ? 0 : len === 0 ? addr : addr % 2 ** (32 - len)
  return host === 0 ? addr * 64 + len : -1
}

function parseIpv6(s: string): Uint8Array | undefined {
  if (s.includes("%")) return undefined
  const halves = s.split("::")
  if (halves.length > 2) return undefined
  const groups = (h: string): number[] | undefined => {
    if (h === "") return []
    const out: number[] = []
    const parts = h.split(":")
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p)
        if (!v4) return undefined
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined
        out.push(parseInt(p, 16))
      }
    }
    return out
  }
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (!head || !tail) return undefined
  const total = head.length + tail.length
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail]
  const out = new Uint8Array(16)
  all.forEach((g, i) => {
    out[i * 2] = g >> 8
    out[i * 2 + 1] = g & 0xff
  })
  return out
}

/** Parses an IPv4 or IPv6 address (no prefix). */
export function parseIp(s: string): IpAddr | undefined {
  const v4 = parseIpv4(s)
  if (v4) return { family: "inet", bytes: v4 }
  const v6 = parseIpv6(s)
  if (v6) return { family: "inet6", bytes: v6 }
  return undefined
}

/** Parses "addr/len"; a bare address gets the full length. */
export function parsePrefix(s: string): IpPrefix | undefined {
  const slash = s.indexOf("/")
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash))
  if (!ip) return undefined
  const max = ip.bytes.length * 8
  if (slash < 0) return { ...ip, prefixLen: max }
  const lenText = s.slice(slash + 1)
  if (!/^\d{1,3}$/.test(lenText)) return undefined
  const prefixLen = Number(lenText)
  if (prefixLen > max) return undefined
  return { ...ip, prefixLen }
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`
  const g: number[] = []
  for (let i = 0; i < 16; i += 2) g.push((bytes[i]! << 8) | bytes[i + 1]!)
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first on a tie.
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = g.map((x) => x.toString(16))
  if (bestStart < 0) return hex.join(":")
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`
}

export function formatPrefix(p: IpPrefix): string {
  if (p.bytes.length === 4) return `${p.bytes[0]}.${p.bytes[1]}.${p.bytes[2]}.${p.bytes[3]}/${p.prefixLen}`
  return `${formatIp(p.bytes)}/${p.prefixLen}`
}

/** True when bits past prefixLen are all zero. */
export function isNetworkAddress(p: IpPrefix): boolean {
  for (let bit = p.prefixLen; bit < p.bytes.length * 8; bit++) {
    if (p.bytes[bit >> 3]! & (0x80 >> (bit & 7))) return false
  }
  return true
}

/** The prefix with host bits cleared. */
export function networkOf(p: IpPrefix): IpPrefix {
  const bytes = p.bytes.slice()
  for (let bit = p.prefixLen; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7))
  return { ...p, bytes }
}

export function canonicalIp(s: string): string | undefined {
  // a dotted quad that parses is canonical already (no leading zeros, nothing else)
  if (parseIpv4(s)) return s
  const ip = parseIp(s)
  return ip ? formatIp(ip.bytes) : undefined
}

export function familyOf(s: string): Family | undefined {
  const slash = s.indexOf("/")
  const a = slash < 0 ? s : s.slice(0, slash)
  if (parseIpv4(a)) return "inet"
  return parseIpv6(a) ? "inet6" : undefined
}

/** "aa:bb:cc:dd:ee:ff" lower-case, or undefined. */
export function canonicalMac(s: string): string | undefined {
  const m = s.trim().toLowerCase()
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m)) return undefined
  return m
}

export function macBytes(mac: string): Uint8Array {
  return new Uint8Array(mac.split(":").map((h) => parseInt(h, 16)))
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":")
}
