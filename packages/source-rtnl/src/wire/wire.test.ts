// rtnetlink codecs on recorded kernel bytes (fixtures/, each headed by the command that
// recorded it), and encode → decode round trips. No root needed.
import { describe, expect, test } from "bun:test"
import { NetlinkSocket } from "@linx/netlink"
import { MessageWriter, parseMessages } from "@linx/netlink/wire"
import { fromHex, ReplayTransport } from "@linx/netlink/testing"
import { hintFor } from "../monitor.ts"
import { observedRouteKey } from "../route/model.ts"
import addrDump from "./fixtures/addr-dump.json"
import events from "./fixtures/events.json"
import linkDump from "./fixtures/link-dump.json"
import route4Dump from "./fixtures/route4-dump.json"
import route6Dump from "./fixtures/route6-dump.json"
import { decodeAddress, encodeAddressDump, encodeAddressRequest } from "./addr.ts"
import { decodeLink, encodeLinkDump, encodeLinkRequest } from "./link.ts"
import { decodeRoute, encodeRouteDump, encodeRouteRequest } from "./route.ts"

function replay<T>(
  rec: { received: string[] },
  build: (w: MessageWriter) => void,
  decode: (m: Parameters<typeof decodeLink>[0]) => T,
): T[] {
  return new NetlinkSocket(ReplayTransport.fromRecording({ command: "", sent: [], ...rec })).dumpInto(build, decode)
}

describe("decoding recorded dumps", () => {
  test("links: kinds, master, group, alias, mac, macvlan mode, bridge STP", () => {
    const links = replay(linkDump, encodeLinkDump, decodeLink)
    const by = new Map(links.map((l) => [l.name, l]))
    expect([...by.keys()].sort()).toEqual(["br0", "lo", "mv0", "v0", "v1"])
    expect(by.get("lo")).toMatchObject({ kind: "device", up: true, mtu: 65536 })
    // created with mtu 1400, the bridge took its port's 1500 when v0 joined (the kernel's auto-adjust)
    expect(by.get("br0")).toMatchObject({ kind: "bridge", up: true, mtu: 1500, stp: true })
    expect(by.get("v0")).toMatchObject({
      kind: "veth",
      up: true,
      mac: "02:00:00:00:00:01",
      group: 77,
      masterIndex: by.get("br0")!.index,
      linkIndex: by.get("v1")!.index,
    })
    expect(by.get("v1")).toMatchObject({ alias: "uplink", linkIndex: by.get("v0")!.index })
    expect(by.get("mv0")).toMatchObject({ kind: "macvlan", mode: "private", linkIndex: by.get("v1")!.index, up: false })
  })

  test("addresses: IPv4 with peer and label, IPv6 flags", () => {
    const addrs = replay(addrDump, (w) => encodeAddressDump(w), decodeAddress)
    const flat = addrs.map((a) => `${a.address}${a.peer ? ` peer ${a.peer}` : ""}${a.label ? ` label ${a.label}` : ""}`)
    expect(flat).toEqual(
      expect.arrayContaining([
        "10.1.0.1/24 label br0",
        "10.1.0.9/32 peer 10.1.0.10 label br0:p",
        "fd00::1/64",
        "fd02::1/64",
        "127.0.0.1/8 label lo",
        "::1/128",
      ]),
    )
    const fd02 = addrs.find((a) => a.address === "fd02::1/64")!
    expect(fd02.flags & 0x200).toBe(0x200) // IFA_F_NOPREFIXROUTE
    expect(fd02.flags & 0x02).toBe(0x02) // IFA_F_NODAD
  })

  test("IPv4 routes: gateway, metric, non-main table, ECMP weights, blackhole, mtu", () => {
    const routes = replay(route4Dump, (w) => encodeRouteDump(w, { family: 2 }), decodeRoute).filter(
      (r) => r.protocol === 77,
    )
    const by = new Map(routes.map((r) => [`${r.table} ${r.dst}`, r]))
    expect(by.get("254 10.2.0.0/16")).toMatchObject({ gateway: "10.1.0.254", priority: 10, type: 1 })
    expect(by.get("100 0.0.0.0/0")).toMatchObject({ gateway: "10.1.0.254" })
    expect(by.get("254 10.3.0.0/16")?.nexthops?.map((n) => [n.gateway, n.weight])).toEqual([
      ["10.1.0.253", 1],
      ["10.1.0.254", 3],
    ])
    expect(by.get("254 10.4.0.0/16")?.type).toBe(6)
    expect(by.get("254 10.5.0.0/16")).toMatchObject({ mtu: 1300, scope: 253 })
    // ids are the kernel's route key: distinct per route, equal for equal keys
    expect(new Set(routes.map((r) => r.id)).size).toBe(routes.length)
  })

  test("IPv6 routes, dumped with the kernel's table and protocol filter", () => {
    const routes = replay(route6Dump, (w) => encodeRouteDump(w, { family: 10, table: 254, protocol: 77 }), decodeRoute)
    expect(routes.map((r) => [r.dst, r.gateway, r.priority, r.protocol])).toEqual([["fd01::/48", "fd00::fe", 1024, 77]])
  })

  test("the dump requests are byte for byte what was sent when recording", () => {
    for (const [rec, build] of [
      [linkDump, encodeLinkDump],
      [route6Dump, (w: MessageWriter) => encodeRouteDump(w, { family: 10, table: 254, protocol: 77 })],
    ] as const) {
      const t = ReplayTransport.fromRecording(rec)
      new NetlinkSocket(t).dumpInto(build, () => 1)
      expect(Buffer.from(t.sent[0]!).toString("hex")).toBe(rec.sent[0]!)
    }
  })
})

describe("encode → decode round trips (a NEW request has the format of a dump reply)", () => {
  test("route with ECMP, prefsrc, mtu and a table above 255", () => {
    const w = new MessageWriter()
    encodeRouteRequest(w, {
      op: "create",
      family: "inet",
      dst: new Uint8Array([10, 9, 0, 0]),
      dstLen: 16,
      table: 1000,
      protocol: 77,
      scope: 0,
      type: 1,
      tos: 0,
      priority: 42,
      flags: 0,
      prefsrc: new Uint8Array([10, 1, 0, 1]),
      mtu: 1400,
      multipath: [
        { oif: 3, gateway: new Uint8Array([10, 1, 0, 253]), weight: 1, flags: 4 },
        { oif: 4, weight: 2, flags: 0 },
      ],
    })
    const r = decodeRoute(parseMessages(w.finish())[0]!)
    expect(r).toMatchObject({
      family: "inet",
      dst: "10.9.0.0/16",
      table: 1000,
      protocol: 77,
      priority: 42,
      prefsrc: "10.1.0.1",
      mtu: 1400,
    })
    expect(r.nexthops).toEqual([
      { flags: 4, weight: 1, oif: 3, gateway: "10.1.0.253" },
      { flags: 0, weight: 2, oif: 4 },
    ])
    expect(observedRouteKey(r)).toBe("1000 10.9.0.0/16 0 42")
  })

  test("address with peer, label, flags and IFA_PROTO", () => {
    const w = new MessageWriter()
    encodeAddressRequest(w, {
      op: "create",
      family: "inet",
      index: 7,
      prefixLen: 32,
      local: new Uint8Array([10, 0, 0, 1]),
      peer: new Uint8Array([10, 0, 0, 2]),
      label: "x0:a",
      flags: 0x200,
      proto: 77,
    })
    expect(decodeAddress(parseMessages(w.finish())[0]!)).toEqual({
      family: "inet",
      index: 7,
      address: "10.0.0.1/32",
      peer: "10.0.0.2",
      label: "x0:a",
      flags: 0x200,
      scope: 0,
      proto: 77,
    })
  })

  test("link create with kind data and a veth peer", () => {
    const w = new MessageWriter()
    encodeLinkRequest(w, {
      op: "create",
      name: "mv1",
      kind: "macvlan",
      macvlanMode: 4,
      linkIndex: 3,
      mtu: 1450,
      group: 77,
      mac: new Uint8Array([2, 0, 0, 0, 0, 9]),
    })
    expect(decodeLink(parseMessages(w.finish())[0]!)).toMatchObject({
      name: "mv1",
      kind: "macvlan",
      mode: "bridge",
      linkIndex: 3,
      mtu: 1450,
      group: 77,
      mac: "02:00:00:00:00:09",
    })
  })
})

describe("event hints on recorded events", () => {
  const messages = parseMessages(new Uint8Array(Buffer.concat(events.received.map((h) => Buffer.from(fromHex(h))))))

  test("a deleted route hints its key and carries that it is gone", () => {
    const del = messages.filter((m) => m.type === 25 && decodeRoute(m).protocol === 77)
    expect(hintFor(del)).toEqual({ scope: [{ kind: "route", key: "254 10.2.0.0/16 0 10", event: null }] })
  })

  test("a link going down hints the routes through it; an IPv4 address deletion hints its link by index", () => {
    const links = messages.filter((m) => m.type === 16)
    const h = hintFor(links)
    expect(h?.scope).toContainEqual({ kind: "link", key: "v1" })
    expect(h?.scope).toContainEqual({ kind: "routesOnLink", key: "v1" })
    const delAddr = messages.filter((m) => m.type === 21 && m.view.getUint8(m.payload) === 2)
    const ha = hintFor(delAddr)
    expect(ha?.scope).toContainEqual({ kind: "addresses" })
    const onLink = ha?.scope?.find((e) => e.kind === "routesOnLink")
    expect(onLink && "key" in onLink ? onLink.key : undefined).toMatch(/^#\d+$/)
  })

  test("kernel routes (prefix routes) do not hint", () => {
    const kernelRoutes = messages.filter((m) => (m.type === 24 || m.type === 25) && decodeRoute(m).protocol === 2)
    expect(hintFor(kernelRoutes)).toBeUndefined()
  })
})
