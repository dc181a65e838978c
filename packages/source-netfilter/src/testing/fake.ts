// An in-memory nf_tables: applies a transaction to a copy and commits it only when
// every op succeeds; refuses a stale generation (ERESTART); ENOENT for what is missing.
import { NetlinkError } from "@linx/netlink"
import { exprKey } from "../expr.ts"
import { type SetSpec, setFlags, timeoutMs } from "../set.ts"
import type { NftKernel } from "../kernel.ts"
import type { Chain, NftObserved, Table } from "../model.ts"
import type { NftHint } from "../monitor.ts"
import type { ChainBase, NftOp } from "../ops.ts"

const err = (errno: number, message: string) => new NetlinkError(errno, { extAck: { message } })

export class FakeNftKernel implements NftKernel {
  genId = 1
  tables: Table[] = []
  closed = false
  /** transactions received, each a list of op kinds */
  readonly transactions: string[][] = []
  #handle = 1
  readonly #listeners = new Set<(h: NftHint) => void>()
  /** hints sent to subscribers, in order */
  readonly hints: NftHint[] = []

  /** Like the nftables multicast group: each committed change hints the tables it touched. */
  subscribe(onHint: (h: NftHint) => void): Disposable & { close(): Promise<void> } {
    this.#listeners.add(onHint)
    const close = async () => void this.#listeners.delete(onHint)
    return { close, [Symbol.dispose]: () => void close() }
  }

  #changed(tables: Iterable<string>): void {
    const keys = [...new Set(tables)]
    if (!keys.length || !this.#listeners.size) return
    const hint: NftHint = { scope: keys.map((key) => ({ kind: "table", key })) }
    queueMicrotask(() => {
      this.hints.push(hint)
      for (const l of this.#listeners) l(hint)
    })
  }

  observe(interest?: ReadonlySet<string>): NftObserved {
    return {
      genId: this.genId,
      tables: this.tables.map((t) => {
        const copy: Table = { family: t.family, name: t.name, handle: t.handle, flags: t.flags }
        if (!interest || interest.has(`${t.family} ${t.name}`)) {
          copy.chains = structuredClone(t.chains ?? [])
          copy.sets = structuredClone(t.sets ?? [])
        }
        return copy
      }),
    }
  }

  /** what another agent does: `nft add table ...` */
  addForeignTable(family: string, name: string): void {
    this.tables.push({ family, name, handle: this.#handle++, flags: 0, chains: [] })
    this.genId++
    this.#changed([`${family} ${name}`])
  }

  /** `nft insert rule ... accept` by someone else: a rule at the head of a chain */
  insertRule(family: string, table: string, chain: string, exprs: Chain["rules"][number]["exprs"]): void {
    const c = this.tables.find((t) => t.family === family && t.name === table)?.chains?.find((x) => x.name === chain)
    if (!c) throw new Error(`no chain ${family} ${table} ${chain}`)
    c.rules.unshift({ handle: this.#handle++, exprs, key: exprKey(exprs as never) })
    this.genId++
    this.#changed([`${family} ${table}`])
  }

  /** `nft flush chain ...` by someone else */
  flushChain(family: string, table: string, chain: string): void {
    const c = this.tables.find((t) => t.family === family && t.name === table)?.chains?.find((x) => x.name === chain)
    if (c) c.rules = []
    this.genId++
    this.#changed([`${family} ${table}`])
  }

  apply(ops: readonly NftOp[], options: { genId?: number; check?: boolean }): Map<number, Error> {
    this.transactions.push(ops.map((o) => `${o.kind} ${o.object}`))
    const failures = new Map<number, Error>()
    if (options.genId !== undefined && options.genId !== this.genId) {
      for (let i = 0; i < ops.length; i++)
        failures.set(i, err(85, "the ruleset changed since it was observed; look again"))
      return failures
    }
    const next = structuredClone(this.tables)
    for (const [i, op] of ops.entries()) {
      if (op.kind === "conflict") continue
      const e = this.#applyOne(next, op)
      if (e) {
        failures.set(i, e)
        break
      }
    }
    if (failures.size) {
      for (let i = 0; i < ops.length; i++)
        if (!failures.has(i)) failures.set(i, new Error("not applied: the transaction was aborted"))
      return failures
    }
    if (!options.check) {
      this.tables = next
      this.genId++
      this.#changed(ops.flatMap((op) => (op.kind === "conflict" ? [] : [`${op.family} ${op.table}`])))
    }
    return failures
  }

  #applyOne(next: Table[], op: Exclude<NftOp, { kind: "conflict" }>): Error | undefined {
    const t = next.find((x) => x.family === op.family && x.name === op.table)
    if (op.kind === "create" && op.object === "table") {
      if (!t)
        next.push({ family: op.family, name: op.table, handle: this.#handle++, flags: op.flags, chains: [], sets: [] })
      return undefined
    }
    if (!t) return err(2, "No such file or directory")
    switch (op.kind) {
      case "create":
        if (op.object === "obj") {
          t.objects = [...(t.objects ?? []).filter((o) => o.name !== op.obj.name), op.obj]
          return undefined
        }
        return op.object === "set" ? this.#createSet(t, op.set) : this.#createChain(t, op.chain)
      case "update":
        return this.#update(t, op)
      case "delete":
        if (op.object === "table") next.splice(next.indexOf(t), 1)
        else if (op.object === "set") t.sets = (t.sets ?? []).filter((x) => x.name !== op.name)
        else if (op.object === "obj") t.objects = (t.objects ?? []).filter((x) => x.name !== op.name)
        else t.chains = t.chains!.filter((c) => c.name !== op.name)
        return undefined
      case "replace":
        return this.#replaceRules(t, op)
    }
  }

  #createSet(t: Table, set: SetSpec): undefined {
    t.sets ??= []
    if (t.sets.some((x) => x.name === set.name)) return undefined
    t.sets.push({
      name: set.name,
      handle: this.#handle++,
      type: set.type,
      flags: setFlags(set),
      ...(set.map ? { map: set.map } : {}),
      ...(set.timeout ? { timeout: timeoutMs(set.timeout)! } : {}),
      elements: [],
    })
    return undefined
  }

  #createChain(t: Table, spec: ChainBase): undefined {
    if (t.chains!.some((c) => c.name === spec.name)) return undefined
    const c: Chain = { name: spec.name, handle: this.#handle++, rules: [] }
    if (spec.hook)
      Object.assign(c, {
        type: spec.type,
        hook: spec.hook,
        priority: spec.priority ?? 0,
        policy: spec.policy ?? "accept",
      })
    t.chains!.push(c)
    return undefined
  }

  #update(t: Table, op: Extract<NftOp, { kind: "update" }>): Error | undefined {
    if (op.object === "table") {
      t.flags = op.flags
      return undefined
    }
    if (op.object === "elements") {
      const set = t.sets?.find((x) => x.name === op.set)
      if (!set || op.remove.some((k) => !set.elements.includes(k))) return err(2, "No such file or directory")
      const drop = new Set(op.remove)
      set.elements = [...set.elements.filter((k) => !drop.has(k)), ...op.add.filter((k) => !set.elements.includes(k))]
      return undefined
    }
    const c = t.chains?.find((x) => x.name === op.chain.name)
    if (!c) return err(2, "No such file or directory")
    c.policy = op.chain.policy ?? "accept"
    return undefined
  }

  #replaceRules(t: Table, op: Extract<NftOp, { kind: "replace" }>): Error | undefined {
    const c = t.chains?.find((x) => x.name === op.chain)
    if (!c) return err(2, "No such file or directory")
    const jump = op.rules
      .flatMap((r) => r.exprs)
      .find((e) => e.type === "immediate" && e.chain && !t.chains!.some((x) => x.name === e.chain))
    if (jump) return err(2, "No such file or directory")
    // like nf_tables: new rules are appended; only a flush in the same transaction empties the chain
    const kept = op.flush ? [] : c.rules
    c.rules = [
      ...kept,
      ...op.rules.map((r) => {
        const rule: { -readonly [K in keyof Chain["rules"][number]]: Chain["rules"][number][K] } = {
          handle: this.#handle++,
          exprs: r.exprs,
          key: exprKey(r.exprs),
        }
        if (r.common) rule.common = r.common
        if (r.comment !== undefined) rule.comment = r.comment
        // a rule written as nft text: the kernel would hold exactly the bytes nft made
        if (r.key !== undefined) rule.bytesKey = r.key
        return rule
      }),
    ]
    return undefined
  }

  close(): void {
    this.closed = true
  }
}
