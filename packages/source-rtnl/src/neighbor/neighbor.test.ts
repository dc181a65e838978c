// Neighbours without root: the codec round-trips; on the fake kernel entries are made,
// a learned one is taken over, a foreign static one is a conflict, and only static or
// marked entries hint.
import { describe, expect, test } from "bun:test"
import { MessageWriter, parseMessages } from "@linx/netlink/wire"
import { macBytes, parseIp } from "@linx/netlink/ip"
import * as v from "valibot"
import { hintFor } from "../monitor.ts"
import { RtnlDesiredSchema } from "../schema.ts"
import { createRtnlSource } from "../source.ts"
import { FakeRtnlKernel } from "../testing/fake.ts"
import * as c from "../wire/constants.ts"
import { decodeNeighbor, encodeNeighborRequest } from "../wire/neigh.ts"

const request = (state: number, protocol?: number) => ({
  op: "create" as const,
  family: "inet6" as const,
  index: 7,
  address: parseIp("fd00::2")!.bytes,
  lladdr: macBytes("02:00:00:00:00:03"),
  state,
  flags: c.NTF_ROUTER,
  ...(protocol ? { protocol } : {}),
})

describe("neighbours", () => {
  test("encode then decode gives the entry back", () => {
    const w = new MessageWriter()
    encodeNeighborRequest(w, request(c.NUD.permanent, 77))
    expect(decodeNeighbor(parseMessages(w.finish())[0]!)).toEqual({
      family: "inet6",
      index: 7,
      address: "fd00::2",
      lladdr: "02:00:00:00:00:03",
      state: c.NUD.permanent,
      flags: c.NTF_ROUTER,
      protocol: 77,
    })
  })

  test("events: a learned entry aging is not news, a static or marked one is", () => {
    const msg = (state: number, protocol?: number) => {
      const w = new MessageWriter()
      encodeNeighborRequest(w, request(state, protocol))
      return parseMessages(w.finish())[0]!
    }
    expect(hintFor([msg(c.NUD.stale)])).toBeUndefined()
    expect(hintFor([msg(c.NUD.permanent)])).toEqual({ scope: [{ kind: "neighbors" }] })
    expect(hintFor([msg(c.NUD.reachable, 77)])).toEqual({ scope: [{ kind: "neighbors" }] })
  })

  test("fake kernel: made; a learned entry taken over; a foreign static one a conflict", async () => {
    const kernel = new FakeRtnlKernel()
    const eth = kernel.addDevice("eth0")
    const s = createRtnlSource({ kernel })
    const own = { links: ["eth0"], routeProtocol: 77 }
    const d = v.parse(RtnlDesiredSchema, {
      neighbors: [
        { link: "eth0", address: "10.0.0.2", lladdr: "02:00:00:00:00:02" },
        { link: "eth0", address: "10.0.0.3", lladdr: "02:00:00:00:00:03" },
        { link: "eth0", address: "10.0.0.4", lladdr: "02:00:00:00:00:04" },
      ],
    })
    const base = { family: "inet" as const, index: eth.index, flags: 0 }
    kernel.setNeighbor({ ...base, address: "10.0.0.3", lladdr: "02:00:00:00:00:99", state: c.NUD.stale, protocol: 0 })
    kernel.setNeighbor({
      ...base,
      address: "10.0.0.4",
      lladdr: "02:00:00:00:00:98",
      state: c.NUD.permanent,
      protocol: 0,
    })
    const ops = s.diff(d, await s.observe(), own)
    expect(ops.map((o) => `${o.kind} ${s.describe(o).split("  #")[0]}`)).toEqual([
      "create ip neigh add 10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 nud permanent proto 77",
      "replace ip neigh replace 10.0.0.3 dev eth0 lladdr 02:00:00:00:00:03 nud permanent proto 77",
      expect.stringContaining("conflict # conflict: neighbour 10.0.0.4 on eth0 is a static entry made by someone else"),
    ])
    expect((await s.reconcile(ops)).failed).toEqual([])
    expect(
      kernel
        .neighbors()
        .filter((n) => n.protocol === 77)
        .map((n) => n.address),
    ).toEqual(["10.0.0.3", "10.0.0.2"])
  })
})
