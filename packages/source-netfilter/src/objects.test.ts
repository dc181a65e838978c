// Named objects without root: an object's key leaves out its running state (a counter's
// packets and bytes, a quota's consumed bytes) and keeps everything else; written back,
// its attributes are the ones dumped; the diff makes a changed object anew. Elements with
// their own timeout or comment carry them in their keys, and plans print them.
import { describe, expect, test } from "bun:test"
import { MessageWriter, nfnl, parseMessages, toHex } from "@linx/netlink/wire"
import type { NamedObject } from "./model.ts"
import { diffObjects, parseObject, writeObject } from "./objects.ts"
import { entryParts } from "./elements.ts"
import { elementsText } from "./ops.ts"
import { elementAttrs } from "./set.ts"

/** A NEWOBJ as the kernel dumps it: table, name, type, data { attrs }, use, handle. */
function dumped(type: number, data: [number, Uint8Array][]): NamedObject {
  const w = new MessageWriter()
  w.begin(nfnl.nftType(nfnl.NFT_MSG_NEWOBJ), 0)
  nfnl.writeNfgenmsg(w, 1)
  w.attrString(1, "edge").attrString(2, "o").attrU32be(3, type)
  const d = w.nestStart(4)
  for (const [t, v] of data) w.attrBytes(t, v)
  w.nestEnd(d)
  w.attrU32be(5, 3) // use
  w.attrBytes(6, new Uint8Array(8).fill(9)) // handle
  w.end()
  const o = parseObject(parseMessages(w.finish())[0]!)!
  expect(o.table).toBe("edge")
  expect(o.family).toBe(1)
  return o
}

const u64 = (n: number) => new Uint8Array(8).fill(n)

describe("named objects", () => {
  test("a counter's packets and bytes and a quota's consumed bytes are not part of its key", () => {
    expect(
      dumped(1, [
        [1, u64(1)],
        [2, u64(2)],
      ]).key,
    ).toBe(
      dumped(1, [
        [1, u64(7)],
        [2, u64(8)],
      ]).key,
    )
    const quota = (bytes: number, consumed: number) =>
      dumped(2, [
        [1, u64(bytes)],
        [2, new Uint8Array(4)],
        [4, u64(consumed)],
      ])
    expect(quota(10, 0).key).toBe(quota(10, 5).key)
    expect(quota(10, 0).key).not.toBe(quota(20, 0).key)
    // the same data under another type is another object
    expect(dumped(4, [[1, u64(1)]]).key).not.toBe(dumped(1, [[1, u64(1)]]).key)
  })

  test("written back: table and name, then the dumped type and data, never use or handle", () => {
    const o = dumped(2, [
      [1, u64(10)],
      [4, u64(3)],
    ])
    const w = new MessageWriter()
    writeObject(w, { family: 1, table: "t2", label: "x" }, o, 0x400)
    const m = parseMessages(w.finish())[0]!
    const back = parseObject(m)!
    expect([back.table, back.name, back.type, back.key]).toEqual(["t2", "o", 2, o.key])
    const types: number[] = []
    const b = new Uint8Array(m.view.buffer, m.view.byteOffset + m.payload + 4, m.end - m.payload - 4)
    for (let p = 0; p + 4 <= b.length; ) {
      const len = b[p]! | (b[p + 1]! << 8)
      types.push(b[p + 2]! & 0x3f)
      p += (len + 3) & ~3
    }
    expect(types).toEqual([1, 2, 3, 4])
  })

  test("diff: missing made, foreign deleted, changed made anew (and said so)", () => {
    const where = { family: "inet", table: "edge" }
    const a = { name: "a", type: 1, key: "k1", attrs: new Uint8Array() }
    const b = { name: "b", type: 2, key: "k2", attrs: new Uint8Array() }
    const out = { deletes: [] as unknown[], creates: [] as unknown[] }
    expect(diffObjects([a, b], [{ ...a }, { ...b, key: "old" }, { ...a, name: "x" }], where, out as never)).toBe(true)
    expect(out.deletes).toEqual([
      { kind: "delete", object: "obj", name: "b", type: 2, ...where },
      { kind: "delete", object: "obj", name: "x", type: 1, ...where },
    ])
    expect(out.creates).toEqual([{ kind: "create", object: "obj", obj: b, ...where }])
    const none = { deletes: [], creates: [] }
    expect(diffObjects([a], [{ ...a }], where, none)).toBe(false)
    expect(none).toEqual({ deletes: [], creates: [] })
  })
})

describe("elements with their own attributes", () => {
  test("keys carry timeout and comment as the kernel dumps them; plans print them as nft writes them", () => {
    const k = toHex([10, 0, 0, 1]) + elementAttrs({ key: "10.0.0.1", timeout: "90m", comment: "first" }, 3_600_000)
    expect(entryParts(k)).toEqual({ key: "0a000001", end: false, extra: k.split(";a=")[1]! })
    expect(elementsText([k], "ipv4_addr", undefined)).toEqual(['10.0.0.1 timeout 1h30m comment "first"'])
    // the set's default timeout is not an element's own
    expect(elementAttrs({ key: "x", timeout: "1h" }, 3_600_000)).toBe("")
    expect(elementAttrs({ key: "x" }, undefined)).toBe("")
    const withData = `${toHex([10, 0, 0, 7])}=v:accept${elementAttrs({ key: "x", comment: "seven" }, undefined)}`
    expect(entryParts(withData).data).toBe("v:accept")
    expect(elementsText([withData], "ipv4_addr", "verdict")).toEqual(['10.0.0.7 comment "seven" : accept'])
  })
})
