// NetlinkSocket over recorded kernel traffic (fixtures under ./fixtures, each headed by
// the command that recorded it) and synthesized replies.
import { describe, expect, test } from "bun:test"
import linkDump from "./fixtures/link-dump.json"
import unknownKind from "./fixtures/newlink-unknown-kind.json"
import badDump from "./fixtures/route-dump-bad-header.json"
import { DumpInterruptedError, isNotSupported, NetlinkError } from "./errors.ts"
import { NetlinkSocket } from "./socket.ts"
import { ReplayTransport } from "./testing/replay.ts"
import { locateAttribute } from "./wire/ack.ts"
import { NLM_F_DUMP_INTR, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR } from "./wire/constants.ts"
import { forEachAttr, parseMessages, readString } from "./wire/reader.ts"
import { MessageWriter } from "./wire/writer.ts"

const getLink = (w: MessageWriter) => w.begin(18, 0).u8(0).u8(0).u16(0).i32(0).u32(0).u32(0).end()

function linkNames(msgs: ReturnType<NetlinkSocket["dump"]>): string[] {
  return msgs.map((m) => {
    let name = ""
    forEachAttr(m.view, m.payload + 16, m.end, (t, o, l) => {
      if (t === 3) name = readString(m.view, o, l)
    })
    return name
  })
}

describe("dump", () => {
  test("replays a recorded RTM_GETLINK dump and sends the same request", () => {
    const t = ReplayTransport.fromRecording(linkDump)
    const s = new NetlinkSocket(t)
    const msgs = s.dump(getLink)
    expect(msgs.every((m) => m.type === 16)).toBe(true)
    expect(linkNames(msgs).sort()).toEqual(["lo", "v0", "v1"])
    // the request bytes are exactly what was sent to the kernel when recording
    expect(Buffer.from(t.sent[0]!).toString("hex")).toBe(linkDump.sent[0]!)
  })

  test("a dump error in NLMSG_DONE carries the kernel's message", () => {
    const s = new NetlinkSocket(ReplayTransport.fromRecording(badDump))
    try {
      s.dump((w) => w.begin(26, 0).u8(2).u8(8).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0).end())
      throw new Error("expected a NetlinkError")
    } catch (e) {
      expect(e).toBeInstanceOf(NetlinkError)
      const ne = e as NetlinkError
      expect(ne.code).toBe("EINVAL")
      expect(ne.kernelMessage).toBe("Invalid values in header for FIB dump request")
      expect(ne.request?.type).toBe(26)
    }
  })

  function dumpReply(seq: number, flags: number, n: number): Uint8Array {
    const w = new MessageWriter()
    for (let i = 0; i < n; i++)
      w.begin(16, NLM_F_MULTI | flags)
        .u8(0)
        .u8(0)
        .u16(0)
        .i32(i + 1)
        .u32(0)
        .u32(0)
        .end()
    w.begin(NLMSG_DONE, NLM_F_MULTI | flags)
      .i32(0)
      .end()
    for (let i = 0; i <= n; i++) w.stamp(i, seq)
    return w.finish().slice()
  }

  test("NLM_F_DUMP_INTR makes the dump repeat, bounded", () => {
    const t = new ReplayTransport([dumpReply(1, NLM_F_DUMP_INTR, 2), dumpReply(2, 0, 3)])
    const s = new NetlinkSocket(t)
    expect(s.dump(getLink).length).toBe(3)
    expect(t.sent.length).toBe(2)

    const always = new ReplayTransport([1, 2, 3].map((seq) => dumpReply(seq, NLM_F_DUMP_INTR, 1)))
    expect(() => new NetlinkSocket(always).dump(getLink, { retries: 2 })).toThrow(DumpInterruptedError)
  })

  test("messages of other sequence numbers are skipped", () => {
    const t = new ReplayTransport([dumpReply(77, 0, 4), dumpReply(1, 0, 1)])
    expect(new NetlinkSocket(t).dump(getLink).length).toBe(1)
  })
})

describe("request", () => {
  test("a refused request raises NetlinkError with errno, code and the kernel's text", () => {
    const s = new NetlinkSocket(ReplayTransport.fromRecording(unknownKind))
    const w = new MessageWriter()
    w.begin(16, 0x600, "ip link add x0 type nonexistentkind")
      .u8(0)
      .u8(0)
      .u16(0)
      .i32(0)
      .u32(0)
      .u32(0)
      .attrString(3, "x0")
    const li = w.nestStart(18)
    w.attrString(1, "nonexistentkind").nestEnd(li).end()
    try {
      s.request(w, { headerSize: 16 })
      throw new Error("expected a NetlinkError")
    } catch (e) {
      const ne = e as NetlinkError
      expect(ne).toBeInstanceOf(NetlinkError)
      expect(ne.errno).toBe(95)
      expect(isNotSupported(ne)).toBe(true)
      expect(ne.kernelMessage).toBe("Unknown device type")
      expect(ne.request?.label).toBe("ip link add x0 type nonexistentkind")
      expect(ne.message).toContain("Unknown device type")
    }
  })
})

function ack(seq: number, errno: number, message?: string, offset?: number): Uint8Array {
  const w = new MessageWriter()
  w.begin(NLMSG_ERROR, 0x100 | (message || offset !== undefined ? 0x200 : 0)).i32(-errno)
  w.u32(16).u16(24).u16(5).u32(seq).u32(0)
  if (message) w.attrString(1, message)
  if (offset !== undefined) w.attrU32(2, offset)
  w.end().stamp(0, seq)
  return w.finish().slice()
}

describe("batch", () => {
  test("maps each error to its message by sequence number; the barrier ends the read", () => {
    const w = new MessageWriter()
    for (let i = 0; i < 5; i++) w.begin(24, 0x400, `route ${i}`).u32(i).end()
    // seqs 1..5 for the messages, 6 for the barrier
    const t = new ReplayTransport([ack(2, 17, "File exists"), ack(4, 100, "Nexthop device is not up"), ack(6, 0)])
    const r = new NetlinkSocket(t).batch(w)
    expect(r.failed.map((f) => [f.index, f.error.code, f.error.kernelMessage, f.error.request?.label])).toEqual([
      [1, "EEXIST", "File exists", "route 1"],
      [3, "ENETDOWN", "Nexthop device is not up", "route 3"],
    ])
    // one datagram for the batch, one for the barrier
    expect(t.sent.length).toBe(2)
    expect(parseMessages(t.sent[0]!).length).toBe(5)
    expect(parseMessages(t.sent[1]!)[0]?.type).toBe(1)
  })

  test("chunks a large batch, one barrier per chunk", () => {
    const w = new MessageWriter()
    for (let i = 0; i < 100; i++) w.begin(24, 0).zeros(100).end() // 116 bytes each
    const t = new ReplayTransport([ack(101, 0), ack(102, 0)])
    const r = new NetlinkSocket(t).batch(w, { chunkBytes: 116 * 60 })
    expect(r.failed).toEqual([])
    expect(t.sent.map((d) => parseMessages(d).length)).toEqual([60, 1, 40, 1])
  })

  test("error offsets are located in the request's attributes", () => {
    const w = new MessageWriter()
    w.begin(24, 0).zeros(12).attrU32(1, 1).attrU32(5, 2).end()
    const bytes = w.finish()
    // offset 36 = header 16 + rtmsg 12 + first attr 8 -> attribute type 5
    expect(locateAttribute(bytes, 12, 36)).toEqual([5])
    const t = new ReplayTransport([ack(1, 22, "bad gateway", 36), ack(2, 0)])
    const r = new NetlinkSocket(t).batch(w, { headerSize: 12 })
    expect(r.failed[0]?.error.extAck.attributePath).toEqual([5])
    expect(r.failed[0]?.error.offset).toBe(36)
  })
})
