// A whole table written as nft text (the body of `table inet edge { … }`, what a user has
// in /etc/nftables.conf): nft itself makes the table in the private scratch namespace,
// and what the kernel then holds is read back as the desired table: chains with their
// hooks, rules as the kernel's bytes with nft's own listing of each as its text, named
// sets and maps as their NEWSET attributes and element keys. Compiled when the desired
// state changes, never on a pass.
import { nfnl, type Message } from "@linx/netlink/wire"
import {
  NFPROTO,
  NFT_SET_ANONYMOUS,
  NFT_SET_EVAL,
  NFT_SET_INTERVAL,
  NFTA_CHAIN_TABLE,
  NFTA_RULE_TABLE,
} from "./wire/constants.ts"
import { dumpObjects, elementKeys, parseChain, parseSet } from "./observe.ts"
import { parseListing } from "./listing.ts"
import { KernelSet, flagNames } from "./set.ts"
import type { NamedObject } from "./model.ts"
import { observeObjects } from "./objects.ts"
import { anonSets, getScratch, runLines, SCRATCH_TABLE, type Scratch, type TextRule, textRule } from "./text.ts"
import { decodeElementsMessage, messageAttrs } from "./wire/objects.ts"
import { decodeRuleMessage, type RawRule } from "./wire/rule.ts"
import type { KeyType } from "./elements.ts"
import { sortedKeys } from "./ops.ts"

/** A table compiled from nft text: used as a table spec, serialised as the text it came from. */
export class NftTextTable {
  constructor(
    readonly family: string,
    readonly name: string,
    readonly flags: ("owner" | "dormant")[],
    readonly nft: string,
    readonly chains: CompiledChain[],
    readonly sets: KernelSet[],
    readonly objects: NamedObject[],
  ) {}
  toJSON(): object {
    return { family: this.family, name: this.name, flags: this.flags, nft: this.nft }
  }
}

export interface CompiledChain {
  name: string
  type?: "filter" | "nat" | "route"
  hook?: string
  priority?: number
  policy?: "accept" | "drop"
  device?: string
  devices?: string[]
  rules: TextRule[]
}

/** What a table text may not hold: a way out of its table, or a file read from disk. */
export function tableTextProblem(text: string): string | undefined {
  let depth = 0
  let quoted = false
  let comment = false
  for (const c of text) {
    if (comment) {
      if (c === "\n") comment = false
      continue
    }
    if (c === '"') quoted = !quoted
    if (quoted) continue
    if (c === "#") comment = true
    else if (c === "{") depth++
    else if (c === "}" && --depth < 0) return "the text closes more braces than it opens (it is the body of one table)"
  }
  if (depth !== 0 || quoted) return "the text leaves a brace or a quote open"
  if (/(^|[\s;{}])include\s/.test(text)) return "a table text cannot include files"
  if (/(^|[\n;{])\s*table\s/.test(text)) return "a table text is the body of one table: it cannot hold another table"
  return undefined
}

/** What nft can declare in a table that Linx does not carry over yet: named by its listing line. */
const NOT_YET = /^\t(flowtable) (\S+)/m

const OBJECT_HEAD = /^\t(counter|quota|limit|ct helper|ct timeout|ct expectation|synproxy|secmark|connlimit) (\S+) \{/

/** Each named object's or set's body as nft lists it ("over 10 mbytes"; a set's without its elements), by name. */
function bodyTexts(listing: string, head: RegExp): Map<string, string> {
  const out = new Map<string, string>()
  const lines = listing.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const m = head.exec(lines[i]!)
    if (!m) continue
    const body: string[] = []
    while (++i < lines.length && lines[i]!.trim() !== "}") {
      const line = lines[i]!.trim()
      // nft lists a set's elements last, possibly over several lines
      if (line.startsWith("elements = ")) break
      body.push(line)
    }
    out.set(m[2]!.replace(/^"|"$/g, ""), body.join("; "))
  }
  return out
}

const SET_HEAD = /^\t(set|map) (\S+) \{/

/** nft's errors ("FILE:3:10-12: Error: msg", the line, the caret), with line numbers of the text itself. */
function textErrors(err: string, file: string): string[] {
  const out: string[] = []
  const rows = err.split("\n")
  for (let i = 0; i < rows.length; i++) {
    const m = /^(.*?):(\d+):(\d+)(?:-\d+)?: (.*)$/.exec(rows[i]!)
    if (!m || m[1] !== file) continue
    const line = Number(m[2]) - 1
    const shown =
      rows[i + 1] !== undefined && /^\s*\^/.test(rows[i + 2] ?? "") ? `\n  ${rows[i + 1]}\n  ${rows[i + 2]}` : ""
    out.push(`nft, line ${line}:${m[3]}: ${m[4]!.replace(/^Error: /, "")}${shown}`)
  }
  return out.length ? out : [`nft: ${err.trim()}`]
}

function namedSets(s: Scratch, family: string): KernelSet[] {
  const nfproto = NFPROTO[family]!
  const out: KernelSet[] = []
  for (const m of dumpObjects(s.sock, nfnl.NFT_MSG_GETSET, { family: nfproto, table: SCRATCH_TABLE }, (m) => m)) {
    const set = parseSet(m, family)
    if (!set || set.flags & NFT_SET_ANONYMOUS) continue
    const filter = { family: nfproto, table: SCRATCH_TABLE, set: set.name }
    const keys = elementKeys(set, dumpObjects(s.sock, nfnl.NFT_MSG_GETSETELEM, filter, decodeElementsMessage))
    // an interval set's keys in nft's order (ascending; at one key an end before a start): in the dump's
    // order (an interval's end before its start) the kernel refuses them with EEXIST
    const ordered = set.flags & NFT_SET_INTERVAL ? sortedKeys(keys) : keys
    const timeout = set.timeout ? `${set.timeout}ms` : undefined
    const map = set.map as KernelSet["map"]
    const flags = flagNames(set.flags)
    out.push(
      new KernelSet(
        set.name,
        set.type as KeyType,
        flags,
        map,
        timeout,
        ordered,
        messageAttrs(m).slice(),
        !!(set.flags & NFT_SET_EVAL),
      ),
    )
  }
  return out
}

/** The compiled table, or nft's complaints (with the text's line and column). */
export function compileTableText(
  family: string,
  name: string,
  flags: ("owner" | "dormant")[],
  nft: string,
): NftTextTable | { issues: string[] } {
  const cached = recent.get(`${family}\n${nft}`)
  if (cached) return new NftTextTable(family, name, flags, nft, cached.chains, cached.sets, cached.objects)
  const problem = tableTextProblem(nft)
  if (problem) return { issues: [problem] }
  const s = getScratch()
  const reset = s.nft.run("flush ruleset")
  if (reset) throw new Error(`nft could not reset its scratch namespace: ${reset}`)
  // line 1 opens the table, so the text's line n is the file's line n + 1
  const { err, path } = runLines(s, [`table ${family} ${SCRATCH_TABLE} {`, nft, "}"])
  if (err) return { issues: textErrors(err, path) }
  s.nft.setOutputFlags((1 << 3) | (1 << 2)) // handles, stateless
  let listing: string
  try {
    listing = s.nft.list(`list table ${family} ${SCRATCH_TABLE}`)
  } finally {
    s.nft.setOutputFlags(0)
  }
  const other = NOT_YET.exec(listing)
  if (other)
    return { issues: [`${other[1]} ${other[2]}: named ${other[1]} objects in a table text are not carried over yet`] }
  const texts = parseListing(listing)
  const nfproto = NFPROTO[family]!
  const { bytes: anon, typed } = anonSets(s, family, SCRATCH_TABLE)
  const byChain = new Map<string, RawRule[]>()
  for (const raw of dumpObjects(
    s.sock,
    nfnl.NFT_MSG_GETRULE,
    { family: nfproto, table: SCRATCH_TABLE, tableAttr: NFTA_RULE_TABLE },
    (m: Message) => decodeRuleMessage(m, { exprs: false }),
  )) {
    if (raw.table !== SCRATCH_TABLE || raw.family !== nfproto) continue
    const list = byChain.get(raw.chain)
    if (list) list.push(raw)
    else byChain.set(raw.chain, [raw])
  }
  const chains = dumpObjects(
    s.sock,
    nfnl.NFT_MSG_GETCHAIN,
    { table: SCRATCH_TABLE, tableAttr: NFTA_CHAIN_TABLE },
    parseChain,
  )
    .filter((c) => c.table === SCRATCH_TABLE && c.family === family)
    .map((c): CompiledChain => {
      const { family: _f, table: _t, handle: _h, rules: _r, ...spec } = c
      const rules = (byChain.get(c.name) ?? []).map((raw) =>
        textRule(texts.get(`${family} ${SCRATCH_TABLE} ${raw.handle}`) ?? "", raw, anon, typed),
      )
      return { ...(spec as Omit<CompiledChain, "rules">), rules }
    })
  const setBodies = bodyTexts(listing, SET_HEAD)
  const sets = namedSets(s, family).map((x) => Object.assign(x, { text: setBodies.get(x.name) }))
  const bodies = bodyTexts(listing, OBJECT_HEAD)
  const objects = observeObjects(s.sock, family, SCRATCH_TABLE).map((o) => ({ ...o, text: bodies.get(o.name) ?? "" }))
  recent.set(`${family}\n${nft}`, { chains, sets, objects })
  if (recent.size > 16) recent.delete(recent.keys().next().value!)
  return new NftTextTable(family, name, flags, nft, chains, sets, objects)
}

/** Compiled table texts, the most recent last (a reload of the same file compiles nothing). */
const recent = new Map<string, { chains: CompiledChain[]; sets: KernelSet[]; objects: NamedObject[] }>()

/** Forgets compiled table texts (a benchmark of the first compile). */
export function forgetCompiledTables(): void {
  recent.clear()
}
