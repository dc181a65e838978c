import { describe, expect, test } from "bun:test"
import { DecodeError } from "../errors.ts"
import { NLA_F_NESTED } from "./constants.ts"
import { forEachAttr, MessageReuse, parseMessages, readString } from "./reader.ts"
import { MessageWriter } from "./writer.ts"

describe("MessageWriter", () => {
  test("packs header, family header and aligned attributes", () => {
    const w = new MessageWriter(8) // small on purpose: must grow
    w.begin(16, 0x405).u8(0).u8(0).u16(0).i32(7).u32(0).u32(0)
    w.attrU32(4, 1500).attrString(3, "br0").attrU8(10, 1).attrU16be(1, 0x0800)
    w.end()
    const b = w.finish()
    const v = new DataView(b.buffer, b.byteOffset)
    expect(v.getUint32(0, true)).toBe(b.byteLength)
    expect(b.byteLength % 4).toBe(0)
    expect(v.getUint16(4, true)).toBe(16)
    expect(v.getUint16(6, true)).toBe(0x405)
    const seen: [number, number][] = []
    forEachAttr(v, 32, b.byteLength, (type, _off, len) => seen.push([type, len]))
    expect(seen).toEqual([
      [4, 4],
      [3, 4], // "br0\0"
      [10, 1],
      [1, 2],
    ])
  })

  test("nests compute their length and carry NLA_F_NESTED", () => {
    const w = new MessageWriter()
    w.begin(16, 0)
    const outer = w.nestStart(18)
    w.attrString(1, "veth")
    const data = w.nestStart(2)
    w.attrU32(5, 42)
    w.nestEnd(data).nestEnd(outer).end()
    const b = w.finish()
    const v = new DataView(b.buffer, b.byteOffset)
    expect(v.getUint16(16 + 2, true)).toBe(18 | NLA_F_NESTED)
    expect(v.getUint16(16, true)).toBe(b.byteLength - 16)
    const types: number[] = []
    forEachAttr(v, 16 + 4, b.byteLength, (t) => types.push(t))
    expect(types).toEqual([1, 2])
  })

  test("many messages, stamped and sliced", () => {
    const w = new MessageWriter()
    for (let i = 0; i < 3; i++) w.begin(24, 0, `op ${i}`).u32(i).end()
    w.stamp(1, 99, 5)
    const msgs = parseMessages(w.finish())
    expect(msgs.map((m) => m.seq)).toEqual([0, 99, 0])
    expect(msgs[1]?.pid).toBe(5)
    expect(w.labelOf(2)).toBe("op 2")
    expect(parseMessages(w.slice(1, 3)).length).toBe(2)
  })

  test("abort drops a half-written message", () => {
    const w = new MessageWriter()
    w.begin(24, 0).u32(1).end()
    w.begin(24, 0).u32(2).abort()
    expect(w.count).toBe(1)
    expect(parseMessages(w.finish()).length).toBe(1)
  })
})

describe("parseMessages rejects malformed input", () => {
  const good = new MessageWriter().begin(24, 0).u32(1).end().finish()

  test("truncated header", () => {
    expect(() => parseMessages(good.subarray(0, 10))).toThrow(DecodeError)
  })
  test("zero nlmsg_len does not loop", () => {
    const b = good.slice()
    new DataView(b.buffer).setUint32(0, 0, true)
    const err = (() => {
      try {
        parseMessages(b)
      } catch (e) {
        return e as DecodeError
      }
    })()
    expect(err).toBeInstanceOf(DecodeError)
    expect(err?.offset).toBe(0)
    expect(err?.reason).toContain("shorter than the header")
  })
  test("nlmsg_len past the end", () => {
    const b = good.slice()
    new DataView(b.buffer).setUint32(0, 4096, true)
    expect(() => parseMessages(b)).toThrow(/runs past the end/)
  })
  test("second message broken reports its offset", () => {
    const two = new Uint8Array(good.byteLength * 2)
    two.set(good)
    two.set(good, good.byteLength)
    new DataView(two.buffer).setUint32(good.byteLength, 3, true)
    try {
      parseMessages(two)
      throw new Error("no error")
    } catch (e) {
      expect((e as DecodeError).offset).toBe(good.byteLength)
    }
  })
  test("attribute longer than its container", () => {
    const w = new MessageWriter().begin(24, 0).attrU32(1, 5).end().finish()
    const b = w.slice()
    const v = new DataView(b.buffer)
    v.setUint16(16, 200, true)
    expect(() => forEachAttr(v, 16, b.byteLength, () => {})).toThrow(DecodeError)
    v.setUint16(16, 2, true)
    expect(() => forEachAttr(v, 16, b.byteLength, () => {})).toThrow(/shorter than the attribute header/)
  })
  test("readString stops at NUL", () => {
    const b = new TextEncoder().encode("eth0\0\0\0\0")
    expect(readString(new DataView(b.buffer), 0, b.byteLength)).toBe("eth0")
  })
})

describe("MessageReuse", () => {
  const datagram = (types: number[]) => {
    const w = new MessageWriter(256)
    for (const t of types) w.begin(t, 0).u32(t).end()
    return w.finish()
  }

  test("gives what parseMessages gives, and the same objects again for the next datagram", () => {
    const reuse = new MessageReuse()
    const a = datagram([16, 17, 18])
    const first = reuse.parse(a, a.length)
    expect(first.map((m) => [m.type, m.offset, m.payload, m.end])).toEqual(
      parseMessages(a).map((m) => [m.type, m.offset, m.payload, m.end]),
    )
    expect([...first[1]!.data]).toEqual([...parseMessages(a)[1]!.data])
    const kept = first[0]
    const b = datagram([20])
    const second = reuse.parse(b, b.length)
    expect(second.length).toBe(1)
    expect(second[0]).toBe(kept!) // reused: valid only until the next call
    expect(second[0]!.type).toBe(20)
    expect(second[0]!.view.getUint32(second[0]!.payload, true)).toBe(20)
  })

  test("refuses what parseMessages refuses", () => {
    const reuse = new MessageReuse()
    const bad = datagram([16]).slice()
    new DataView(bad.buffer).setUint32(0, 4096, true)
    expect(() => reuse.parse(bad, bad.length)).toThrow(DecodeError)
    expect(() => reuse.parse(bad, 10)).toThrow(DecodeError)
  })
})
