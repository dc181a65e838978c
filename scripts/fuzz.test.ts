// Fuzzing every decoder (issue 12, item 17): recorded and built messages, mutated (bytes
// flipped, lengths corrupted, cut short, attributes spliced), fed to each decoder for a
// bounded time. The only error a decoder may throw is DecodeError: no RangeError, no
// TypeError, no hang, and no byte ever reaches a native parser (which would exit).
import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { DecodeError } from "@linx/netlink"
import { fromHex, type Message, type MessageWriter, parseMessages } from "@linx/netlink/wire"
import * as v from "valibot"
import { decodeAck, decodeDone } from "../packages/netlink/src/wire/ack.ts"
import { diffRuleset } from "../packages/source-netfilter/src/diff.ts"
import { hintFor as nftHintFor } from "../packages/source-netfilter/src/monitor.ts"
import { NftDesiredSchema } from "../packages/source-netfilter/src/schema.ts"
import { createNftTransaction } from "../packages/source-netfilter/src/transaction.ts"
import {
  decodeChainMessage,
  decodeElementsMessage,
  decodeSetMessage,
  decodeTableMessage,
} from "../packages/source-netfilter/src/wire/objects.ts"
import { decodeRuleMessage } from "../packages/source-netfilter/src/wire/rule.ts"
import { hintFor as rtnlHintFor } from "../packages/source-rtnl/src/monitor.ts"
import { decodeAddress } from "../packages/source-rtnl/src/wire/addr.ts"
import { decodeLink } from "../packages/source-rtnl/src/wire/link.ts"
import { decodeRoute } from "../packages/source-rtnl/src/wire/route.ts"
import { RouteTable } from "../packages/source-rtnl/src/wire/route-table.ts"

/** Milliseconds of fuzzing per decoder: enough for tens of thousands of inputs. */
const BUDGET_MS = Number(process.env.LINX_FUZZ_MS ?? 400)
const ROOT = join(import.meta.dir, "..")
/** A different seed explores other inputs: LINX_FUZZ_SEED=n (a failure prints its input) */
const SEED = Number(process.env.LINX_FUZZ_SEED ?? 0x1157)

/** A small deterministic generator (xorshift32): a failure can be replayed from its seed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1
  return (n: number) => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x % n
  }
}

function recorded(file: string): Uint8Array[] {
  const r = JSON.parse(readFileSync(join(ROOT, file), "utf8")) as { received: string[] }
  return r.received.map((h) => fromHex(h))
}

/** The messages of datagrams, each as its own bytes. */
function split(datagrams: Uint8Array[]): Uint8Array[] {
  return datagrams.flatMap((d) => parseMessages(d).map((m) => m.data.slice()))
}

/** One mutation of a message: the header's length is kept consistent half of the time. */
function mutate(src: Uint8Array, r: (n: number) => number): Uint8Array {
  let b = src.slice()
  switch (r(6)) {
    case 0: // flip bytes
      for (let i = 0, n = 1 + r(8); i < n; i++) b[r(b.length)]! ^= 1 << r(8)
      break
    case 1: // cut short
      b = b.slice(0, r(b.length + 1))
      break
    case 2: // an attribute length set to something wrong (attributes start after 16 + family header)
      if (b.length > 24) {
        const at = 16 + 4 * r((b.length - 16) >> 2)
        if (at + 2 <= b.length) new DataView(b.buffer).setUint16(at, r(3) === 0 ? r(4) : r(0x10000), true)
      }
      break
    case 3: // random bytes appended
      b = new Uint8Array([...b, ...Array.from({ length: 1 + r(40) }, () => r(256))])
      break
    case 4: // a slice of the message repeated (nests inside nests)
      if (b.length > 20) {
        const s = 16 + r(b.length - 16)
        b = new Uint8Array([...b.slice(0, s), ...b.slice(16, s), ...b.slice(s)])
      }
      break
    default: // zeroed region
      b.fill(0, r(b.length), r(b.length + 1))
  }
  if (b.length >= 4 && r(2) === 0) new DataView(b.buffer).setUint32(0, b.length, true)
  return b
}

/** Parses the bytes as messages (the first gate) and hands each to the decoder. */
function feed(bytes: Uint8Array, decode: (m: Message) => unknown): void {
  let messages: Message[]
  try {
    messages = parseMessages(bytes)
  } catch (e) {
    if (e instanceof DecodeError) return
    throw e
  }
  for (const m of messages) {
    try {
      decode(m)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
    }
  }
}

function fuzz(name: string, corpus: Uint8Array[], decode: (m: Message) => unknown, seed = SEED): void {
  test(`${name}: only DecodeError on ${corpus.length} seeds mutated for ${BUDGET_MS} ms`, () => {
    expect(corpus.length).toBeGreaterThan(0)
    // the seeds themselves decode cleanly
    for (const c of corpus) for (const m of parseMessages(c)) decode(m)
    const r = rng(seed)
    const end = performance.now() + BUDGET_MS
    let n = 0
    while (performance.now() < end) {
      const input = mutate(corpus[r(corpus.length)]!, r)
      try {
        feed(input, decode)
      } catch (e) {
        throw new Error(`${name}: ${String(e)} on input ${Buffer.from(input).toString("hex")}`)
      }
      n++
    }
    expect(n).toBeGreaterThan(100)
  })
}

/** nf_tables messages as libnftnl builds them (the same format as dump replies). */
function nftCorpus(): Uint8Array[] {
  const desired = v.parse(NftDesiredSchema, {
    tables: [
      {
        family: "inet",
        name: "edge",
        sets: [
          { name: "blocked", type: "ipv4_addr", flags: ["interval"], elements: ["10.0.0.0/8", "192.0.2.1"] },
          { name: "ports", type: "inet_service", map: "verdict", elements: { "22": "accept", "23": "drop" } },
        ],
        chains: [
          {
            name: "input",
            type: "filter",
            hook: "input",
            priority: 0,
            policy: "drop",
            rules: [
              { match: { ct: { state: ["established"] } }, verdict: "accept" },
              { match: { ip: { saddr: "@blocked" }, tcp: { dport: [22, 443] } }, counter: true, verdict: "drop" },
              { match: { iifname: "lo" }, verdict: "accept", comment: "loopback" },
            ],
          },
        ],
      },
    ],
  })
  const out: Uint8Array[] = []
  const sock = {
    batch(w: MessageWriter) {
      out.push(...split([w.finish().slice()]).filter((m) => new DataView(m.buffer).getUint16(4, true) !== 0x10))
      return { failed: [], replies: [], repliesLost: false }
    },
  }
  createNftTransaction(sock).apply(diffRuleset(desired, { genId: 1, tables: [] }, undefined), { check: true })
  return out
}

describe("decoder fuzzing", () => {
  const links = split(recorded("packages/source-rtnl/src/wire/fixtures/link-dump.json"))
  const addrs = split(recorded("packages/source-rtnl/src/wire/fixtures/addr-dump.json"))
  const routes = split([
    ...recorded("packages/source-rtnl/src/wire/fixtures/route4-dump.json"),
    ...recorded("packages/source-rtnl/src/wire/fixtures/route6-dump.json"),
  ])
  const events = split(recorded("packages/source-rtnl/src/wire/fixtures/events.json"))
  const nft = nftCorpus()
  const types = (ms: Uint8Array[], t: number) =>
    ms.filter((m) => (new DataView(m.buffer).getUint16(4, true) & 0xff) === t)

  fuzz("netlink acks and dump ends", links, (m) => (m.type === 2 ? decodeAck(m) : m.type === 3 ? decodeDone(m) : 0))
  fuzz("rtnl links", types(links, 16), decodeLink)
  fuzz("rtnl addresses", types(addrs, 20), decodeAddress)
  fuzz("rtnl routes", types(routes, 24), (m) => decodeRoute(m))
  const table = new RouteTable()
  fuzz("rtnl routes into a packed table", types(routes, 24), (m) => {
    if (table.length > 1000) table.truncate(0)
    const before = table.length
    try {
      table.add(m, () => true)
    } catch (e) {
      // a route that cannot be read leaves nothing behind
      if (table.length !== before) throw new Error(`the table kept a route it could not read (${String(e)})`)
      throw e
    }
    // what was added reads back: as an object, and as its id
    if (table.length > before) return [table.route(before), table.id(before)]
  })
  fuzz("rtnl event hints", events, (m) => rtnlHintFor([m]))
  fuzz("nft tables", types(nft, 0), decodeTableMessage)
  fuzz("nft chains", types(nft, 3), decodeChainMessage)
  fuzz("nft sets", types(nft, 9), decodeSetMessage)
  fuzz("nft set elements", types(nft, 12), decodeElementsMessage)
  fuzz("nft rules", types(nft, 6), decodeRuleMessage)
  fuzz("nft event hints", nft, (m) => nftHintFor([m]))
})
