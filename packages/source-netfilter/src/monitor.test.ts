// Event hints without root: one per transaction (at its NEWGEN), a source's own echoes
// left out, events that never see their NEWGEN still a hint after a moment.
import { describe, expect, test } from "bun:test"
import { MessageWriter, nfnl, parseMessages } from "@linx/netlink/wire"
import { type NftHint, transactionHints } from "./monitor.ts"

const NEWRULE = 6
const DELRULE = 8
const NEWGEN = 15

/** Event messages: [msg type, port id, table (none for NEWGEN)]. */
function events(list: [number, number, string?][]) {
  const w = new MessageWriter()
  for (const [type, , table] of list) {
    w.begin(nfnl.nftType(type), 0)
    nfnl.writeNfgenmsg(w, 1)
    if (table) w.attrString(1, table)
    w.end()
  }
  const buf = w.finish().slice()
  // nlmsg_pid: the port id of the socket that caused the event
  const view = new DataView(buf.buffer)
  let off = 0
  for (const [, portId] of list) {
    view.setUint32(off + 12, portId, true)
    off += view.getUint32(off, true)
  }
  return parseMessages(buf)
}

describe("event hints", () => {
  test("a transaction is one hint, at its NEWGEN, however many chunks it spans", () => {
    const got: NftHint[] = []
    const h = transactionHints(
      () => 99,
      (x) => got.push(x),
    )
    h.feed(
      events([
        [DELRULE, 5, "edge"],
        [DELRULE, 5, "edge"],
      ]),
    )
    h.feed(events([[DELRULE, 5, "other"]]))
    expect(got).toEqual([])
    h.feed(events([[NEWGEN, 5]]))
    expect(got).toEqual([
      {
        scope: [
          { kind: "table", key: "inet edge" },
          { kind: "table", key: "inet other" },
        ],
      },
    ])
    h.close()
  })

  test("the source's own transactions are not news; anyone else's are", () => {
    const got: NftHint[] = []
    const h = transactionHints(
      () => 99,
      (x) => got.push(x),
    )
    h.feed(
      events([
        [NEWRULE, 99, "edge"],
        [NEWGEN, 99],
        [DELRULE, 7, "edge"],
        [NEWGEN, 7],
      ]),
    )
    expect(got).toEqual([{ scope: [{ kind: "table", key: "inet edge" }] }])
    h.close()
  })

  test("events whose NEWGEN never comes are a hint after a moment", async () => {
    const got: NftHint[] = []
    const h = transactionHints(
      () => 99,
      (x) => got.push(x),
    )
    h.feed(events([[DELRULE, 0, "edge"]]))
    expect(got).toEqual([])
    await Bun.sleep(40)
    expect(got).toEqual([{ scope: [{ kind: "table", key: "inet edge" }] }])
    h.close()
  })
})
