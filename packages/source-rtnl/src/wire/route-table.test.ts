// The packed route table's edges: a dump the kernel interrupts starts its routes again,
// a malformed message adds nothing, truncate forgets whole routes (and those kept whole).
import { describe, expect, test } from "bun:test"
import { NetlinkSocket } from "@linx/netlink"
import { ReplayTransport } from "@linx/netlink/testing"
import { MessageWriter, nl, parseMessages } from "@linx/netlink/wire"
import { dumpRoutesInto } from "../kernel.ts"
import { encodeRouteRequest, type RouteRequest } from "./route.ts"
import { RouteTable } from "./route-table.ts"

const route = (i: number, extra: Partial<RouteRequest> = {}): RouteRequest => ({
  op: "create",
  family: "inet",
  dst: new Uint8Array([10, 0, i >> 8, i & 255]),
  dstLen: 32,
  table: 254,
  protocol: 77,
  scope: 0,
  type: 1,
  tos: 0,
  priority: 0,
  flags: 0,
  oif: 2,
  ...extra,
})

/** A dump reply of these routes and NLMSG_DONE, with sequence `seq` and extra flags. */
function reply(seq: number, flags: number, routes: RouteRequest[]): Uint8Array {
  const w = new MessageWriter()
  for (const r of routes) encodeRouteRequest(w, r)
  w.begin(nl.NLMSG_DONE, 0).i32(0).end()
  const bytes = w.finish().slice()
  const v = new DataView(bytes.buffer)
  for (const m of parseMessages(bytes)) {
    v.setUint16(m.offset + 6, nl.NLM_F_MULTI | flags, true)
    v.setUint32(m.offset + 8, seq, true)
  }
  return bytes
}

const multipath = {
  multipath: [
    { oif: 2, weight: 1, flags: 0 },
    { oif: 3, weight: 2, flags: 0 },
  ],
}

describe("route table", () => {
  test("a dump the kernel interrupts is read again, and only its last reading stays in the table", async () => {
    const t = new ReplayTransport([
      reply(1, nl.NLM_F_DUMP_INTR, [route(1), route(2, multipath)]),
      reply(2, 0, [route(1), route(3), route(4)]),
    ])
    const into = RouteTable.of([]) // what an earlier dump (the other family) put there stays
    const before = new RouteTable()
    before.add(parseMessages(reply(9, 0, [route(9, multipath)]))[0]!, () => true)
    into.copyFrom(before, 0)
    await dumpRoutesInto(new NetlinkSocket(t), { family: "inet" }, into)
    expect(t.sent.length).toBe(2)
    expect(into.toArray().map((r) => [r.dst, r.nexthops?.length ?? 0])).toEqual([
      ["10.0.0.9/32", 2],
      ["10.0.0.1/32", 0],
      ["10.0.0.3/32", 0],
      ["10.0.0.4/32", 0],
    ])
  })

  test("a malformed route adds nothing: a bad attribute length, an address of 5 bytes", () => {
    const t = RouteTable.of([])
    const good = parseMessages(reply(1, 0, [route(1)]))[0]!
    t.add(good, () => true)
    const long = reply(1, 0, [route(2)])
    new DataView(long.buffer).setUint16(16 + 12, 200, true) // RTA_DST's length, past the message
    expect(() => t.add(parseMessages(long)[0]!, () => true)).toThrow("malformed")
    const five = parseMessages(reply(1, 0, [route(3, { gateway: new Uint8Array(5) })]))[0]!
    expect(() => t.add(five, () => true)).toThrow("5 bytes")
    expect(t.length).toBe(1)
    expect(t.route(0).dst).toBe("10.0.0.1/32")
  })

  test("truncate forgets whole routes too; what keep refuses is not added", () => {
    const t = new RouteTable(1)
    for (const r of [route(1), route(2, multipath), route(3)]) t.add(parseMessages(reply(1, 0, [r]))[0]!, () => true)
    expect(t.route(1).nexthops?.length).toBe(2)
    t.truncate(1)
    t.add(parseMessages(reply(1, 0, [route(5)]))[0]!, () => true)
    t.add(parseMessages(reply(1, 0, [route(6)]))[0]!, (table) => table !== 254)
    expect(t.toArray().map((r) => [r.dst, r.nexthops])).toEqual([
      ["10.0.0.1/32", undefined],
      ["10.0.0.5/32", undefined],
    ])
  })
})
