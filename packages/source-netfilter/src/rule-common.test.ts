// The common form compiles to what nft generates (recorded with `nft --debug=netlink`)
// and decodes back; raw expressions stay raw. No root, no libnftnl needed.
import { describe, expect, test } from "bun:test"
import * as v from "valibot"
import { exprKey } from "./expr.ts"
import { compileRule } from "./rule-compile.ts"
import { decodeRule } from "./rule-decode.ts"
import { NftDesiredSchema } from "./schema.ts"
import { intervalKeys } from "./elements.ts"

describe("common rule form", () => {
  test("ip saddr 10.0.0.0/8 tcp dport 22 counter accept in an inet table (nft --debug=netlink)", () => {
    // unshare -n nft --debug=netlink add rule inet t c ip saddr 10.0.0.0/8 tcp dport 22 counter accept
    //   [ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ]
    //   [ payload load 1b @ network header + 12 => reg 1 ] [ cmp eq reg 1 0x0000000a ]
    //   [ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ]
    //   [ payload load 2b @ transport header + 2 => reg 1 ] [ cmp eq reg 1 0x00001600 ]
    //   [ counter pkts 0 bytes 0 ] [ immediate reg 0 accept ]
    expect(
      compileRule(
        { match: { ip: { saddr: "10.0.0.0/8" }, tcp: { dport: 22 } }, counter: true, verdict: "accept" },
        "inet",
      ),
    ).toEqual([
      { type: "meta", key: "nfproto", dreg: 1 },
      { type: "cmp", sreg: 1, op: "eq", data: "02" },
      { type: "payload", base: "network", offset: 12, len: 1, dreg: 1 },
      { type: "cmp", sreg: 1, op: "eq", data: "0a" },
      { type: "meta", key: "l4proto", dreg: 1 },
      { type: "cmp", sreg: 1, op: "eq", data: "06" },
      { type: "payload", base: "transport", offset: 2, len: 2, dreg: 1 },
      { type: "cmp", sreg: 1, op: "eq", data: "0016" },
      { type: "counter" },
      { type: "immediate", dreg: 0, verdict: "accept" },
    ])
  })

  test("a non byte-aligned prefix loads the whole address and masks it (10.1.2.0/23)", () => {
    //   [ payload load 4b @ network header + 12 => reg 1 ]
    //   [ bitwise reg 1 = ( reg 1 & 0x00feffff ) ^ 0x00000000 ] [ cmp eq reg 1 0x0002010a ]
    expect(compileRule({ match: { ip: { saddr: "10.1.2.0/23" } }, verdict: "drop" }, "ip")).toEqual([
      { type: "payload", base: "network", offset: 12, len: 4, dreg: 1 },
      { type: "bitwise", sreg: 1, dreg: 1, len: 4, mask: "fffffe00", xor: "00000000" },
      { type: "cmp", sreg: 1, op: "eq", data: "0a010200" },
      { type: "immediate", dreg: 0, verdict: "drop" },
    ])
  })

  test("ct state, iifname, port ranges and jumps", () => {
    const e = compileRule(
      {
        match: { ct: { state: ["established", "related"] }, iifname: "lo", udp: { sport: "1000-2000" } },
        verdict: { jump: "extra" },
      },
      "inet",
    )
    expect(e).toEqual([
      { type: "ct", key: "state", dreg: 1 },
      { type: "bitwise", sreg: 1, dreg: 1, len: 4, mask: "06000000", xor: "00000000" },
      { type: "cmp", sreg: 1, op: "neq", data: "00000000" },
      { type: "meta", key: "iifname", dreg: 1 },
      { type: "cmp", sreg: 1, op: "eq", data: "6c6f0000000000000000000000000000" },
      { type: "meta", key: "l4proto", dreg: 1 },
      { type: "cmp", sreg: 1, op: "eq", data: "11" },
      { type: "payload", base: "transport", offset: 0, len: 2, dreg: 1 },
      { type: "cmp", sreg: 1, op: "gte", data: "03e8" },
      { type: "cmp", sreg: 1, op: "lte", data: "07d0" },
      { type: "immediate", dreg: 0, verdict: "jump", chain: "extra" },
    ])
  })

  test("every common rule decodes back to itself; registers may differ", () => {
    const rules = [
      { match: { ip: { saddr: "10.0.0.0/8", daddr: "192.0.2.7" }, tcp: { dport: 22 } }, verdict: "accept" as const },
      { match: { ip6: { saddr: "fd00::/64" }, udp: { dport: "53-54" } }, counter: true, verdict: "drop" as const },
      { match: { ct: { state: ["new"] }, oifname: "eth0", meta: { l4proto: "icmp" } }, verdict: { goto: "x" } },
      { match: { ip6: { daddr: "2001:db8::1" } }, verdict: "masquerade" as const },
      { verdict: "return" as const },
    ]
    for (const r of rules) {
      const e = compileRule(r, "inet")
      expect(decodeRule(e, "inet")).toEqual(r)
      // the same expressions with nft's other register numbering still decode
      const renumbered = e.map((x) => {
        const y: Record<string, unknown> = { ...x }
        if (y.dreg === 1) y.dreg = 8
        if (y.sreg === 1) y.sreg = 8
        return y as typeof x
      })
      expect(exprKey(renumbered)).toBe(exprKey(e))
    }
  })

  test("expressions that are not exactly a common form stay raw", () => {
    const e = compileRule({ match: { tcp: { dport: 22 } }, verdict: "accept" }, "inet")
    expect(decodeRule([...e.slice(0, 4), { type: "log", prefix: "x" }, e[4]!], "inet")).toBeUndefined()
    expect(decodeRule(e.slice(2), "inet")).toBeUndefined() // a port without its protocol guard
  })

  test("the schema refuses what it cannot compile, with paths", () => {
    const r = v.safeParse(NftDesiredSchema, {
      tables: [
        {
          family: "inet",
          name: "edge",
          chains: [
            {
              name: "input",
              type: "filter",
              hook: "input",
              rules: [
                { match: { ip: { saddr: "10.0.0.1/8" } }, verdict: "accept" },
                { match: { tcp: { dport: "80,443" } } },
              ],
            },
            { name: "c2", policy: "drop" },
          ],
        },
      ],
    })
    expect(r.success).toBe(false)
    const issues = r.success ? [] : r.issues.map((i) => `${v.getDotPath(i) ?? ""}: ${i.message}`)
    expect(
      issues.some((i) => i.includes('"10.0.0.1/8" is not an IPv4 address, network (host bits must be zero) or @set')),
    ).toBe(true)
    expect(issues.some((i) => i.startsWith("tables.0.chains.0.rules.1.match.tcp.dport:"))).toBe(true)
    const jump = v.safeParse(NftDesiredSchema, {
      tables: [{ family: "inet", name: "t", chains: [{ name: "c", rules: [{ verdict: { jump: "nope" } }] }] }],
    })
    expect(jump.success ? [] : jump.issues.map((i) => i.message)).toEqual([
      'chain c jumps to "nope", which is not a chain of table t',
    ])
    expect(issues.some((i) => i.includes("only a base chain (with a hook) has a policy"))).toBe(true)
  })

  test("@set matches compile to a lookup and decode back; sets are checked against their use", () => {
    const r = { match: { ip: { saddr: "@blocked" }, tcp: { dport: "@ports" } }, verdict: "drop" as const }
    const e = compileRule(r, "inet")
    expect(e.filter((x) => x.type === "lookup")).toEqual([
      { type: "lookup", sreg: 1, set: "blocked" },
      { type: "lookup", sreg: 1, set: "ports" },
    ])
    expect(decodeRule(e, "inet")).toEqual(r)
    const bad = v.safeParse(NftDesiredSchema, {
      tables: [
        {
          family: "inet",
          name: "t",
          sets: [{ name: "ports", type: "inet_service", elements: [22, 70000, "10.0.0.0/8"] }],
          chains: [
            {
              name: "c",
              rules: [{ match: { ip: { saddr: "@ports" } }, verdict: "drop" }, { match: { ip: { daddr: "@nope" } } }],
            },
          ],
        },
      ],
    })
    expect(bad.success ? [] : bad.issues.map((i) => i.message)).toEqual([
      "elements.1: 70000 is not a port",
      'elements.2: "10.0.0.0/8" is not a port',
      "chain c uses @ports, a set of inet_service, where ipv4_addr is needed",
      "chain c uses @nope, which is not a set of table t",
    ])
    const bad2 = v.safeParse(NftDesiredSchema, {
      tables: [
        {
          family: "inet",
          name: "t",
          sets: [{ name: "ports", type: "inet_service", elements: [22] }],
          chains: [
            {
              name: "c",
              rules: [{ match: { ip: { saddr: "@ports" } }, verdict: "drop" }, { match: { ip: { daddr: "@nope" } } }],
            },
          ],
        },
      ],
    })
    expect(bad2.success ? [] : bad2.issues.map((i) => i.message)).toEqual([
      "chain c uses @ports, a set of inet_service, where ipv4_addr is needed",
      "chain c uses @nope, which is not a set of table t",
    ])
  })

  test("snat/dnat compile as nft does and decode back (nft --debug=netlink)", () => {
    // nft --debug=netlink add rule ip n pre tcp dport 80 dnat to 10.0.0.2:8080
    //   ... [ immediate reg 1 0x0200000a ] [ immediate reg 2 0x0000901f ]
    //   [ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]
    const r = { match: { tcp: { dport: 80 } }, verdict: { dnat: "10.0.0.2:8080" } }
    const e = compileRule(r, "ip")
    expect(e.slice(4)).toEqual([
      { type: "immediate", dreg: 1, data: "0a000002" },
      { type: "immediate", dreg: 2, data: "1f90" },
      { type: "nat", nat: "dnat", family: "ip", addrReg: 1, protoReg: 2, flags: 2 },
    ])
    expect(decodeRule(e, "ip")).toEqual(r)
    for (const v2 of [{ snat: "192.0.2.1" }, { dnat: "[fd00::2]:443" }, { snat: "fd00::1" }]) {
      const rr = { verdict: v2 }
      expect(decodeRule(compileRule(rr, "inet"), "inet")).toEqual(rr)
    }
  })

  test("interval sets become nft's element list: an end at 0, then start and one-past-end of each merged interval", () => {
    // unshare -n nft --debug=netlink add element inet t b "{ 10.66.0.0/16, 192.0.2.7 }"
    //   element 00000000 : 1 [end] element 0000420a : 0 [end] element 0000430a : 1 [end]
    //   element 070200c0 : 0 [end] element 080200c0 : 1 [end]
    expect(intervalKeys("ipv4_addr", ["192.0.2.7", "10.66.0.0/16"])).toEqual([
      "00000000/e",
      "0a420000",
      "0a430000/e",
      "c0000207",
      "c0000208/e",
    ])
    // nft ... add element inet t p "{ 80, 1000-2000 }"
    expect(intervalKeys("inet_service", [80, "1000-2000"])).toEqual(["0000/e", "0050", "0051/e", "03e8", "07d1/e"])
    // overlapping and adjacent intervals merge; an interval from 0 needs no leading end
    expect(intervalKeys("inet_service", ["0-10", "11-20", "15-30"])).toEqual(["0000", "001f/e"])
    // an interval to the top of the key space has no end element
    expect(intervalKeys("ipv4_addr", ["255.255.255.0/24"])).toEqual(["00000000/e", "ffffff00"])
  })

  test("inline lists become anonymous sets, compared by their contents", () => {
    const r = {
      match: { ip: { saddr: ["10.0.0.2", "10.0.0.1"] }, tcp: { dport: [443, 80] } },
      verdict: "accept" as const,
    }
    const e = compileRule(r, "inet")
    expect(e.filter((x) => x.type === "lookup")).toEqual([
      { type: "lookup", sreg: 1, set: "__set%d", anon: { type: "ipv4_addr", elements: ["0a000001", "0a000002"] } },
      { type: "lookup", sreg: 1, set: "__set%d", anon: { type: "inet_service", elements: ["0050", "01bb"] } },
    ])
    // the kernel names them __set0, __set1: the comparison does not care
    const observed = e.map((x, i) => (x.type === "lookup" ? { ...x, set: `__set${i}` } : x))
    expect(exprKey(observed)).toBe(exprKey(e))
    expect(decodeRule(observed, "inet")).toEqual({
      match: { ip: { saddr: ["10.0.0.1", "10.0.0.2"] }, tcp: { dport: [80, 443] } },
      verdict: "accept",
    })
  })

  test("map verdicts compile as nft does and decode back", () => {
    // unshare -n nft --debug=netlink add rule ip n pre dnat to tcp dport map @portfwd
    //   [ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ]
    //   [ payload load 2b @ transport header + 2 => reg 1 ] [ lookup reg 1 set portfwd dreg 1 ]
    //   [ nat dnat ip addr_min reg 1 ]
    const dnat = { verdict: { dnat: "@portfwd", key: "tcp dport" as const } }
    expect(compileRule(dnat, "ip")).toEqual([
      { type: "meta", key: "l4proto", dreg: 1 },
      { type: "cmp", sreg: 1, op: "eq", data: "06" },
      { type: "payload", base: "transport", offset: 2, len: 2, dreg: 1 },
      { type: "lookup", sreg: 1, set: "portfwd", dreg: 1 },
      { type: "nat", nat: "dnat", family: "ip", addrReg: 1 },
    ])
    expect(decodeRule(compileRule(dnat, "ip"), "ip")).toEqual(dnat)
    // nft ... add rule ip n pre ip saddr vmap @vm: [ payload load 4b @ network header + 12 => reg 1 ] [ lookup reg 1 set vm dreg 0 ]
    const vmap = { match: { tcp: { dport: 22 } }, verdict: { vmap: "@vm", key: "ip saddr" as const } }
    expect(compileRule(vmap, "ip").slice(-2)).toEqual([
      { type: "payload", base: "network", offset: 12, len: 4, dreg: 1 },
      { type: "lookup", sreg: 1, set: "vm", dreg: 0 },
    ])
    expect(decodeRule(compileRule(vmap, "inet"), "inet")).toEqual(vmap)
    const bad = v.safeParse(NftDesiredSchema, {
      tables: [
        {
          family: "ip",
          name: "n",
          sets: [
            { name: "m", type: "inet_service", map: "ipv4_addr", elements: { "80": "nope", "99999": "10.0.0.1" } },
          ],
          chains: [{ name: "c", rules: [{ verdict: { vmap: "@m", key: "tcp dport" } }] }],
        },
      ],
    })
    expect(bad.success ? [] : bad.issues.map((i) => i.message)).toEqual([
      'elements.80: "nope" is not an IPv4 address',
      "elements.99999: 99999 is not a port",
      "chain c uses @m, a map to ipv4_addr, which does not fit this verdict",
    ])
  })

  test("concatenations: guards first, keys into consecutive 32-bit registers (nft --debug=netlink)", () => {
    // nft --debug=netlink add rule inet t c ip saddr . tcp dport @s accept
    //   [ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] [ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ]
    //   [ payload load 4b @ network header + 12 => reg 1 ] [ payload load 2b @ transport header + 2 => reg 9 ]
    //   [ lookup reg 1 set s ] [ immediate reg 0 accept ]
    const r = {
      match: { concat: { keys: ["ip saddr" as const, "tcp dport" as const], set: "@s" } },
      verdict: "accept" as const,
    }
    expect(compileRule(r, "inet")).toEqual([
      { type: "meta", key: "nfproto", dreg: 1 },
      { type: "cmp", sreg: 1, op: "eq", data: "02" },
      { type: "meta", key: "l4proto", dreg: 1 },
      { type: "cmp", sreg: 1, op: "eq", data: "06" },
      { type: "payload", base: "network", offset: 12, len: 4, dreg: 1 },
      { type: "payload", base: "transport", offset: 2, len: 2, dreg: 9 },
      { type: "lookup", sreg: 1, set: "s" },
      { type: "immediate", dreg: 0, verdict: "accept" },
    ])
    expect(decodeRule(compileRule(r, "inet"), "inet")).toEqual(r)
    const r2 = {
      match: {
        iifname: "eth0",
        concat: { keys: ["ip6 daddr" as const, "udp dport" as const, "oifname" as const], set: "@t" },
      },
      counter: true,
      verdict: "drop" as const,
    }
    expect(decodeRule(compileRule(r2, "inet"), "inet")).toEqual(r2)
  })
})
