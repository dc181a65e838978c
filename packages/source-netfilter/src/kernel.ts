// The seam to nf_tables. The real kernel builds and parses objects with libnftnl
// and sends one transaction per apply over @linx/netlink (atomic, generation-guarded);
// the fake keeps a ruleset in memory with the same rules.
import { NetlinkError, type NetnsRef, openNetlinkSocket, type NetlinkSocket } from "@linx/netlink"
import { MessageWriter, nfnl, nl } from "@linx/netlink/wire"
import { CHAIN, HOOKS, NFPROTO, NFTNL_UDATA_RULE_COMMENT, RULE, TABLE, VERDICT_CODES } from "./constants.ts"
import { encodeExpr } from "./expr.ts"
import { NftObject } from "./ffi/libnftnl.ts"
import type { NftObserved } from "./model.ts"
import type { NftHint } from "./monitor.ts"
import { createNftObserver } from "./observe.ts"
import type { NftOp } from "./ops.ts"
import { describeNftOp } from "./ops.ts"
import {
  bytesOfHex,
  ELEM_INTERVAL_END,
  END_MARK,
  keyTypeInfo,
  NFT_DATA_VERDICT,
  SET,
  SET_TYPES,
  setFlags,
  timeoutMs,
} from "./set.ts"

export { decodeRuleWithLibnftnl } from "./observe.ts"

export interface NftKernel {
  /** a consistent look (generation before and after equal); chains and rules only for `tables` when given */
  observe(tables?: ReadonlySet<string>): NftObserved
  /** one transaction; failures by op index (all ops fail when any does: nothing was applied) */
  apply(ops: readonly NftOp[], options: { genId?: number; check?: boolean }): Map<number, Error>
  /** a fake's own change events (the real kernel's come from the nftables multicast group) */
  subscribe?(onHint: (h: NftHint) => void): Disposable & { close(): Promise<void> }
  close(): void
}

export function commentData(comment: string): Uint8Array {
  const s = Buffer.from(`${comment}\0`)
  return new Uint8Array([NFTNL_UDATA_RULE_COMMENT, s.byteLength, ...s])
}

export function createNftKernel(netns: NetnsRef): NftKernel {
  // per kernel, never per process: the buffer libnftnl builds messages into, and the
  // set ids that bind a new set to its rules inside one transaction
  const scratch = new Uint8Array(1 << 20)
  let nextSetId = 1
  const sock: NetlinkSocket = openNetlinkSocket(nl.NETLINK_NETFILTER, {
    netns,
    strict: false,
    sendBufferBytes: 64 << 20,
    receiveBufferBytes: 32 << 20,
  })

  const observeOnce = createNftObserver(sock)

  const chainObject = (op: { family: string; table: string }, name: string): NftObject =>
    new NftObject("chain")
      .setStr(CHAIN.TABLE, op.table)
      .setStr(CHAIN.NAME, name)
      .setU32(CHAIN.FAMILY, NFPROTO[op.family]!)

  /** Appends the messages of one op for one phase of the transaction. */
  const encodeOp = (
    w: MessageWriter,
    op: NftOp,
    phase: number,
    label: string,
    setIds: WeakMap<object, number>,
  ): number => {
    if (op.kind === "conflict") return 0
    const fam = NFPROTO[op.family]!
    const add = (o: NftObject, type: number, flags: number) => {
      try {
        w.raw(o.build(nfnl.nftType(type), fam, flags, scratch), label)
      } finally {
        o.free()
      }
    }
    let n = 0
    const table = (flags = 0) =>
      new NftObject("table").setStr(TABLE.NAME, op.table).setU32(TABLE.FAMILY, fam).setU32(TABLE.FLAGS, flags)
    switch (phase) {
      case 0: // flush chains that are rewritten or deleted
        if ((op.kind === "replace" && op.flush) || (op.kind === "delete" && op.object === "chain")) {
          add(
            new NftObject("rule")
              .setStr(RULE.TABLE, op.table)
              .setStr(RULE.CHAIN, op.kind === "replace" ? op.chain : op.name)
              .setU32(RULE.FAMILY, fam),
            nfnl.NFT_MSG_DELRULE,
            0,
          )
          n++
        }
        break
      case 1: // delete chains, then tables
        if (op.kind === "delete" && op.object === "chain") {
          add(chainObject(op, op.name), nfnl.NFT_MSG_DELCHAIN, 0)
          n++
        }
        if (op.kind === "delete" && op.object === "set") {
          add(
            new NftObject("set").setStr(SET.TABLE, op.table).setStr(SET.NAME, op.name).setU32(SET.FAMILY, fam),
            nfnl.NFT_MSG_DELSET,
            0,
          )
          n++
        }
        if (op.kind === "delete" && op.object === "table") {
          add(table(), nfnl.NFT_MSG_DELTABLE, 0)
          n++
        }
        break
      case 2: // create tables, then chains
        if ((op.kind === "create" || op.kind === "update") && op.object === "table") {
          add(table(op.flags), nfnl.NFT_MSG_NEWTABLE, nl.NLM_F_CREATE)
          n++
        }
        break
      case 3:
        if ((op.kind === "create" || op.kind === "update") && op.object === "chain") {
          const c = op.chain
          const o = chainObject(op, c.name)
          if (c.hook) {
            if (op.kind === "create") {
              o.setU32(CHAIN.HOOKNUM, HOOKS[c.hook]!)
                .setU32(CHAIN.PRIO, (c.priority ?? 0) >>> 0)
                .setStr(CHAIN.TYPE, c.type ?? "filter")
              if (c.device) o.setStr(CHAIN.DEV, c.device)
            }
            o.setU32(CHAIN.POLICY, c.policy === "drop" ? 0 : 1)
          }
          add(o, nfnl.NFT_MSG_NEWCHAIN, nl.NLM_F_CREATE)
          n++
        }
        if (op.kind === "create" && op.object === "set") {
          const t = keyTypeInfo(op.set.type)
          const mapType = op.set.map
          const withData = (o: NftObject) => {
            const ms = timeoutMs(op.set.timeout)
            if (ms) o.setU64(SET.TIMEOUT, BigInt(ms))
            if (mapType === "verdict") o.setU32(SET.DATA_TYPE, NFT_DATA_VERDICT).setU32(SET.DATA_LEN, 0)
            else if (mapType)
              o.setU32(SET.DATA_TYPE, SET_TYPES[mapType].id).setU32(SET.DATA_LEN, SET_TYPES[mapType].len)
            return o
          }
          add(
            withData(new NftObject("set"))
              .setStr(SET.TABLE, op.table)
              .setStr(SET.NAME, op.set.name)
              .setU32(SET.FAMILY, fam)
              .setU32(SET.KEY_TYPE, t.id)
              .setU32(SET.KEY_LEN, t.len)
              .setU32(SET.FLAGS, setFlags(op.set))
              .setU32(SET.ID, nextSetId++),
            nfnl.NFT_MSG_NEWSET,
            nl.NLM_F_CREATE,
          )
          n++
        }
        if (op.kind === "replace") {
          // the anonymous sets of its rules ("{ 80, 443 }"), named by the kernel, bound by ID
          for (const r of op.rules) {
            for (const e of r.exprs) {
              if (e.type !== "lookup" || !e.anon) continue
              const id = nextSetId++
              setIds.set(e, id)
              const t = SET_TYPES[e.anon.type as keyof typeof SET_TYPES]
              add(
                new NftObject("set")
                  .setStr(SET.TABLE, op.table)
                  .setStr(SET.NAME, "__set%d")
                  .setU32(SET.FAMILY, fam)
                  .setU32(SET.KEY_TYPE, t.id)
                  .setU32(SET.KEY_LEN, t.len)
                  .setU32(SET.FLAGS, 0x3)
                  .setU32(SET.ID, id),
                nfnl.NFT_MSG_NEWSET,
                nl.NLM_F_CREATE,
              )
              const el = new NftObject("set")
                .setStr(SET.TABLE, op.table)
                .setStr(SET.NAME, "__set%d")
                .setU32(SET.FAMILY, fam)
                .setU32(SET.ID, id)
              for (const key of e.anon.elements) el.addElement(bytesOfHex(key))
              try {
                w.raw(el.buildElements(nfnl.nftType(nfnl.NFT_MSG_NEWSETELEM), fam, nl.NLM_F_CREATE, scratch), label)
              } finally {
                el.free()
              }
              n += 2
            }
          }
        }
        break
      case 4: // elements, once every chain a verdict map may jump to exists
        if (op.kind === "update" && op.object === "elements") {
          // removals, then additions; at most 1000 elements a message (attribute nests are 16-bit)
          for (const [keys, type, flags] of [
            [op.remove, nfnl.NFT_MSG_DELSETELEM, 0],
            [op.add, nfnl.NFT_MSG_NEWSETELEM, nl.NLM_F_CREATE],
          ] as const) {
            for (let k = 0; k < keys.length; k += 1000) {
              const o = new NftObject("set")
                .setStr(SET.TABLE, op.table)
                .setStr(SET.NAME, op.set)
                .setU32(SET.FAMILY, fam)
              for (const entry of keys.slice(k, k + 1000)) {
                const [key, value] = entry.split("=") as [string, string | undefined]
                const end = key.endsWith(END_MARK)
                let v: { data?: Uint8Array; verdict?: number; chain?: string } | undefined
                if (value?.startsWith("v:")) {
                  const [, verdict, chain] = value.split(":")
                  v = { verdict: VERDICT_CODES[verdict as keyof typeof VERDICT_CODES] ?? 0 }
                  if (chain) v.chain = chain
                } else if (value !== undefined) v = { data: bytesOfHex(value) }
                o.addElement(bytesOfHex(end ? key.slice(0, -END_MARK.length) : key), end ? ELEM_INTERVAL_END : 0, v)
              }
              try {
                w.raw(o.buildElements(nfnl.nftType(type), fam, flags, scratch), label)
              } finally {
                o.free()
              }
              n++
            }
          }
        }
        break
      case 5: // add rules, in order
        if (op.kind === "replace") {
          for (const r of op.rules) {
            const o = new NftObject("rule")
              .setStr(RULE.TABLE, op.table)
              .setStr(RULE.CHAIN, op.chain)
              .setU32(RULE.FAMILY, fam)
            for (const e of r.exprs) o.addExpr(encodeExpr(e, setIds))
            if (r.comment !== undefined) o.setData(RULE.USERDATA, commentData(r.comment))
            add(o, nfnl.NFT_MSG_NEWRULE, nl.NLM_F_CREATE | nl.NLM_F_APPEND)
            n++
          }
        }
        break
    }
    return n
  }

  return {
    observe(interest) {
      for (let attempt = 0; ; attempt++) {
        const o = observeOnce(interest)
        if (nfnl.getGeneration(sock) === o.genId) return o
        if (attempt >= 5) throw new Error("the nftables ruleset kept changing during 6 consecutive looks; try again")
      }
    },
    apply(ops, options) {
      const w = new MessageWriter(64 * 1024)
      nfnl.beginBatch(w, options.genId === undefined ? {} : { genId: options.genId })
      const owner: number[] = [-1]
      const setIds = new WeakMap<object, number>()
      for (let phase = 0; phase <= 5; phase++) {
        ops.forEach((op, i) => {
          const n = encodeOp(w, op, phase, describeNftOp(op), setIds)
          for (let k = 0; k < n; k++) owner.push(i)
        })
      }
      if (!options.check) nfnl.endBatch(w)
      const res = sock.batch(w, { atomic: true, headerSize: nfnl.NFGENMSG_LEN })
      const failures = new Map<number, Error>()
      if (!res.failed.length) return failures
      const first = res.failed[0]!
      for (const f of res.failed) {
        const i = owner[f.index]
        if (i === undefined || i < 0) {
          // the batch itself: ERESTART when the generation moved
          const e =
            f.error.errno === 85
              ? new NetlinkError(85, { extAck: { message: "the ruleset changed since it was observed; look again" } })
              : f.error
          ops.forEach((_, k) => failures.set(k, e))
          return failures
        }
        failures.set(i, f.error)
      }
      // one error aborts the whole transaction: nothing else was applied
      ops.forEach((op, k) => {
        if (!failures.has(k) && op.kind !== "conflict")
          failures.set(
            k,
            new Error(
              `not applied: the transaction was aborted by "${first.error.request?.label ?? ""}": ${first.error.message}`,
            ),
          )
      })
      return failures
    },
    close() {
      sock.close()
    },
  }
}
