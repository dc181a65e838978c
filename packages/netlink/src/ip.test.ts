import { describe, expect, test } from "bun:test"
import {
  canonicalIp,
  canonicalMac,
  formatIp,
  formatPrefix,
  ipv4Number,
  ipv4NumberIn,
  ipv4PrefixNumber,
  ipv4PrefixNumberIn,
  isNetworkAddress,
  parseIp,
  parsePrefix,
} from "./ip.ts"

describe("ip", () => {
  test("IPv4 parse and format", () => {
    expect(canonicalIp("10.0.0.1")).toBe("10.0.0.1")
    expect(parseIp("256.0.0.1")).toBeUndefined()
    expect(parseIp("01.2.3.4")).toBeUndefined()
    expect(parseIp("1.2.3")).toBeUndefined()
  })
  test("IPv6 canonical text (RFC 5952)", () => {
    expect(canonicalIp("FD10:0:0:0:0:0:0:1")).toBe("fd10::1")
    expect(canonicalIp("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1")
    expect(canonicalIp("::")).toBe("::")
    expect(canonicalIp("::ffff:10.0.0.1")).toBe("::ffff:a00:1")
    expect(canonicalIp("2001:db8::1::2")).toBeUndefined()
    expect(canonicalIp("1:2:3:4:5:6:7")).toBeUndefined()
    expect(canonicalIp("fe80::1%eth0")).toBeUndefined()
    expect(formatIp(new Uint8Array(16))).toBe("::")
  })
  test("prefixes", () => {
    expect(parsePrefix("10.0.0.0/8")?.prefixLen).toBe(8)
    expect(parsePrefix("10.0.0.1")?.prefixLen).toBe(32)
    expect(parsePrefix("10.0.0.0/33")).toBeUndefined()
    expect(parsePrefix("fd00::/129")).toBeUndefined()
    expect(isNetworkAddress(parsePrefix("10.1.0.0/16")!)).toBe(true)
    expect(isNetworkAddress(parsePrefix("10.1.0.1/16")!)).toBe(false)
  })
  test("mac", () => {
    expect(canonicalMac("AA:bb:CC:00:11:22")).toBe("aa:bb:cc:00:11:22")
    expect(canonicalMac("aa:bb:cc:00:11")).toBeUndefined()
  })
})

describe("IPv4 text as numbers (no array made)", () => {
  /** The slow way: parse, check, format back. */
  const canonicalPrefix = (s: string) => {
    const p = parsePrefix(s)
    return !!p && p.family === "inet" && s.includes("/") && isNetworkAddress(p) && formatPrefix(p) === s
  }
  const samples = (): string[] => {
    const out = [
      "0.0.0.0/0",
      "10.0.0.0/8",
      "10.0.0.0/08",
      "10.0.0.1/32",
      "10.0.0.1/33",
      "255.255.255.255/32",
      "1.2.3.4",
    ]
    out.push(
      "1.2.3.4/",
      "1.2.3.4/a",
      "01.2.3.4/32",
      "1.2.3.4/-1",
      "1.2.3/24",
      "1.2.3.4.5/32",
      "256.1.1.1/32",
      "1.2.3.0/24",
    )
    out.push("1.2.3.0/ 24", " 1.2.3.0/24", "1.2.3.128/25", "1.2.3.64/25", "::/0", "", "/", "1.2.3.4/320", "0.0.0.0/00")
    let seed = 7
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    const chars = "0123456789./ "
    for (let i = 0; i < 20_000; i++) {
      if (i % 2) {
        const len = next(33)
        const addr = len === 0 ? 0 : (next(2 ** 32) >>> (32 - len)) * 2 ** (32 - len)
        const q = [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255]
        if (next(4) === 0) q[next(4)] = next(300)
        out.push(`${q.join(".")}/${next(5) === 0 ? next(40) : len}`)
      } else out.push(Array.from({ length: 7 + next(12) }, () => chars[next(chars.length)]).join(""))
    }
    return out
  }

  test("ipv4PrefixNumber takes exactly the canonical IPv4 prefixes, with their address and length", () => {
    let taken = 0
    for (const s of samples()) {
      const x = ipv4PrefixNumber(s)
      expect({ s, ok: x >= 0 }).toEqual({ s, ok: canonicalPrefix(s) })
      if (x < 0) continue
      taken++
      const p = parsePrefix(s)!
      expect(x % 64).toBe(p.prefixLen)
      expect(Math.floor(x / 64)).toBe(new DataView(p.bytes.buffer).getUint32(0, false))
    }
    expect(taken).toBeGreaterThan(5000)
  })

  test("ipv4Number takes exactly the dotted quads parseIp takes", () => {
    for (const s of samples()) {
      const a = s.split("/")[0]!
      const ip = parseIp(a)
      const x = ipv4Number(a)
      expect({ a, x }).toEqual({ a, x: ip?.family === "inet" ? new DataView(ip.bytes.buffer).getUint32(0, false) : -1 })
    }
  })

  test("the byte readers answer as the text ones, anywhere in a buffer (a file read without strings)", () => {
    const all = samples().filter((s) => [...s].every((ch) => ch.charCodeAt(0) < 128))
    const bytes = new TextEncoder().encode(all.join(" "))
    let at = 0
    for (const s of all) {
      const a = s.split("/")[0]!
      expect({ s, n: ipv4PrefixNumberIn(bytes, at, at + s.length) }).toEqual({ s, n: ipv4PrefixNumber(s) })
      expect({ a, n: ipv4NumberIn(bytes, at, at + a.length) }).toEqual({ a, n: ipv4Number(a) })
      at += s.length + 1
    }
    // a character past one byte is no digit
    expect(ipv4PrefixNumber("10.0.0.\u0130/32")).toBe(-1)
    expect(ipv4Number("1.2.3.\u0134")).toBe(-1)
  })
})
