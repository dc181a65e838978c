import { describe, expect, test } from "bun:test"
import { canonicalIp, canonicalMac, formatIp, isNetworkAddress, parseIp, parsePrefix } from "./ip.ts"

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
