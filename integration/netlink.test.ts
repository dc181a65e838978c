// @linx/netlink against the real kernel, in namespaces this file creates.
import { describe, expect, test } from "bun:test"
import { isNotFound, NetlinkError, Netns, NetnsError, openNetlinkSocket, subscribe } from "@linx/netlink"
import { forEachAttr, MessageWriter, nl, readString, type Message } from "@linx/netlink/wire"
import { freshNetns, openFds, useFreshNetns } from "./netns.ts"

const RTM_NEWLINK = 16
const RTM_GETLINK = 18
const RTM_NEWROUTE = 24
const RTNLGRP_IPV4_ROUTE = 7
const RTNLGRP_LINK = 1

const getLinks = (w: MessageWriter) => w.begin(RTM_GETLINK, 0).u8(0).u8(0).u16(0).i32(0).u32(0).u32(0).end()

function decodeLinks(msgs: Message[]): { ifindex: number; ifname: string; mtu: number; address?: string }[] {
  return msgs.map((m) => {
    const out: { ifindex: number; ifname: string; mtu: number; address?: string } = {
      ifindex: m.view.getInt32(m.payload + 4, true),
      ifname: "",
      mtu: 0,
    }
    forEachAttr(m.view, m.payload + 16, m.end, (t, o, l) => {
      if (t === 3) out.ifname = readString(m.view, o, l)
      else if (t === 4) out.mtu = m.view.getUint32(o, true)
      else if (t === 1)
        out.address = Array.from(new Uint8Array(m.view.buffer, m.view.byteOffset + o, l), (b) =>
          b.toString(16).padStart(2, "0"),
        ).join(":")
    })
    return out
  })
}

describe("@linx/netlink on the kernel", () => {
  const env = useFreshNetns()

  test("a link dump matches `ip -j link show`", () => {
    const t = env()
    t.sh("ip", "link", "add", "nl-a", "mtu", "1400", "type", "veth", "peer", "name", "nl-b")
    t.sh("ip", "link", "add", "nl-br", "type", "bridge")
    const sock = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: t.ns })
    try {
      const ours = decodeLinks(sock.dump(getLinks)).sort((a, b) => a.ifindex - b.ifindex)
      const ip = t
        .ipJson<{ ifindex: number; ifname: string; mtu: number; address: string }[]>("link", "show")
        .map((l) => ({ ifindex: l.ifindex, ifname: l.ifname, mtu: l.mtu, address: l.address }))
        .sort((a, b) => a.ifindex - b.ifindex)
      expect(ours.length).toBeGreaterThanOrEqual(4)
      expect(ours).toEqual(ip)
    } finally {
      sock.close()
    }
  })

  test("a request the kernel refuses carries the kernel's own message", () => {
    const t = env()
    t.sh("ip", "link", "add", "nl-down", "type", "veth", "peer", "name", "nl-down2")
    const ifindex = t.ipJson<{ ifindex: number }[]>("link", "show", "nl-down")[0]!.ifindex
    const sock = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: t.ns })
    try {
      // ip route add 10.9.0.0/16 via 10.8.0.1 dev nl-down onlink   (the device is down)
      const w = new MessageWriter()
      w.begin(RTM_NEWROUTE, nl.NLM_F_CREATE | nl.NLM_F_EXCL, "ip route add 10.9.0.0/16 via 10.8.0.1 dev nl-down onlink")
      w.u8(2).u8(16).u8(0).u8(0).u8(254).u8(3).u8(0).u8(1).u32(4 /* RTNH_F_ONLINK */)
      w.attrBytes(1, new Uint8Array([10, 9, 0, 0]))
        .attrBytes(5, new Uint8Array([10, 8, 0, 1]))
        .attrU32(4, ifindex)
        .end()
      let err: unknown
      try {
        sock.request(w, { headerSize: 12 })
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(NetlinkError)
      const ne = err as NetlinkError
      expect(ne.code).toBe("ENETDOWN")
      expect(ne.kernelMessage).toBe("Nexthop device is not up")
      expect(ne.request?.label).toContain("10.9.0.0/16")
      // and `ip` says the same thing
      expect(
        t.try("ip", "route", "add", "10.9.0.0/16", "via", "10.8.0.1", "dev", "nl-down", "onlink").stderr,
      ).toContain(`Error: ${ne.kernelMessage}`)
    } finally {
      sock.close()
    }
  })

  test("deleting a missing link is a NotFound NetlinkError", () => {
    const t = env()
    const sock = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: t.ns })
    try {
      const w = new MessageWriter()
        .begin(17, 0)
        .u8(0)
        .u8(0)
        .u16(0)
        .i32(0)
        .u32(0)
        .u32(0)
        .attrString(3, "no-such-link")
        .end()
      expect(() => sock.request(w)).toThrow(NetlinkError)
      try {
        sock.request(
          new MessageWriter().begin(17, 0).u8(0).u8(0).u16(0).i32(0).u32(0).u32(0).attrString(3, "no-such-link").end(),
        )
      } catch (e) {
        expect(isNotFound(e)).toBe(true)
      }
    } finally {
      sock.close()
    }
  })

  test("a socket opened in another namespace sees that namespace's links", () => {
    const t = env()
    using other = freshNetns()
    other.sh("ip", "link", "add", "only-b0", "type", "veth", "peer", "name", "only-b1")
    const inOther = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: other.ns })
    const inMine = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: t.ns })
    try {
      const namesOther = decodeLinks(inOther.dump(getLinks)).map((l) => l.ifname)
      const namesMine = decodeLinks(inMine.dump(getLinks)).map((l) => l.ifname)
      expect(namesOther.sort()).toEqual(["lo", "only-b0", "only-b1"])
      expect(namesMine).not.toContain("only-b0")
      // the socket stays bound to its namespace whatever thread state follows
      expect(decodeLinks(inOther.dump(getLinks)).length).toBe(3)
    } finally {
      inOther.close()
      inMine.close()
    }
  })

  test("namespaces by name and by path; a missing one says how to create it", () => {
    const name = `linx-it-${process.pid}`
    const t = env()
    t.sh("ip", "netns", "add", name)
    try {
      const named = Netns.open(name)
      const byPath = Netns.open({ path: `/run/netns/${name}` })
      expect(named.inode()).toBe(byPath.inode())
      expect(named.inode()).not.toBe(t.ns.inode())
      const sock = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: name })
      expect(decodeLinks(sock.dump(getLinks)).map((l) => l.ifname)).toEqual(["lo"])
      sock.close()
      named.close()
      byPath.close()
    } finally {
      t.sh("ip", "netns", "del", name)
    }
    try {
      Netns.open("linx-does-not-exist")
      throw new Error("expected NetnsError")
    } catch (e) {
      expect(e).toBeInstanceOf(NetnsError)
      expect((e as Error).message).toContain("ip netns add linx-does-not-exist")
    }
    expect(() => Netns.open({ pid: 999_999_999 })).toThrow(NetnsError)
  })

  test("an event burst larger than the receive buffer is an overrun, and later events still arrive", async () => {
    const t = env()
    let overruns = 0
    const seen: number[] = []
    const sub = subscribe(nl.NETLINK_ROUTE, {
      netns: t.ns,
      groups: [RTNLGRP_IPV4_ROUTE, RTNLGRP_LINK],
      receiveBufferBytes: 4096, // tiny on purpose
      onMessages: (msgs) => {
        for (const m of msgs) seen.push(m.type)
      },
      onOverrun: () => overruns++,
    })
    try {
      // 3000 route events while the JS thread is blocked: the kernel must drop some.
      const lines = Array.from({ length: 3000 }, (_, i) => `route add blackhole 10.${100 + (i >> 8)}.${i & 255}.0/24`)
      const batch = `/tmp/linx-burst-${process.pid}.txt`
      await Bun.write(batch, `${lines.join("\n")}\n`)
      t.sh("ip", "-batch", batch)
      const deadline = Date.now() + 3000
      while (overruns === 0 && Date.now() < deadline) await Bun.sleep(5)
      expect(overruns).toBeGreaterThan(0)
      expect(seen.length).toBeLessThan(3000)
      // the subscription keeps going: a later change is still delivered
      const before = seen.length
      t.sh("ip", "link", "add", "late0", "type", "veth", "peer", "name", "late1")
      const deadline2 = Date.now() + 3000
      while (!seen.slice(before).includes(RTM_NEWLINK) && Date.now() < deadline2) await Bun.sleep(5)
      expect(seen.slice(before)).toContain(RTM_NEWLINK)
    } finally {
      await sub.close()
    }
  })

  test("closing sockets and subscriptions releases their descriptors", async () => {
    const t = env()
    const before = await openFds()
    for (let i = 0; i < 20; i++) {
      const s = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: t.ns })
      s.dump(getLinks)
      s.close()
      const sub = subscribe(nl.NETLINK_ROUTE, { netns: t.ns, groups: [RTNLGRP_LINK], onMessages() {}, onOverrun() {} })
      await Bun.sleep(1)
      await sub.close()
    }
    await Bun.sleep(20)
    expect(await openFds()).toBeLessThanOrEqual(before + 2)
  })

  test("a consumer that throws on a chunk loses that chunk (an overrun), never the subscription", async () => {
    const t = env()
    let overruns = 0
    const seen: string[] = []
    let first = true
    const sub = subscribe(nl.NETLINK_ROUTE, {
      netns: t.ns,
      groups: [RTNLGRP_LINK],
      onMessages: (msgs) => {
        if (first) {
          first = false
          throw new RangeError("the consumer could not read this")
        }
        for (const m of msgs) if (m.type === RTM_NEWLINK) seen.push("newlink")
      },
      onOverrun: () => overruns++,
      onError: (e) => seen.push(`error: ${e.message}`),
    })
    try {
      t.sh("ip", "link", "add", "thr0", "type", "veth", "peer", "name", "thr1")
      const deadline = Date.now() + 3000
      while (overruns === 0 && Date.now() < deadline) await Bun.sleep(5)
      expect(overruns).toBe(1)
      t.sh("ip", "link", "set", "thr0", "mtu", "1400")
      while (!seen.includes("newlink") && Date.now() < deadline) await Bun.sleep(5)
      expect(seen).toContain("newlink")
      expect(seen.filter((x) => x.startsWith("error"))).toEqual([])
      expect(sub.closed).toBe(false)
    } finally {
      await sub.close()
    }
  })

  test("an ordinary file where a namespace was expected (a bind mount not made yet) is refused, not taken for one", async () => {
    const { mkdtempSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    const path = `${mkdtempSync(`${tmpdir()}/linx-nsfile-`)}/ns`
    await Bun.write(path, "")
    expect(() => Netns.open(path)).toThrow("is not a network namespace file")
    await Bun.write(path, "not empty")
    expect(() => Netns.open(path)).toThrow("is not a network namespace file")
  })
})
