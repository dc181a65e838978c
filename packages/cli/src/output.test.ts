// Text written as bytes reaches an Output either way: its `bytes` as they come, or (an
// Output of lines alone) its `out` a block of whole lines at a time, the same text.
import { expect, test } from "bun:test"
import type { Output } from "./output.ts"
import { stageClock, textOut } from "./output.ts"

const lines = Array.from({ length: 3000 }, (_, i) => `  ip route add 10.${i >> 8}.${i & 255}.0/24 dev été${i} proto 77`)

test("to an Output of lines: whole lines only, the same text", () => {
  const got: string[] = []
  const io: Output = { out: (l) => void got.push(l), err: () => {} }
  const out = textOut(io)
  for (const l of lines) out.text(l).byte(10)
  out.end()
  expect(got.length).toBeGreaterThan(1) // blocks, not one
  expect(got.length).toBeLessThan(lines.length) // nor a call per line
  expect(got.map((b) => `${b}\n`).join("")).toBe(lines.map((l) => `${l}\n`).join(""))
})

test("to an Output that takes bytes: the chunks, in order, the same text", () => {
  const chunks: Uint8Array[] = []
  const io: Output = { out: () => expect.unreachable(), err: () => {}, bytes: (c) => void chunks.push(c.slice()) }
  const out = textOut(io)
  for (const l of lines) out.text(l).byte(10)
  out.end()
  expect(Buffer.concat(chunks).toString("utf8")).toBe(lines.map((l) => `${l}\n`).join(""))
})

test("stage times: each stage in order, then the total since the process started", async () => {
  const clock = stageClock()
  clock.mark("start")
  await Bun.sleep(20)
  clock.mark("load")
  clock.mark("diff")
  const line = clock.line()
  // (the start is however long this process has run: a test runner's may be seconds)
  expect(line).toMatch(/^start (\d+ ms|\d+\.\d\d s), load (\d+) ms, diff \d+ ms, total (\d+ ms|\d+\.\d\d s)$/)
  expect(Number(/load (\d+) ms/.exec(line)![1])).toBeGreaterThanOrEqual(19)
})
