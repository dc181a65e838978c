// The transaction encoder without root: ops from a real diff are encoded onto a socket
// that records the batch, and the bytes are read back message by message (types, flags,
// the attributes the kernel acts on). Needs libnftnl.so.11 (the test command installs it).
import { describe, expect, test } from "bun:test"
import { NetlinkError } from "@linx/netlink"
import {
  type BatchFailure,
  forEachAttr,
  type Message,
  type MessageWriter,
  nfnl,
  nl,
  parseMessages,
  readString,
} from "@linx/netlink/wire"
import * as v from "valibot"
import { diffRuleset } from "./diff.ts"
import { exprKey } from "./expr.ts"
import type { NftOp } from "./ops.ts"
import { NftDesiredSchema } from "./schema.ts"
import { type BatchSocket, createNftTransaction } from "./transaction.ts"
import { decodeRuleMessage } from "./wire/rule.ts"

/** A socket that keeps a copy of each batch and answers with the failures it is given. */
function recorder(fail: (w: MessageWriter) => BatchFailure[] = () => []) {
  const batches: Message[][] = []
  const sock: BatchSocket = {
    batch(w) {
      batches.push(parseMessages(w.finish().slice()))
      return { failed: fail(w), replies: [], repliesLost: false }
    },
  }
  return { sock, batches }
}

const NAMES: Record<number, string> = {
  [nfnl.NFNL_MSG_BATCH_BEGIN]: "begin",
  [nfnl.NFNL_MSG_BATCH_END]: "end",
  [nfnl.nftType(nfnl.NFT_MSG_NEWTABLE)]: "newtable",
  [nfnl.nftType(nfnl.NFT_MSG_DELTABLE)]: "deltable",
  [nfnl.nftType(nfnl.NFT_MSG_NEWCHAIN)]: "newchain",
  [nfnl.nftType(nfnl.NFT_MSG_DELCHAIN)]: "delchain",
  [nfnl.nftType(nfnl.NFT_MSG_NEWRULE)]: "newrule",
  [nfnl.nftType(nfnl.NFT_MSG_DELRULE)]: "delrule",
  [nfnl.nftType(nfnl.NFT_MSG_NEWSET)]: "newset",
  [nfnl.nftType(nfnl.NFT_MSG_DELSET)]: "delset",
  [nfnl.nftType(nfnl.NFT_MSG_NEWSETELEM)]: "newsetelem",
  [nfnl.nftType(nfnl.NFT_MSG_DELSETELEM)]: "delsetelem",
}
const kinds = (ms: Message[]) => ms.map((m) => NAMES[m.type] ?? `type ${m.type}`)

/** Attributes after the nfgenmsg: type → [offset, length] (first of each). */
function attrs(m: Message, start = m.payload + nfnl.NFGENMSG_LEN, end = m.end) {
  const out = new Map<number, [number, number]>()
  forEachAttr(m.view, start, end, (t, o, l) => {
    if (!out.has(t)) out.set(t, [o, l])
  })
  return out
}
const str = (m: Message, a: Map<number, [number, number]>, t: number) => {
  const x = a.get(t)
  return x ? readString(m.view, x[0], x[1]) : undefined
}
const be32 = (m: Message, a: Map<number, [number, number]>, t: number) => {
  const x = a.get(t)
  return x ? m.view.getUint32(x[0], false) : undefined
}

const OWN = { tables: [{ family: "inet" as const, name: "edge" }] }
const EMPTY = { genId: 7, tables: [] }

const desired = v.parse(NftDesiredSchema, {
  tables: [
    {
      family: "inet",
      name: "edge",
      sets: [{ name: "blocked", type: "ipv4_addr", elements: ["192.0.2.1", "192.0.2.2"] }],
      chains: [
        {
          name: "input",
          type: "filter",
          hook: "input",
          priority: -10,
          policy: "drop",
          rules: [
            { match: { tcp: { dport: [22, 443] } }, verdict: "accept", comment: "ssh and https" },
            { match: { ip: { saddr: "@blocked" } }, verdict: "drop" },
          ],
        },
      ],
    },
  ],
})

describe("nf_tables transaction bytes", () => {
  test("a new table: begin with the generation, table, chain and sets, elements, rules, end", () => {
    const { sock, batches } = recorder()
    const ops = diffRuleset(desired, EMPTY, OWN)
    expect(createNftTransaction(sock).apply(ops, { genId: 7 }).size).toBe(0)
    const ms = batches[0]!
    expect(kinds(ms)).toEqual([
      "begin",
      "newtable",
      "newset", // the named set (the diff puts sets before chains)
      "newchain",
      "newset", // the anonymous set { 22, 443 }, then its elements
      "newsetelem",
      "newsetelem", // the named set's elements
      "newrule",
      "newrule",
      "end",
    ])
    // the batch is guarded by the observed generation (NFNL_BATCH_GENID, big-endian)
    expect(be32(ms[0]!, attrs(ms[0]!), 1)).toBe(7)
    // every object message is a create without replace: an existing object is an error, never overwritten
    for (const m of ms.slice(1, -1)) {
      expect(m.flags & nl.NLM_F_CREATE).toBe(nl.NLM_F_CREATE)
      expect(m.flags & nl.NLM_F_REPLACE).toBe(0)
    }
    // NFTA_TABLE_NAME
    expect(str(ms[1]!, attrs(ms[1]!), 1)).toBe("edge")
    // NFTA_CHAIN_TABLE, NAME, HOOK { HOOKNUM, PRIORITY }, POLICY, TYPE
    const chain = ms[3]!
    const c = attrs(chain)
    expect([str(chain, c, 1), str(chain, c, 3), str(chain, c, 7)]).toEqual(["edge", "input", "filter"])
    expect(be32(chain, c, 5)).toBe(0) // NF_DROP
    const [ho, hl] = c.get(4)!
    const hook = attrs(chain, ho, ho + hl)
    expect(be32(chain, hook, 1)).toBe(1) // NF_INET_LOCAL_IN
    expect(chain.view.getInt32(hook.get(2)![0], false)).toBe(-10)
    // rules: appended, in order, each decoding back to what was compiled
    const rules = ms.filter((m) => NAMES[m.type] === "newrule")
    expect(rules.every((m) => m.flags & nl.NLM_F_APPEND)).toBe(true)
    const replace = ops.find((o) => o.kind === "replace")!
    if (replace.kind !== "replace") throw new Error("no rules op")
    rules.forEach((m, i) => {
      const r = decodeRuleMessage(m)
      expect([r.table, r.chain]).toEqual(["edge", "input"])
      // an anonymous set travels as "__set%d" bound by id; the kernel names it
      expect(exprKey(r.exprs)).toBe(exprKey(replace.rules[i]!.exprs).replace(/\{inet_service:[0-9a-f,]+\}/, "__set%d"))
    })
    expect(new TextDecoder().decode(decodeRuleMessage(rules[0]!).userdata)).toContain("ssh and https")
  })

  test("a rewrite flushes the chain first; a deleted chain is flushed, then deleted; tables go last", () => {
    const { sock, batches } = recorder()
    const where = { family: "inet", table: "edge" }
    const ops: NftOp[] = [
      { kind: "replace", object: "rules", chain: "input", rules: [], flush: true, ...where },
      { kind: "delete", object: "chain", name: "old", ...where },
      { kind: "delete", object: "table", family: "inet", table: "gone" },
    ]
    createNftTransaction(sock).apply(ops, {})
    const ms = batches[0]!
    expect(kinds(ms)).toEqual(["begin", "delrule", "delrule", "delchain", "deltable", "end"])
    // the flushes name their chains (NFTA_RULE_CHAIN) and no rule handle: the whole chain
    expect(ms.slice(1, 3).map((m) => str(m, attrs(m), 2))).toEqual(["input", "old"])
    expect(ms.slice(1, 3).every((m) => !attrs(m).has(3))).toBe(true)
    // no generation guard when none was given
    expect(attrs(ms[0]!).has(1)).toBe(false)
  })

  test("set elements: removals before additions, at most 1000 a message", () => {
    const { sock, batches } = recorder()
    const add = Array.from({ length: 2500 }, (_, i) => (0x0a000000 + i).toString(16).padStart(8, "0"))
    const op: NftOp = {
      kind: "update",
      object: "elements",
      set: "blocked",
      type: "ipv4_addr",
      add,
      remove: ["c0000201"],
      family: "inet",
      table: "edge",
    }
    createNftTransaction(sock).apply([op], {})
    expect(kinds(batches[0]!)).toEqual(["begin", "delsetelem", "newsetelem", "newsetelem", "newsetelem", "end"])
  })

  test("check mode sends no batch end: the kernel validates and commits nothing", () => {
    const { sock, batches } = recorder()
    createNftTransaction(sock).apply(diffRuleset(desired, EMPTY, OWN), { check: true })
    expect(kinds(batches[0]!).at(-1)).toBe("newrule")
  })

  test("anonymous set ids are per transaction object and never repeat within it", () => {
    const { sock, batches } = recorder()
    const tx = createNftTransaction(sock)
    const ops = diffRuleset(desired, EMPTY, OWN)
    tx.apply(ops, {})
    tx.apply(ops, {})
    const ids = batches.flatMap((ms) =>
      ms.filter((m) => NAMES[m.type] === "newset").map((m) => be32(m, attrs(m), 10 /* NFTA_SET_ID */)),
    )
    expect(ids.length).toBe(4)
    expect(new Set(ids).size).toBe(4)
    // a second source starts its own count, and a recorded transaction is the same bytes
    const other = recorder()
    createNftTransaction(other.sock).apply(ops, {})
    expect(Buffer.compare(Buffer.from(other.batches[0]![3]!.data), Buffer.from(batches[0]![3]!.data))).toBe(0)
  })

  test("a failing message fails its op and aborts the others; a moved generation fails all with its reason", () => {
    const ops = diffRuleset(desired, EMPTY, OWN)
    const refused = new NetlinkError(17, { request: { type: 0, flags: 0, seq: 1, label: "create chain" } })
    // message 3 is the chain (begin, table, set, chain)
    const r1 = recorder(() => [{ index: 3, error: refused }])
    const failures = createNftTransaction(r1.sock).apply(ops, {})
    const chainOp = ops.findIndex((o) => o.kind === "create" && o.object === "chain")
    expect(failures.get(chainOp)).toBe(refused)
    expect(failures.size).toBe(ops.length)
    for (const [i, e] of failures) if (i !== chainOp) expect(e.message).toContain("not applied")
    const r2 = recorder(() => [{ index: 0, error: new NetlinkError(85) }])
    const all = createNftTransaction(r2.sock).apply(ops, { genId: 3 })
    expect(all.size).toBe(ops.length)
    expect([...all.values()][0]!.message).toContain("changed since it was observed")
  })
})
