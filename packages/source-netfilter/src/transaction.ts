// One nf_tables transaction: the ops of a pass as a single atomic batch, in named
// phases so that everything an object needs exists before it (tables before chains,
// chains before the verdict maps and rules that jump to them) and everything that
// refers to an object is gone before it goes (rules flushed before their chain or set
// is deleted). It owns what must never be shared between sources: the buffer libnftnl
// builds messages into and the set ids that bind a new set to its rules. It takes only
// a socket's `batch`, so a test can record the bytes without root.
import type { NetlinkSocket } from "@linx/netlink"
import { NetlinkError } from "@linx/netlink"
import { errno, fromHex, MessageWriter, nfnl, nl } from "@linx/netlink/wire"
import { encodeExpr } from "./wire/expr.ts"
import { type RuleBytes, writeAnonSet, writeNamedSet, writeRule } from "./wire/raw.ts"
import { writeElements } from "./wire/element-writer.ts"
import { NftObject } from "./ffi/libnftnl.ts"
import type { NftOp } from "./ops.ts"
import { describeNftOp } from "./ops.ts"
import { noteWritten, type Writer } from "./learn.ts"
import { EXTRA_MARK, entryParts, keyTypeInfo, SET_TYPES } from "./elements.ts"
import { entryBytes, KernelSet, setFlags, timeoutMs } from "./set.ts"
import { writeDeleteObject, writeObject } from "./objects.ts"
import {
  CHAIN,
  ELEM_INTERVAL_END,
  hookNumber,
  NFPROTO,
  NFT_DATA_VERDICT,
  NFT_SET_ANONYMOUS,
  NFT_SET_CONSTANT,
  NFTNL_UDATA_RULE_COMMENT,
  RULE,
  SET,
  TABLE,
  VERDICT_CODES,
} from "./wire/constants.ts"

/** What a transaction needs of a socket. A test passes a recorder. */
export type BatchSocket = Pick<NetlinkSocket, "batch">

export interface NftTransaction {
  /**
   * Sends the ops as one transaction, guarded by the observed generation when given.
   * Returns failures by op index; when any op fails, all do (nothing was applied).
   * `check`: the kernel validates the batch and commits nothing (no batch end).
   * `writer`: who writes (the source); text rules from nft's batch remember it, with the
   * generation the commit made, to learn their kernel key from the next look (noteWritten).
   */
  apply(ops: readonly NftOp[], options: { genId?: number; check?: boolean; writer?: Writer }): Map<number, Error>
}

/** Elements per message: attribute nests are 16-bit. */
const ELEMENTS_PER_MESSAGE = 1000

export function commentData(comment: string): Uint8Array {
  const s = Buffer.from(`${comment}\0`)
  return new Uint8Array([NFTNL_UDATA_RULE_COMMENT, s.byteLength, ...s])
}

/** The messages of one transaction, each remembered with the op it belongs to. */
class Batch {
  /** op index of each message; -1 for the batch's own begin and end */
  readonly owner: number[] = []
  /** anonymous set expression → the set id it was given in this transaction */
  readonly setIds = new WeakMap<object, number>()
  /** a text rule's anonymous sets (by the name they had where compiled) → their ids in this transaction */
  readonly anonIds = new WeakMap<RuleBytes, Map<string, number>>()
  op = -1
  label = ""
  family = 0

  constructor(
    /** the transaction object's writer, reset: its buffer keeps the size the last transaction grew it to */
    readonly writer: MessageWriter,
    private readonly scratch: Uint8Array,
    private readonly nextSetId: () => number,
  ) {}

  /** Builds the object into a message of this batch, then frees it. */
  add(o: NftObject, type: number, flags: number): void {
    try {
      this.writer.raw(o.build(nfnl.nftType(type), this.family, flags, this.scratch), this.label)
      this.owner.push(this.op)
    } finally {
      o.free()
    }
  }

  /** Builds the set object's elements into a message, then frees it. */
  addElements(o: NftObject, type: number, flags: number): void {
    try {
      this.writer.raw(o.buildElements(nfnl.nftType(type), this.family, flags, this.scratch), this.label)
      this.owner.push(this.op)
    } finally {
      o.free()
    }
  }

  setId(): number {
    return this.nextSetId()
  }
}

type Where = { family: string; table: string }

const tableObject = (op: Where, flags = 0) =>
  new NftObject("table")
    .setStr(TABLE.NAME, op.table)
    .setU32(TABLE.FAMILY, NFPROTO[op.family]!)
    .setU32(TABLE.FLAGS, flags)
const chainObject = (op: Where, name: string) =>
  new NftObject("chain")
    .setStr(CHAIN.TABLE, op.table)
    .setStr(CHAIN.NAME, name)
    .setU32(CHAIN.FAMILY, NFPROTO[op.family]!)
const setObject = (op: Where, name: string) =>
  new NftObject("set").setStr(SET.TABLE, op.table).setStr(SET.NAME, name).setU32(SET.FAMILY, NFPROTO[op.family]!)

/** Phase 1: rules of chains that are rewritten (with flush) or deleted. */
function flushChains(b: Batch, op: NftOp): void {
  const chain =
    op.kind === "replace" && op.flush ? op.chain : op.kind === "delete" && op.object === "chain" ? op.name : ""
  if (!chain || op.kind === "conflict") return
  const o = new NftObject("rule").setStr(RULE.TABLE, op.table).setStr(RULE.CHAIN, chain)
  b.add(o.setU32(RULE.FAMILY, NFPROTO[op.family]!), nfnl.NFT_MSG_DELRULE, 0)
}

/** Phase 2: deleted chains, sets and tables, in the order of the ops. */
function deleteObjects(b: Batch, op: NftOp): void {
  if (op.kind !== "delete") return
  if (op.object === "chain") b.add(chainObject(op, op.name), nfnl.NFT_MSG_DELCHAIN, 0)
  else if (op.object === "set") b.add(setObject(op, op.name), nfnl.NFT_MSG_DELSET, 0)
  else if (op.object === "obj") {
    writeDeleteObject(b.writer, { family: b.family, table: op.table, label: b.label }, op.name, op.type)
    b.owner.push(b.op)
  } else b.add(tableObject(op), nfnl.NFT_MSG_DELTABLE, 0)
}

/** Phase 3: created tables, and the dormant flag of existing ones. */
function createTables(b: Batch, op: NftOp): void {
  if ((op.kind === "create" || op.kind === "update") && op.object === "table")
    b.add(tableObject(op, op.flags), nfnl.NFT_MSG_NEWTABLE, nl.NLM_F_CREATE)
}

/** Phase 4: chains (created or updated), named sets, and the anonymous sets of rules. */
function createChainsAndSets(b: Batch, op: NftOp): void {
  if ((op.kind === "create" || op.kind === "update") && op.object === "chain") {
    const c = op.chain
    const o = chainObject(op, c.name)
    if (c.hook) {
      if (op.kind === "create") {
        o.setU32(CHAIN.HOOKNUM, hookNumber(op.family, c.hook)!).setU32(CHAIN.PRIO, (c.priority ?? 0) >>> 0)
        o.setStr(CHAIN.TYPE, c.type ?? "filter")
        if (c.device) o.setStr(CHAIN.DEV, c.device)
        if (c.devices) o.setStrings(CHAIN.DEVICES, c.devices)
      }
      o.setU32(CHAIN.POLICY, c.policy === "drop" ? VERDICT_CODES.drop : VERDICT_CODES.accept)
    }
    b.add(o, nfnl.NFT_MSG_NEWCHAIN, nl.NLM_F_CREATE)
  } else if (op.kind === "create" && op.object === "obj") {
    writeObject(b.writer, { family: b.family, table: op.table, label: b.label }, op.obj, nl.NLM_F_CREATE)
    b.owner.push(b.op)
  } else if (op.kind === "create" && op.object === "set" && op.set instanceof KernelSet) {
    const where = { family: b.family, table: op.table, label: b.label }
    writeNamedSet(b.writer, where, op.set.name, op.set.attrs, b.setId(), nl.NLM_F_CREATE)
    b.owner.push(b.op)
  } else if (op.kind === "create" && op.object === "set") {
    const s = op.set
    const key = keyTypeInfo(s.type)
    const o = setObject(op, s.name).setU32(SET.KEY_TYPE, key.id).setU32(SET.KEY_LEN, key.len)
    o.setU32(SET.FLAGS, setFlags(s)).setU32(SET.ID, b.setId())
    const ms = timeoutMs(s.timeout)
    if (ms) o.setU64(SET.TIMEOUT, BigInt(ms))
    if (s.map === "verdict") o.setU32(SET.DATA_TYPE, NFT_DATA_VERDICT).setU32(SET.DATA_LEN, 0)
    else if (s.map) o.setU32(SET.DATA_TYPE, SET_TYPES[s.map].id).setU32(SET.DATA_LEN, SET_TYPES[s.map].len)
    b.add(o, nfnl.NFT_MSG_NEWSET, nl.NLM_F_CREATE)
  } else if (op.kind === "replace") {
    for (const r of op.rules) {
      if (r.wire) textAnonSets(b, op, r.wire)
      else for (const e of r.exprs) if (e.type === "lookup" && e.anon) anonymousSet(b, op, e, e.anon)
    }
  }
}

/** A text rule's anonymous sets, as nft made them, each bound to the rule by a fresh id. */
function textAnonSets(b: Batch, op: Where, rule: RuleBytes): void {
  const ids = new Map<string, number>()
  const flags = nl.NLM_F_CREATE
  for (const a of rule.anon) {
    const id = b.setId()
    ids.set(a.name, id)
    const n = writeAnonSet(b.writer, { family: b.family, table: op.table, label: b.label }, a, id, flags)
    for (let k = 0; k < n; k++) b.owner.push(b.op)
  }
  b.anonIds.set(rule, ids)
}

/** An anonymous set's key type: a datatype by name, or "id/len" for one Linx has no name for. */
function anonKeyType(type: string): { id: number; len: number } {
  const known = SET_TYPES[type as keyof typeof SET_TYPES]
  if (known) return known
  const m = /^(\d+)\/(\d+)$/.exec(type)
  if (m) return { id: Number(m[1]), len: Number(m[2]) }
  throw new Error(`an anonymous set of type "${type}" cannot be written: use a datatype name or "id/len"`)
}

/** A rule's anonymous set ("{ 80, 443 }"): named by the kernel, bound to the rule by id. */
function anonymousSet(b: Batch, op: Where, e: object, anon: { type: string; elements: readonly string[] }): void {
  const id = b.setId()
  b.setIds.set(e, id)
  const t = anonKeyType(anon.type)
  const o = setObject(op, "__set%d").setU32(SET.KEY_TYPE, t.id).setU32(SET.KEY_LEN, t.len)
  b.add(
    o.setU32(SET.FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT).setU32(SET.ID, id),
    nfnl.NFT_MSG_NEWSET,
    nl.NLM_F_CREATE,
  )
  const el = setObject(op, "__set%d").setU32(SET.ID, id)
  for (const key of anon.elements) el.addElement(fromHex(key))
  b.addElements(el, nfnl.NFT_MSG_NEWSETELEM, nl.NLM_F_CREATE)
}

/** One element "key[/e][=data | =v:verdict[:chain]]" onto a set object. */
function addElement(o: NftObject, entry: string): void {
  const { key, end, data: value } = entryParts(entry)
  let data: { data?: Uint8Array; verdict?: number; chain?: string } | undefined
  if (value?.startsWith("v:")) {
    const [, verdict, chain] = value.split(":")
    data = { verdict: VERDICT_CODES[verdict as keyof typeof VERDICT_CODES] ?? 0 }
    if (chain) data.chain = chain
  } else if (value !== undefined) data = { data: fromHex(value) }
  o.addElement(fromHex(key), end ? ELEM_INTERVAL_END : 0, data)
}

/** Phase 5: set elements, removals then additions, once every chain a verdict map may jump to exists. */
function changeElements(b: Batch, op: NftOp): void {
  if (op.kind !== "update" || op.object !== "elements") return
  for (const [keys, type, flags] of [
    [op.remove, nfnl.NFT_MSG_DELSETELEM, 0],
    [op.add, nfnl.NFT_MSG_NEWSETELEM, nl.NLM_F_CREATE],
  ] as const) {
    // elements with their own attributes (timeout, comment, counter, key end) go as bytes; the rest through libnftnl
    const plain = keys.filter((k) => !k.includes(EXTRA_MARK))
    for (let k = 0; k < plain.length; k += ELEMENTS_PER_MESSAGE) {
      const o = setObject(op, op.set)
      for (const entry of plain.slice(k, k + ELEMENTS_PER_MESSAGE)) addElement(o, entry)
      b.addElements(o, type, flags)
    }
    const own = keys.filter((k) => k.includes(EXTRA_MARK)).map(entryBytes)
    if (!own.length) continue
    const where = { family: b.family, table: op.table, set: op.set, label: b.label }
    const n = writeElements(b.writer, where, own, type, flags)
    for (let i = 0; i < n; i++) b.owner.push(b.op)
  }
}

/** Phase 6: the rules of rewritten chains, appended in order. */
function addRules(b: Batch, op: NftOp): void {
  if (op.kind !== "replace") return
  for (const r of op.rules) {
    if (r.wire) {
      const where = { family: b.family, table: op.table, chain: op.chain, label: b.label }
      writeRule(b.writer, where, r.wire, b.anonIds.get(r.wire) ?? new Map(), nl.NLM_F_CREATE | nl.NLM_F_APPEND)
      b.owner.push(b.op)
      continue
    }
    const o = new NftObject("rule").setStr(RULE.TABLE, op.table).setStr(RULE.CHAIN, op.chain)
    o.setU32(RULE.FAMILY, NFPROTO[op.family]!)
    for (const e of r.exprs) o.addExpr(encodeExpr(e, b.setIds))
    if (r.comment !== undefined) o.setData(RULE.USERDATA, commentData(r.comment))
    b.add(o, nfnl.NFT_MSG_NEWRULE, nl.NLM_F_CREATE | nl.NLM_F_APPEND)
  }
}

/** The phases, in the order the kernel must see them. */
const PHASES = [flushChains, deleteObjects, createTables, createChainsAndSets, changeElements, addRules] as const

export function createNftTransaction(sock: BatchSocket): NftTransaction {
  const scratch = new Uint8Array(1 << 20)
  let lastSetId = 0
  const nextSetId = () => {
    lastSetId = lastSetId >= 0x7fffffff ? 1 : lastSetId + 1
    return lastSetId
  }

  let writer = new MessageWriter(64 * 1024)
  const encode = (ops: readonly NftOp[], genId: number | undefined, check: boolean | undefined): Batch => {
    // a writer grown past 16 MiB by one big transaction is not kept for the small ones after it
    if (writer.capacity > 16 << 20) writer = new MessageWriter(64 * 1024)
    const b = new Batch(writer.reset(), scratch, nextSetId)
    nfnl.beginBatch(b.writer, genId === undefined ? {} : { genId })
    b.owner.push(-1)
    // each op's text labels its messages (errors name it): worked out once, not once per phase
    const labels = ops.map((op) => (op.kind === "conflict" ? "" : describeNftOp(op)))
    for (const phase of PHASES) {
      ops.forEach((op, i) => {
        if (op.kind === "conflict") return
        b.op = i
        b.label = labels[i]!
        b.family = NFPROTO[op.family]!
        phase(b, op)
      })
    }
    if (!check) {
      nfnl.endBatch(b.writer)
      b.owner.push(-1)
    }
    return b
  }

  return {
    apply(ops, options) {
      const b = encode(ops, options.genId, options.check)
      const res = sock.batch(b.writer, { atomic: true, headerSize: nfnl.NFGENMSG_LEN })
      const failures = new Map<number, Error>()
      const first = res.failed[0]
      if (!first) {
        if (options.genId !== undefined && options.writer && !options.check)
          noteWritten(ops, options.writer, options.genId + 1)
        return failures
      }
      for (const f of res.failed) {
        const i = b.owner[f.index]
        if (i === undefined || i < 0) {
          // the batch itself: ERESTART when the generation moved since observe
          const e =
            f.error.errno === errno.ERESTART
              ? new NetlinkError(errno.ERESTART, {
                  extAck: { message: "the ruleset changed since it was observed; look again" },
                })
              : f.error
          for (let k = 0; k < ops.length; k++) failures.set(k, e)
          return failures
        }
        failures.set(i, f.error)
      }
      // one error aborts the whole transaction: nothing else was applied
      const why = `not applied: the transaction was aborted by "${first.error.request?.label ?? ""}": ${first.error.message}`
      ops.forEach((op, k) => {
        if (!failures.has(k) && op.kind !== "conflict") failures.set(k, new Error(why))
      })
      return failures
    },
  }
}
