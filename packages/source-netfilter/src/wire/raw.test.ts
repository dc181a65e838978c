// The bytes of rules written as nft text, without root: their key leaves out what
// changes while a rule runs and names anonymous sets by contents; writing one back
// rebinds its anonymous sets by id and keeps every other byte.
import { describe, expect, test } from "bun:test"
import { MessageWriter, nfnl, toHex } from "@linx/netlink/wire"
import { textRuleProblem } from "../text.ts"
import { bytesKey, eachAttr, setsReferenced, writeAnonSet, writeRule } from "./raw.ts"

/** An expression list as the kernel dumps it: LIST_ELEM { NAME, DATA { attrs } }. */
function exprs(list: [name: string, attrs: [number, Uint8Array | string | number][]][]): Uint8Array {
  const w = new MessageWriter()
  w.begin(1, 0)
  for (const [name, attrs] of list) {
    const elem = w.nestStart(1)
    w.attrString(1, name)
    const data = w.nestStart(2)
    for (const [t, v] of attrs) {
      if (typeof v === "string") w.attrString(t, v)
      else if (typeof v === "number") w.attrU32be(t, v)
      else w.attrBytes(t, v)
    }
    w.nestEnd(data).nestEnd(elem)
  }
  w.end()
  return w.finish().slice(16)
}

const counter = (packets: number) => ["counter", [[1, new Uint8Array(8).fill(packets)]]] as [string, never]
const lookup = (set: string) =>
  [
    "lookup",
    [
      [1, set],
      [2, 1],
    ],
  ] as [string, never]

describe("a text rule's byte key", () => {
  test("counter values and quota's consumed bytes are left out; other bytes count", () => {
    const a = exprs([
      counter(0),
      [
        "quota",
        [
          [1, 1000],
          [3, 5],
        ],
      ],
    ])
    const b = exprs([
      counter(9),
      [
        "quota",
        [
          [1, 1000],
          [3, 77],
        ],
      ],
    ])
    const c = exprs([
      counter(0),
      [
        "quota",
        [
          [1, 2000],
          [3, 5],
        ],
      ],
    ])
    const k = (x: Uint8Array) => bytesKey(x, () => undefined)
    expect(k(a)).toBe(k(b))
    expect(k(a)).not.toBe(k(c))
  })

  test("an anonymous set is named by its contents, a named set by its name", () => {
    const anon = new Map([
      ["__set0", "{inet_service|3||0016,0050}"],
      ["__set7", "{inet_service|3||0016,0050}"],
      ["__set8", "{inet_service|3||0016}"],
    ])
    const k = (set: string) => bytesKey(exprs([lookup(set)]), (n) => anon.get(n))
    expect(k("__set0")).toBe(k("__set7"))
    expect(k("__set0")).not.toBe(k("__set8"))
    expect(k("allow")).toContain("set=allow")
    expect(setsReferenced(exprs([lookup("__set0"), counter(0), lookup("allow")]))).toEqual(["__set0", "allow"])
  })

  test("malformed bytes are a DecodeError, never a read past the end", () => {
    const bad = exprs([counter(1)]).slice(0, 7)
    expect(() => bytesKey(bad, () => undefined)).toThrow(/malformed/)
  })
})

describe("writing a text rule back", () => {
  test("its anonymous set is renamed __set%d and bound by id; every other byte is kept", () => {
    const list = exprs([["payload", [[1, 1]]], lookup("__set3"), counter(4), lookup("allow")])
    const w = new MessageWriter()
    writeRule(
      w,
      { family: 1, table: "t", chain: "c", label: "x" },
      { exprs: list, anon: [] },
      new Map([["__set3", 42]]),
      0,
    )
    const msg = Buffer.from(w.finish())
    expect(msg.readUInt16LE(4)).toBe(nfnl.nftType(nfnl.NFT_MSG_NEWRULE))
    const found: string[] = []
    eachAttr(
      msg,
      (t, s, e) => {
        if (t !== 4) return
        const inner = msg.subarray(s, e)
        expect(setsReferenced(inner)).toEqual(["__set%d", "allow"])
        // the key with the set named by contents is the same as the original's
        const names = new Map([
          ["__set3", "{x}"],
          ["__set%d", "{x}"],
        ])
        expect(bytesKey(inner, (n) => names.get(n))).toBe(bytesKey(list, (n) => names.get(n)))
        found.push(toHex(inner))
      },
      20,
    )
    expect(found.length).toBe(1)
    expect(found[0]).toContain(toHex(Buffer.from([0, 0, 0, 42]))) // NFTA_LOOKUP_SET_ID, big-endian
  })

  test("an anonymous set keeps the attributes a NEWSET takes and drops what only a dump has", () => {
    const w = new MessageWriter()
    w.begin(1, 0)
    w.attrString(1, "old").attrString(2, "__set3").attrU32be(3, 3).attrU32be(4, 13).attrU32be(5, 2)
    w.attrBytes(16, new Uint8Array(8)).attrString(19, "0xffffffff")
    w.end()
    const attrs = w.finish().slice(16)
    const out = new MessageWriter()
    const n = writeAnonSet(
      out,
      { family: 1, table: "t", label: "x" },
      { name: "__set3", attrs, elements: [new Uint8Array(0)] },
      7,
      0,
    )
    expect(n).toBe(1) // an empty element list sends no message
    const types: number[] = []
    eachAttr(out.finish(), (t) => types.push(t), 20)
    expect(types.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 10])
  })
})

describe("a rule text", () => {
  test("is one rule on one line", () => {
    expect(textRuleProblem("tcp dport 22 accept")).toBeUndefined()
    expect(textRuleProblem('log prefix "a;b" accept')).toBeUndefined()
    expect(textRuleProblem("accept; flush ruleset")).toContain("one rule")
    expect(textRuleProblem("accept\nflush ruleset")).toContain("one line")
    expect(textRuleProblem('log prefix "open')).toContain("unclosed quote")
  })
})
