// Text rules compiled without a kernel: nft parses them in runs of a few thousand (a
// batch must fit one datagram) against a copy of their table declared in nft syntax, and
// each run's batch is captured (ffi/capture.ts) instead of committed. The rules' bytes are
// then what nft itself would send: what the transaction writes. The kernel adds its own
// defaults when it stores some expressions, so the bytes to compare an observed rule with
// are learned from the kernel later (see compileTextRules' keys). Anything this cannot
// declare in nft syntax (a chain or set named like an nft keyword), and nft asking other
// questions than expected, sends the table to the scratch namespace instead.
import { type Message, MessageReuse, nfnl } from "@linx/netlink/wire"
import { rmSync } from "node:fs"
import { runCapturedMany } from "./capture-pool.ts"
import { type Captured, runCaptured } from "./ffi/capture.ts"
import type { NftSet } from "./model.ts"
import { elementKeys, parseSet } from "./observe.ts"
import {
  compileInScratch,
  type Line,
  mapErrors,
  SCRATCH_TABLE,
  type Scratch,
  standIn,
  type TextIssue,
  type TextRule,
  type TextTable,
  textCompileCounts,
  textRule,
  writeNftFile,
} from "./text.ts"
import { NFT_SET_ANONYMOUS } from "./wire/constants.ts"
import { Attrs, decodeElementsMessage, type ElementMessage, messageAttrs } from "./wire/objects.ts"
import { type AnonSetBytes, eachAttr, nameAnonSets } from "./wire/raw.ts"
import { decodeRuleMessage, type RawRule } from "./wire/rule.ts"

const NFT = nfnl.NFNL_SUBSYS_NFTABLES << 8
const GETGEN = NFT | nfnl.NFT_MSG_GETGEN
const BATCH_BEGIN = 0x10
/** What nft 1.0.6 asks an empty kernel before its batch: the generation, one dump per object kind, the generation again. */
const EXPECTED = [
  GETGEN,
  NFT | nfnl.NFT_MSG_GETTABLE,
  NFT | nfnl.NFT_MSG_GETCHAIN,
  NFT | nfnl.NFT_MSG_GETSET,
  NFT | 0x17,
  GETGEN,
]
/** The sequence that last worked (learned when a run asked something else). */
let plan: number[] = EXPECTED

/** Sets the requests the next run is answered for (a test of the learning); none: the expected ones. */
export function answerRequests(types?: readonly number[]): void {
  plan = types ? [...types] : EXPECTED
}

function message(type: number, flags: number, payload: readonly number[]): Uint8Array {
  const m = new Uint8Array(16 + payload.length)
  const v = new DataView(m.buffer)
  v.setUint32(0, m.length, true)
  v.setUint16(4, type, true)
  v.setUint16(6, flags, true)
  m.set(payload, 16)
  return m
}
/** NEWGEN: nfgenmsg, NFTA_GEN_ID 1 */
const GEN = message(NFT | nfnl.NFT_MSG_NEWGEN, 0, [0, 0, 0, 1, 8, 0, 1, 0, 0, 0, 0, 1])
/** NLMSG_DONE of an empty dump (NLM_F_MULTI) */
const DONE = message(3, 2, [0, 0, 0, 0])

/** The answers to a sequence of requests: a generation ends with DONE too (nft reads until nothing is left). */
const answersFor = (requests: readonly number[]) => requests.flatMap((t) => (t === GETGEN ? [GEN, DONE] : [DONE]))

/** Rules per nft run: a run's batch is one datagram, which the kernel allocates in one piece (~4 MB at most). */
const CHUNK_TEXT = 100_000

/** The table as nft commands: the stand-in table, its sets, its chains by name, the stand-ins for rules. */
function declarations(t: TextTable, withText: ReadonlySet<number>): string[] {
  const where = `${t.family} ${SCRATCH_TABLE}`
  const out = [`add table ${where}`]
  for (const s of t.sets) {
    const flags = s.flags.length ? ` flags ${s.flags.join(",")};` : ""
    out.push(
      s.map
        ? `add map ${where} ${s.name} { type ${s.type} : ${s.map};${flags} }`
        : `add set ${where} ${s.name} { type ${s.type};${flags} }`,
    )
  }
  const names = new Set(t.chains.map((c) => c.name))
  for (const name of names) out.push(`add chain ${where} ${name}`)
  t.chains.forEach((c, ci) => {
    if (!withText.has(ci) || names.has(standIn(ci))) return
    const base =
      c.hook && !c.device && !c.devices
        ? ` { type ${c.type ?? "filter"} hook ${c.hook} priority ${c.priority ?? 0}; }`
        : ""
    out.push(`add chain ${where} ${standIn(ci)}${base}`)
  })
  return out
}

class NotCaptured extends Error {}

type ChunkResult = { batch: Uint8Array } | { issues: TextIssue[] }

/** The commands of one nft run: the declarations, then "add rule" for each of the chunk's rules. */
function chunkCommands(decl: readonly string[], chunk: Line[], family: string): string[] {
  const commands = [...decl]
  for (const l of chunk) {
    const head = `add rule ${family} ${SCRATCH_TABLE} ${standIn(l.chain)} `
    l.prefix = head.length
    commands.push(head + l.text)
  }
  return commands
}

/** A run's outcome: its batch, nft's complaints about its rules, or undefined when nft asked other questions than `asked`. */
function outcome(run: Captured, path: string, decl: readonly string[], chunk: Line[]): ChunkResult | undefined {
  const { err, sent, unread } = run
  const batches = sent.filter((d) => d.length >= 6 && d[4] === BATCH_BEGIN && d[5] === 0)
  const asked = sent.filter((d) => !batches.includes(d)).map((d) => d[4]! | (d[5]! << 8))
  if (asked.length !== plan.length || asked.some((t, i) => t !== plan[i]) || unread) {
    // nft asked something else of its kernel: answer that next time
    plan = asked
    return undefined
  }
  if (err) {
    const issues = mapErrors(err, path, [...decl.map(() => undefined), ...chunk])
    // a declaration nft refused (a name nft reads as a keyword): not the rules' fault
    if (issues.some((i) => i.rule === undefined)) throw new NotCaptured(err)
    return { issues }
  }
  if (batches.length !== 1) throw new NotCaptured(`nft wrote ${batches.length} batches`)
  return { batch: batches[0]! }
}

/** The chunks' nft runs, on two threads; a run whose questions were not the expected ones is run again alone. */
function runChunks(s: Scratch, decl: readonly string[], chunks: Line[][], family: string): ChunkResult[] {
  const files = chunks.map((chunk) => writeNftFile(s, chunkCommands(decl, chunk, family)))
  try {
    const answers = answersFor(plan)
    const runs = runCapturedMany(
      s.ns,
      files.map((path) => ({ path, answers })),
    )
    return runs.map((run, i) => {
      let got = outcome(run, files[i]!, decl, chunks[i]!)
      // nft stops at the first question left unanswered: each run teaches one more (a handful in all)
      for (let attempt = 0; !got && attempt < 10; attempt++)
        got = outcome(runCaptured(s.ns, files[i]!, answersFor(plan)), files[i]!, decl, chunks[i]!)
      if (got) return got
      plan = EXPECTED
      throw new NotCaptured("nft kept asking other questions than expected")
    })
  } finally {
    for (const f of files) rmSync(f, { force: true })
  }
}

interface Captures {
  anon: Map<string, AnonSetBytes>
  typed: Map<string, NftSet>
  elements: Map<string, ElementMessage[][]>
  byChain: Map<string, RawRule[]>
  names: number
}

/** What a batch holds: its anonymous sets (renamed apart from every other run's) and its rules by chain. */
function collect(batch: Message[], family: string, into: Captures): void {
  const ids = new Map<number, string>()
  for (const m of batch) {
    const kind = m.type & 0xff
    if (m.type >> 8 !== nfnl.NFNL_SUBSYS_NFTABLES) continue
    if (kind === nfnl.NFT_MSG_NEWSET) {
      const set = parseSet(m, family)
      const id = Attrs.ofMessage(m).attrs.u32(10)
      if (!set || !(set.flags & NFT_SET_ANONYMOUS) || id === undefined) continue
      const name = `__x${(into.names++).toString(36).padStart(4, "0")}`
      if (name.length !== 7) throw new NotCaptured("too many anonymous sets")
      ids.set(id, name)
      set.name = name
      into.typed.set(name, set)
      into.anon.set(name, { name, attrs: attrsWithout(m, [1, 2, 10, 16]), elements: [] })
      into.elements.set(name, [])
    } else if (kind === nfnl.NFT_MSG_NEWSETELEM) {
      const name = ids.get(Attrs.ofMessage(m).attrs.u32(4) ?? -1)
      if (!name) continue
      into.elements.get(name)!.push(decodeElementsMessage(m))
      const p = messageAttrs(m)
      eachAttr(p, (t, s, e) => {
        if (t === 3) into.anon.get(name)!.elements.push(p.slice(s, e))
      })
    } else if (kind === nfnl.NFT_MSG_NEWRULE) {
      const raw = decodeRuleMessage(m, { exprs: false })
      if (raw.bytes) raw.bytes = nameAnonSets(raw.bytes, ids)
      const list = into.byChain.get(raw.chain)
      if (list) list.push(raw)
      else into.byChain.set(raw.chain, [raw])
    }
  }
}

function attrsWithout(m: Message, drop: readonly number[]): Uint8Array {
  const p = messageAttrs(m)
  const parts: Uint8Array[] = []
  eachAttr(p, (t, _s, e, at) => {
    if (!drop.includes(t)) parts.push(p.subarray(at, (e + 3) & ~3))
  })
  return Buffer.concat(parts)
}

/**
 * The text rules of a table compiled by capturing nft's batches; undefined when this
 * table cannot be compiled so (the caller then uses the scratch namespace).
 */
export function compileCaptured(
  s: Scratch,
  t: TextTable,
  lines: Line[],
): { rules: Map<string, TextRule>; issues: TextIssue[] } | undefined {
  const decl = declarations(t, new Set(lines.map((l) => l.chain)))
  const into: Captures = { anon: new Map(), typed: new Map(), elements: new Map(), byChain: new Map(), names: 0 }
  const issues: TextIssue[] = []
  const chunks: Line[][] = []
  for (let start = 0; start < lines.length; ) {
    let end = start
    let size = 0
    while (end < lines.length && (end === start || size + lines[end]!.text.length <= CHUNK_TEXT))
      size += lines[end++]!.text.length
    chunks.push(lines.slice(start, end))
    start = end
  }
  // the batches' messages are read one batch at a time (what a rule keeps is a view of its batch, not the message)
  const reuse = new MessageReuse()
  try {
    for (const got of runChunks(s, decl, chunks, t.family)) {
      if ("issues" in got) issues.push(...got.issues)
      else collect(reuse.parse(got.batch, got.batch.length), t.family, into)
    }
  } catch {
    // not this table (NotCaptured), or no capture here at all (a libnftables whose context
    // is laid out otherwise, no worker): the scratch namespace compiles it, or says why not
    return undefined
  }
  const rules = new Map<string, TextRule>()
  if (issues.length) return { rules, issues }
  for (const [name, set] of into.typed) set.elements = elementKeys(set, into.elements.get(name)!)
  const linesOf = new Map<number, Line[]>()
  for (const l of lines) {
    const list = linesOf.get(l.chain)
    if (list) list.push(l)
    else linesOf.set(l.chain, [l])
  }
  // a rule not written yet whose key is asked for (the chain already holds rules), or one
  // the kernel refused: the table compiled the slow way, once
  let slow: { rules: Map<string, TextRule>; issues: TextIssue[] } | undefined
  const slowly = () => {
    if (!slow) textCompileCounts.slowly++
    slow ??= compileInScratch(
      s,
      t,
      lines.map((l) => ({ ...l })),
    )
    return slow
  }
  const slowOf = (pos: string) => ({
    key: () => slowly().rules.get(pos)?.key ?? `!not compiled: ${pos}`,
    explain: () => slowly().issues.find((i) => `${i.chain}:${i.rule}` === pos)?.message,
  })
  for (const [ci, mine] of linesOf) {
    const got = into.byChain.get(standIn(ci)) ?? []
    if (got.length !== mine.length) return undefined
    mine.forEach((l, k) => {
      const pos = `${ci}:${l.rule}`
      rules.set(pos, textRule(l.text, got[k]!, into.anon, into.typed, slowOf(pos)))
    })
  }
  return { rules, issues }
}
