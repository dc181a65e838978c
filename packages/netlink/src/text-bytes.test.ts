// TextBytes hands on exactly the UTF-8 of what was written, in chunks no larger than its
// buffer, wherever a string, a number or a character falls across two chunks.
import { expect, test } from "bun:test"
import { TextBytes } from "./text-bytes.ts"

/** Writes with `write`, collecting the chunks (copied: they are views of one buffer). */
function collect(size: number, write: (out: TextBytes) => void): { text: string; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = []
  const out = new TextBytes((c) => void chunks.push(c.slice()), size)
  write(out)
  out.end()
  return { text: Buffer.concat(chunks).toString("utf8"), chunks }
}

const samples = [
  "",
  "ip route add ",
  "a".repeat(31),
  "a".repeat(33),
  "a".repeat(64),
  "a".repeat(65),
  "a".repeat(256),
  "a".repeat(257),
  `${"a".repeat(200)}é`, // non-ASCII after the ASCII copy began
  "x".repeat(1000),
  "ünïcødé",
  "dev ethé0",
  "名前",
  "😀 and 😀😀",
  `${"b".repeat(62)}😀`, // a 4-byte character where a 64-byte chunk ends
  "ÿ".repeat(100),
]

test("strings of every kind come out as their UTF-8, chunked at any size", () => {
  for (const size of [64, 65, 67, 100, 300, 4096]) {
    const { text, chunks } = collect(size, (out) => {
      for (const s of samples) out.text(s).byte(10)
    })
    expect(text).toBe(samples.map((s) => `${s}\n`).join(""))
    expect(chunks.every((c) => c.length > 0 && c.length <= size)).toBe(true)
  }
})

test("a lone surrogate is written as U+FFFD, as TextEncoder writes it", () => {
  const s = "a\ud800b"
  expect(collect(64, (out) => out.text(s)).text).toBe(new TextDecoder().decode(new TextEncoder().encode(s)))
})

test("integers in decimal, and what is no safe non-negative integer as String() says it", () => {
  const xs = [0, 1, 9, 10, 99, 100, 255, 1024, 4294967295, 2 ** 53 - 1, -1, 1.5, Number.NaN, 2 ** 60]
  for (const size of [64, 70]) {
    const { text } = collect(size, (out) => {
      for (let k = 0; k < 20; k++) for (const x of xs) out.uint(x).byte(32)
    })
    expect(text).toBe(Array.from({ length: 20 }, () => xs.map((x) => `${String(x)} `).join("")).join(""))
  }
})

test("IPv4 addresses dotted from their 32-bit value", () => {
  const xs = [0, 0x0a010203, 0xffffffff, 0xc0000201, 0x7f000001]
  const { text } = collect(64, (out) => {
    for (let k = 0; k < 10; k++) for (const a of xs) out.ipv4(a).byte(10)
  })
  const dotted = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`
  expect(text).toBe(Array.from({ length: 10 }, () => xs.map((a) => `${dotted(a)}\n`).join("")).join(""))
  expect(dotted(0x0a010203)).toBe("10.1.2.3")
})

test("nothing written is nothing handed on; flush hands on what there is, once", () => {
  const chunks: string[] = []
  const out = new TextBytes((c) => void chunks.push(Buffer.from(c).toString()))
  out.flush()
  out.end()
  expect(chunks).toEqual([])
  out.text("one")
  out.flush()
  out.flush()
  out.text("two").end()
  expect(chunks).toEqual(["one", "two"])
})

test("a buffer smaller than 64 bytes is made 64", () => {
  const { chunks } = collect(1, (out) => out.text("z".repeat(200)))
  expect(chunks.map((c) => c.length)).toEqual([64, 64, 64, 8])
})

test("bytes go as they are, across chunks; written() and clear() see and drop the unflushed part", () => {
  const big = new Uint8Array(300).map((_, i) => 65 + (i % 26))
  const { text, chunks } = collect(64, (out) => out.text("<").bytes(big).bytes(new Uint8Array(0)).text(">"))
  expect(text).toBe(`<${Buffer.from(big).toString("latin1")}>`)
  expect(chunks.every((c) => c.length <= 64)).toBe(true)
  const handed: string[] = []
  const out = new TextBytes((c) => void handed.push(Buffer.from(c).toString()), 64)
  out.text("kept")
  expect(Buffer.from(out.written()).toString()).toBe("kept")
  out.clear()
  expect(out.written().length).toBe(0)
  out.text("next").end()
  expect(handed).toEqual(["next"])
})
