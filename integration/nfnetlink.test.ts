// nf_tables transactions through @linx/netlink: atomic batches, errors mapped to their
// message, the generation guard, and check-only batches. Cross-checked with `nft -j`.
import { describe, expect, test } from "bun:test"
import { openNetlinkSocket, type NetlinkSocket } from "@linx/netlink"
import { MessageWriter, nfnl, nl } from "@linx/netlink/wire"
import { freshNetns, type TestNetns } from "./netns.ts"

const NFPROTO_INET = 1
const NFTA_TABLE_NAME = 1

function tables(t: TestNetns): string[] {
  const out = JSON.parse(t.sh("nft", "-j", "list", "tables")) as { nftables: { table?: { name: string } }[] }
  return out.nftables
    .filter((x) => x.table)
    .map((x) => x.table!.name)
    .sort()
}

function table(w: MessageWriter, msg: number, name: string): void {
  w.begin(
    nfnl.nftType(msg),
    msg === nfnl.NFT_MSG_NEWTABLE ? nl.NLM_F_CREATE : 0,
    `${msg === nfnl.NFT_MSG_NEWTABLE ? "add" : "delete"} table inet ${name}`,
  )
  nfnl.writeNfgenmsg(w, NFPROTO_INET)
  w.attrString(NFTA_TABLE_NAME, name).end()
}

function withSocket(fn: (t: TestNetns, s: NetlinkSocket) => void): () => void {
  return () => {
    using t = freshNetns()
    const s = openNetlinkSocket(nl.NETLINK_NETFILTER, { netns: t.ns, strict: false })
    try {
      fn(t, s)
    } finally {
      s.close()
    }
  }
}

describe("nf_tables transactions", () => {
  test(
    "an atomic batch commits every message",
    withSocket((t, s) => {
      const w = new MessageWriter()
      nfnl.beginBatch(w)
      table(w, nfnl.NFT_MSG_NEWTABLE, "linx-a")
      table(w, nfnl.NFT_MSG_NEWTABLE, "linx-b")
      nfnl.endBatch(w)
      expect(s.batch(w, { atomic: true }).failed).toEqual([])
      expect(tables(t)).toEqual(["linx-a", "linx-b"])
    }),
  )

  test(
    "one bad message fails the whole batch, mapped to that message with the kernel's error",
    withSocket((t, s) => {
      const w = new MessageWriter()
      nfnl.beginBatch(w)
      table(w, nfnl.NFT_MSG_NEWTABLE, "linx-c")
      table(w, nfnl.NFT_MSG_DELTABLE, "no-such-table")
      nfnl.endBatch(w)
      const r = s.batch(w, { atomic: true })
      expect(r.failed.map((f) => [f.index, f.error.code, f.error.request?.label])).toEqual([
        [2, "ENOENT", "delete table inet no-such-table"],
      ])
      expect(tables(t)).toEqual([])
    }),
  )

  test(
    "the generation guard refuses a batch built on a stale view",
    withSocket((t, s) => {
      const gen = nfnl.getGeneration(s)
      t.sh("nft", "add", "table", "inet", "someone-else")
      expect(nfnl.getGeneration(s)).toBeGreaterThan(gen)
      const w = new MessageWriter()
      nfnl.beginBatch(w, { genId: gen })
      table(w, nfnl.NFT_MSG_NEWTABLE, "linx-d")
      nfnl.endBatch(w)
      const r = s.batch(w, { atomic: true })
      expect(r.failed.map((f) => f.error.code)).toEqual(["ERESTART"])
      expect(tables(t)).toEqual(["someone-else"])
      // with the current generation it goes through
      const w2 = new MessageWriter()
      nfnl.beginBatch(w2, { genId: nfnl.getGeneration(s) })
      table(w2, nfnl.NFT_MSG_NEWTABLE, "linx-d")
      nfnl.endBatch(w2)
      expect(s.batch(w2, { atomic: true }).failed).toEqual([])
      expect(tables(t)).toEqual(["linx-d", "someone-else"])
    }),
  )

  test(
    "a batch without its end is checked, not committed (nft --check)",
    withSocket((t, s) => {
      const ok = new MessageWriter()
      nfnl.beginBatch(ok)
      table(ok, nfnl.NFT_MSG_NEWTABLE, "linx-e")
      expect(s.batch(ok, { atomic: true }).failed).toEqual([])
      const bad = new MessageWriter()
      nfnl.beginBatch(bad)
      table(bad, nfnl.NFT_MSG_DELTABLE, "no-such-table")
      expect(s.batch(bad, { atomic: true }).failed.map((f) => f.error.code)).toEqual(["ENOENT"])
      expect(tables(t)).toEqual([])
    }),
  )
})
