// Rules written in nft's own syntax, compiled exactly as nft compiles them: nft itself
// (libnftables) adds them to a copy of their table in a private scratch namespace, and
// the kernel's bytes for each rule are read back. Those bytes are what the transaction
// writes and what a rule in the real namespace is compared with (wire/raw.ts). A table's
// text rules compile in one nft run, when the desired state changes, never on a pass.
import { closeSync, openSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type NetlinkSocket, Netns, openNetlinkSocket } from "@linx/netlink"
import { type Message, nl, nfnl } from "@linx/netlink/wire"
import type { Expr } from "./expr.ts"
import { NftContext } from "./ffi/libnftables.ts"
import type { NftSet } from "./model.ts"
import { anonKey, dumpObjects, elementKeys, parseSet } from "./observe.ts"
import type { NftOp } from "./ops.ts"
import type { SetSpec } from "./set.ts"
import { createNftTransaction, type NftTransaction } from "./transaction.ts"
import { NFPROTO, NFT_SET_ANONYMOUS, NFTA_RULE_TABLE } from "./wire/constants.ts"
import { decodeElementsMessage, type ElementMessage, messageAttrs } from "./wire/objects.ts"
import { type AnonSetBytes, bytesKey, eachAttr, type RuleBytes, setsReferenced } from "./wire/raw.ts"
import { decodeExprList, decodeRuleMessage, type RawRule } from "./wire/rule.ts"

/** A rule given as nft text, compiled: shown and serialised as its text. */
export class TextRule {
  #exprs: Expr[] | (() => Expr[])
  #key: string | (() => string)
  constructor(
    readonly text: string,
    /** the expressions decoded (for lookups of named sets, and for show); decoded on first use when a function */
    exprs: Expr[] | (() => Expr[]),
    readonly bytes: RuleBytes,
    /** the byte key an observed rule's `bytesKey` must equal; computed on first use when a function */
    key: string | (() => string),
  ) {
    this.#exprs = exprs
    this.#key = key
  }
  get exprs(): Expr[] {
    if (typeof this.#exprs === "function") this.#exprs = this.#exprs()
    return this.#exprs
  }
  get key(): string {
    if (typeof this.#key === "function") this.#key = this.#key()
    return this.#key
  }
  toJSON(): string {
    return this.text
  }
}

/** What compiling needs of a table: its sets and chains, its text rules by position. */
export interface TextTable {
  family: string
  name: string
  sets: readonly SetSpec[]
  chains: readonly {
    name: string
    type?: "filter" | "nat" | "route" | undefined
    hook?: string | undefined
    priority?: number | undefined
    device?: string | undefined
    devices?: readonly string[] | undefined
    rules: readonly unknown[]
  }[]
}

export interface TextIssue {
  /** chain and rule index of the rule nft refused; undefined when it is the table's */
  chain?: number
  rule?: number
  message: string
}

/** The scratch namespace with its nft context and socket: one per process, made on first use. */
export class Scratch {
  readonly ns = Netns.create()
  readonly sock: NetlinkSocket
  readonly nft: NftContext
  readonly tx: NftTransaction
  files = 0
  constructor() {
    this.sock = openNetlinkSocket(nl.NETLINK_NETFILTER, { netns: this.ns, strict: false, receiveBufferBytes: 32 << 20 })
    this.nft = new NftContext(this.ns)
    this.tx = createNftTransaction(this.sock)
  }
}
let scratch: Scratch | undefined

export function getScratch(): Scratch {
  if (scratch) return scratch
  try {
    scratch = new Scratch()
  } catch (e) {
    throw new Error(
      `rules written as nft text are compiled by nft in a private network namespace, which could not be made: ${(e as Error).message}`,
    )
  }
  return scratch
}

/** "tcp dport 22; flush ruleset" would be two commands: one rule per string (a ';' inside quotes is text). */
export function textRuleProblem(text: string): string | undefined {
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 32 || c === 127) return "a rule text is one line without control characters"
    if (c === 34) quoted = !quoted
    else if (c === 59 && !quoted) return "a rule text holds one rule: ';' would start another nft command"
  }
  if (quoted) return "a rule text has an unclosed quote"
  return undefined
}

/**
 * The scratch copy of the table: the table, its sets (no elements), its chains (no rules)
 * by their names (what rules jump to), and for each chain with rule texts a stand-in with
 * its type and hook under a name nft can parse ("fwd" or "flow", say, are nft keywords:
 * nft cannot add a rule to a chain so named, and a rule's bytes never hold its own chain
 * or table name). The table, too, is a stand-in.
 */
function setupOps(t: TextTable, withText: ReadonlySet<number>): NftOp[] {
  const where = { family: t.family, table: SCRATCH_TABLE }
  const ops: NftOp[] = [{ kind: "create", object: "table", flags: 0, ...where }]
  for (const set of t.sets) ops.push({ kind: "create", object: "set", set: { ...set, elements: [] }, ...where })
  const names = new Set(t.chains.map((c) => c.name))
  t.chains.forEach((c, ci) => {
    ops.push({ kind: "create", object: "chain", chain: { name: c.name }, ...where })
    if (!withText.has(ci) || names.has(standIn(ci))) return
    // a netdev chain's device does not exist in the scratch namespace: its rules compile in a regular chain
    const base = c.hook && !c.device && !c.devices ? { type: c.type, hook: c.hook, priority: c.priority } : {}
    ops.push({ kind: "create", object: "chain", chain: { name: standIn(ci), ...base }, ...where })
  })
  return ops
}

/** How text rules were compiled in this process: by capture, in the scratch namespace, slowly after a capture (tests read it). */
export const textCompileCounts = { captured: 0, scratch: 0, slowly: 0 }

export const SCRATCH_TABLE = "linx_scratch"
export const standIn = (chain: number) => `linx_chain_${chain}`

export interface Line {
  chain: number
  rule: number
  text: string
  prefix: number
}

/** nft's errors ("FILE:3:10-12: Error: msg", the line, the caret) mapped to the rules they name. */
export function mapErrors(err: string, file: string, lines: readonly (Line | undefined)[]): TextIssue[] {
  const out: TextIssue[] = []
  const rows = err.split("\n")
  for (let i = 0; i < rows.length; i++) {
    const m = /^(.*?):(\d+):\d+(?:-\d+)?: (.*)$/.exec(rows[i]!)
    if (!m || m[1] !== file) continue
    const line = lines[Number(m[2]) - 1]
    const caret = rows[i + 2]?.trimEnd() ?? ""
    if (!line) {
      out.push({ message: `nft: ${m[3]}` })
      continue
    }
    const mark =
      /^\s*\^/.test(caret) && caret.length > line.prefix ? `\n  ${line.text}\n  ${caret.slice(line.prefix)}` : ""
    out.push({ chain: line.chain, rule: line.rule, message: `nft: ${m[3]!.replace(/^Error: /, "")}${mark}` })
  }
  if (!out.length) out.push({ message: `nft: ${err.trim()}` })
  return out
}

/** Runs nft commands from a private file (so that its errors name lines): the error text and the file's name. */
export function runLines(s: Scratch, commands: readonly string[]): { err: string; path: string } {
  const { result, path } = writeCommands(s, commands, (p) => s.nft.runFile(p))
  return { err: result, path }
}

/** Writes commands to a private file, runs `run` on it, removes it. */
export function writeCommands<T>(
  s: Scratch,
  commands: readonly string[],
  run: (path: string) => T,
): { result: T; path: string } {
  const path = writeNftFile(s, commands)
  try {
    return { result: run(path), path }
  } finally {
    rmSync(path, { force: true })
  }
}

/** Writes commands to a new private file (its name unique to this process); the caller removes it. */
export function writeNftFile(s: Scratch, commands: readonly string[]): string {
  const path = join(tmpdir(), `linx-nft-${process.pid}-${++s.files}.nft`)
  const fd = openSync(path, "wx", 0o600)
  try {
    writeSync(fd, `${commands.join("\n")}\n`)
  } finally {
    closeSync(fd)
  }
  return path
}

/** The anonymous sets of the scratch table: as bytes (to write them) and decoded (to name them by contents). */
export function anonSets(
  s: Scratch,
  family: string,
  table: string,
): { bytes: Map<string, AnonSetBytes>; typed: Map<string, NftSet> } {
  const bytes = new Map<string, AnonSetBytes>()
  const typed = new Map<string, NftSet>()
  const nfproto = NFPROTO[family]!
  for (const m of dumpObjects(s.sock, nfnl.NFT_MSG_GETSET, { family: nfproto, table }, (m) => m)) {
    const set = parseSet(m, family)
    if (!set || !(set.flags & NFT_SET_ANONYMOUS)) continue
    bytes.set(set.name, { name: set.name, attrs: messageAttrs(m).slice(), elements: [] })
    typed.set(set.name, set)
  }
  for (const [name, a] of bytes) {
    // one dump per set, read both ways
    const decoded: ElementMessage[][] = []
    for (const m of dumpObjects(s.sock, nfnl.NFT_MSG_GETSETELEM, { family: nfproto, table, set: name }, (m) => m)) {
      decoded.push(decodeElementsMessage(m))
      const p = messageAttrs(m)
      eachAttr(p, (t, st, e) => {
        if (t === 3) a.elements.push(p.slice(st, e))
      })
    }
    const set = typed.get(name)!
    set.elements = elementKeys(set, decoded)
  }
  return { bytes, typed }
}

/** Whether the bytes hold "__" (an anonymous set's name: "__set0", "__map1"). */
function namesAnonymous(b: Uint8Array): boolean {
  for (let i = b.indexOf(95); i >= 0 && i + 1 < b.length; i = b.indexOf(95, i + 1)) if (b[i + 1] === 95) return true
  return false
}

/**
 * A text rule from its compiled bytes. `slow`: the bytes are nft's batch (text-capture.ts);
 * their key is the kernel's once a write taught it, else what `slow.key` works out, and
 * `slow.explain` says why the kernel refused it.
 */
export function textRule(
  text: string,
  raw: RawRule,
  anon: Map<string, AnonSetBytes>,
  typed: Map<string, NftSet>,
  slow?: { key: () => string; explain: () => string | undefined },
): TextRule {
  const bytes: RuleBytes = { exprs: raw.bytes ?? new Uint8Array(), anon: [] }
  if (raw.userdata) bytes.userdata = raw.userdata
  // only a rule whose bytes name one ("__set0", "__map1") uses an anonymous set
  if (anon.size && namesAnonymous(bytes.exprs))
    for (const name of new Set(setsReferenced(bytes.exprs))) {
      const a = anon.get(name)
      if (a) bytes.anon.push(a)
    }
  const keyOf = (name: string) => {
    const t = typed.get(name)
    return t ? anonKey(t) : undefined
  }
  // both are needed only when the rule is compared or shown: a first apply of a new table needs neither
  const exprs = () =>
    (raw.exprs.length ? raw.exprs : decodeExprList(bytes.exprs)).map((e) => {
      const t = e.type === "lookup" ? typed.get(e.set) : undefined
      return t ? { ...e, anon: { type: t.type, elements: [...t.elements].sort() } } : e
    }) as Expr[]
  if (slow) {
    bytes.captured = true
    bytes.explain = slow.explain
    return new TextRule(text, exprs, bytes, () => bytes.kernelKey ?? slow.key())
  }
  return new TextRule(text, exprs, bytes, () => bytesKey(bytes.exprs, keyOf))
}

/** Compiles text rules by letting nft add them to a copy of their table in the scratch namespace, and reading them back. */
export function compileInScratch(
  s: Scratch,
  t: TextTable,
  lines: Line[],
): { rules: Map<string, TextRule>; issues: TextIssue[] } {
  const rules = new Map<string, TextRule>()
  const reset = s.nft.run("flush ruleset")
  if (reset) throw new Error(`nft could not reset its scratch namespace: ${reset}`)
  const failed = s.tx.apply(setupOps(t, new Set(lines.map((l) => l.chain))), {})
  if (failed.size) return { rules, issues: [{ message: `nft: ${[...failed.values()][0]!.message}` }] }
  const commands = lines.map((l) => {
    const head = `add rule ${t.family} ${SCRATCH_TABLE} ${standIn(l.chain)} `
    l.prefix = head.length
    return head + l.text
  })
  const { err, path } = runLines(s, commands)
  if (err) return { rules, issues: mapErrors(err, path, lines) }
  const family = NFPROTO[t.family]!
  const { bytes: anon, typed } = anonSets(s, t.family, SCRATCH_TABLE)
  const byChain = new Map<string, RawRule[]>()
  const filter = { family, table: SCRATCH_TABLE, tableAttr: NFTA_RULE_TABLE }
  const decode = (m: Message) => decodeRuleMessage(m, { exprs: false })
  for (const raw of dumpObjects(s.sock, nfnl.NFT_MSG_GETRULE, filter, decode)) {
    if (raw.table !== SCRATCH_TABLE || raw.family !== family) continue
    const list = byChain.get(raw.chain)
    if (list) list.push(raw)
    else byChain.set(raw.chain, [raw])
  }
  const issues: TextIssue[] = []
  const linesOf = new Map<number, Line[]>()
  for (const l of lines) {
    const list = linesOf.get(l.chain)
    if (list) list.push(l)
    else linesOf.set(l.chain, [l])
  }
  t.chains.forEach((_c, ci) => {
    const mine = linesOf.get(ci) ?? []
    const got = byChain.get(standIn(ci)) ?? []
    if (got.length !== mine.length) {
      issues.push({ chain: ci, message: `nft made ${got.length} rules of this chain's ${mine.length} rule texts` })
      return
    }
    mine.forEach((l, k) => {
      rules.set(`${ci}:${l.rule}`, textRule(l.text, got[k]!, anon, typed))
    })
  })
  return { rules, issues }
}
