// The plan and apply output, written a chunk at a time, is the text it always was: the JSON
// document byte for byte what JSON.stringify(doc, null, 2) says, each line as before.
import { expect, test } from "bun:test"
import type { TextBytes } from "@linx/netlink/ip"
import type { Output } from "./output.ts"
import {
  detailOf,
  type JsonList,
  opDetails,
  opTexts,
  printApplied,
  printPlan,
  writeJsonDocument,
} from "./plan-output.ts"

/** An Output that takes bytes (and lines), and the text it got. */
function capture(): { io: Output; text: () => string } {
  const parts: Buffer[] = []
  const io: Output = {
    out: (l) => void parts.push(Buffer.from(`${l}\n`)),
    err: () => {},
    bytes: (c) => void parts.push(Buffer.from(c)),
  }
  return { io, text: () => Buffer.concat(parts).toString("utf8") }
}

const list = <T>(xs: readonly T[]): JsonList => ({ length: xs.length, item: (i) => xs[i] })

const items = [
  "ip route add 10.0.0.0/8 via 10.0.0.1 proto 77",
  'a "quoted" \\ name\nover two lines',
  "ünïcødé 😀",
  { kind: "create", object: "route", before: null, after: { dst: "10.0.0.0/8", list: [1, [2, { x: [] }]], e: {} } },
  { kind: "delete", after: null, nested: { deeper: { deepest: ["a", "b"] } } },
  [],
  {},
  null,
  0,
  false,
]

test("a JSON document written item by item is JSON.stringify's, byte for byte", () => {
  const docs: Record<string, unknown>[] = [
    {},
    { file: "f.json", source: "rtnl", ops: [], pending: false },
    { file: "f.json", source: "rtnl", ops: items, details: items, waiting: ["x"], check: undefined, pending: true },
    { results: items.map((op, i) => ({ op, result: i % 2 ? "ok" : "failed", error: "EEXIST" })) },
    { only: { a: [1, 2], b: "c" } },
  ]
  for (const doc of docs) {
    const lazy: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(doc)) lazy[k] = Array.isArray(v) ? list(v) : v
    const { io, text } = capture()
    writeJsonDocument(io, lazy)
    expect(text()).toBe(`${JSON.stringify(doc, null, 2)}\n`)
  }
  // an item that says nothing (undefined) is null in an array, as JSON.stringify has it
  const { io, text } = capture()
  writeJsonDocument(io, { xs: list([undefined, 1]) })
  expect(text()).toBe(`${JSON.stringify({ xs: [undefined, 1] }, null, 2)}\n`)
})

test("a long list crosses many chunks and stays one document", () => {
  const ops = Array.from({ length: 20_000 }, (_, i) => `ip route add 10.${i >> 8}.${i & 255}.0/24 dev eth0 proto 77`)
  const { io, text } = capture()
  writeJsonDocument(io, { ops: list(ops), pending: true })
  expect(JSON.parse(text())).toEqual({ ops, pending: true })
  expect(text()).toBe(`${JSON.stringify({ ops, pending: true }, null, 2)}\n`)
})

/** Ops of three kinds: one that writes its own bytes, plain ones, a conflict. */
const own = { describeInto: (out: TextBytes) => void out.text("ip route add 10.9.0.0/16 dev eth0 proto 77") }
const plain = { kind: "create", object: "route", text: "ip route add 10.8.0.0/16 dev eth0 proto 77" }
const bad = { kind: "create", object: "route", text: "ip route add 10.7.0.0/16 dev nope proto 77" }
const conflict = { kind: "conflict", object: "route", key: "k", reason: "r" }
const describe = (op: unknown) =>
  op === own
    ? "ip route add 10.9.0.0/16 dev eth0 proto 77"
    : op === conflict
      ? "# conflict: r"
      : (op as typeof plain).text

test("apply's text: each op with what came of it, then the count", () => {
  const { io, text } = capture()
  const failed = new Map<unknown, Error>([[bad, new Error("Cannot find device")]])
  printApplied(io, "f.yaml", [own, plain, bad, conflict], describe, failed, { applied: 2, failed: 1, conflicts: 1 })
  expect(text()).toBe(
    [
      "ok      ip route add 10.9.0.0/16 dev eth0 proto 77",
      "ok      ip route add 10.8.0.0/16 dev eth0 proto 77",
      "FAILED  ip route add 10.7.0.0/16 dev nope proto 77",
      "        Cannot find device",
      "skip    # conflict: r",
      "2 applied, 1 failed, 1 conflict(s)",
      "",
    ].join("\n"),
  )
  const none = capture()
  printApplied(none.io, "f.yaml", [], describe, new Map(), { applied: 0, failed: 0, conflicts: 0 })
  expect(none.text()).toBe("f.yaml: nothing to do, the kernel matches the desired state\n")
})

test("plan's text: the count, each op, what waits, the kernel's word", () => {
  const { io, text } = capture()
  const checked = {
    accepted: false,
    refused: [
      { op: "x", error: "No such file" },
      { op: "y", error: "z" },
    ],
  }
  printPlan(io, "f.yaml", [own, plain, conflict], describe, 1, ["sysctl waits"], checked)
  expect(text()).toBe(
    [
      "f.yaml: 2 change(s) pending, 1 conflict(s), 1 waiting",
      "  ip route add 10.9.0.0/16 dev eth0 proto 77",
      "  ip route add 10.8.0.0/16 dev eth0 proto 77",
      "  # conflict: r",
      "  # waiting: sysctl waits",
      "  # the kernel would refuse: x: No such file",
      "  # (and 1 more op(s) after it; --json lists them)",
      "",
    ].join("\n"),
  )
})

test("plan --json's ops and details, from ops' own bytes or their text, are JSON.stringify's", () => {
  const texts = [
    "ip route add 10.9.0.0/16 dev eth0 proto 77",
    'a "quoted" \\ name\twith\ttabs\nand lines\u0001\u001f',
    "ünïcødé 😀 dev été",
    `long ${"x".repeat(5000)}`, // longer than the scratch: written the string way
    "",
  ]
  // each text twice: an op that writes its own bytes, and a plain one of each detail shape
  const ops: unknown[] = []
  const text = new Map<unknown, string>()
  texts.forEach((t, i) => {
    const owned: Record<string, unknown> = {
      kind: "create",
      object: "route",
      describeInto: (out: TextBytes) => void out.text(t),
    }
    if (i % 2) owned.spec = { dst: `10.${i}.0.0/16`, dev: "eth0" } // a detail with before/after: not the one of its kind made once
    const shapes = [
      { kind: "update", object: "link", was: { mtu: 1500 }, changes: { mtu: 9000, up: true } },
      { kind: "set", value: "1", from: "0" },
      { kind: "create", object: "address", spec: { link: "eth0", address: "10.0.0.1/24" } },
      { kind: "delete", object: "rule" },
      {},
    ]
    const plain = shapes[i % shapes.length]!
    for (const op of [owned, { ...plain }]) {
      ops.push(op)
      text.set(op, t)
    }
  })
  ops.push({}) // no kind, no object: an empty detail and the op's text
  text.set(ops.at(-1), "bare")
  const describe = (op: unknown) => text.get(op)!
  const { io, text: got } = capture()
  writeJsonDocument(io, { ops: opTexts(ops, describe), details: opDetails(ops, describe), pending: true })
  const want = {
    ops: ops.map(describe),
    details: ops.map((op) => ({ ...detailOf(op), op: describe(op) })),
    pending: true,
  }
  expect(got()).toBe(`${JSON.stringify(want, null, 2)}\n`)
})
