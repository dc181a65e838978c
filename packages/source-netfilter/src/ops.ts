// The ops of one nftables transaction, and the `nft` text each is equivalent to.
import { fromHex } from "@linx/netlink/wire"
import type { Expr } from "./expr.ts"
import type { CommonRule, Verdict } from "./rule-schema.ts"
import { END_MARK, elementText, entryParts, type KeyType, mapDataText } from "./elements.ts"
import type { SetSpec } from "./set.ts"
import type { RuleBytes } from "./wire/raw.ts"
import type { NamedObject } from "./model.ts"
import { OBJECT_KINDS } from "./wire/constants.ts"

/** What a chain op needs of a chain (its rules travel in "replace" ops). */
export interface ChainBase {
  readonly name: string
  readonly type?: "filter" | "nat" | "route" | undefined
  readonly hook?: string | undefined
  readonly priority?: number | undefined
  readonly policy?: "accept" | "drop" | undefined
  readonly device?: string | undefined
  readonly devices?: readonly string[] | undefined
}

/** A rule ready to add: its expressions, and how to print it. */
export interface CompiledRule {
  exprs: Expr[]
  common?: CommonRule
  comment?: string
  /** a rule written as nft text: the text, its bytes as nft made them, and their key (wire/raw.ts) */
  text?: string
  wire?: RuleBytes
  key?: string
}

interface Where {
  family: string
  table: string
}

export type NftOp =
  | ({ kind: "create"; object: "table"; flags: number } & Where)
  /** the dormant flag, changed in place */
  | ({ kind: "update"; object: "table"; flags: number } & Where)
  | ({ kind: "delete"; object: "table" } & Where)
  | ({ kind: "create"; object: "chain"; chain: ChainBase } & Where)
  | ({ kind: "update"; object: "chain"; chain: ChainBase } & Where)
  | ({ kind: "delete"; object: "chain"; name: string } & Where)
  /** flush the chain and add these rules, in order, in the same transaction */
  | ({ kind: "replace"; object: "rules"; chain: string; rules: CompiledRule[]; flush: boolean } & Where)
  | ({ kind: "create"; object: "set"; set: SetSpec } & Where)
  | ({ kind: "delete"; object: "set"; name: string } & Where)
  /** add and remove elements, each by its key bytes (hex): a one-element change sends one element */
  | ({
      kind: "update"
      object: "elements"
      set: string
      type: KeyType
      mapType?: string
      add: string[]
      remove: string[]
    } & Where)
  /** a named stateful object (counter, quota, limit, ct helper, …), as nft made it */
  | ({ kind: "create"; object: "obj"; obj: NamedObject } & Where)
  | ({ kind: "delete"; object: "obj"; name: string; type: number } & Where)
  | { kind: "conflict"; object: "table"; key: string; reason: string }

const q = (s: string) => JSON.stringify(s)

function verdictText(v: Verdict): string {
  if (typeof v === "string") return v
  if ("vmap" in v) return `${v.key} vmap ${v.vmap}`
  if ("key" in v)
    return `${"snat" in v ? "snat" : "dnat"}${v.family ? ` ${v.family}` : ""} to ${v.key} map ${"snat" in v ? v.snat : v.dnat}`
  if ("snat" in v) return `snat to ${v.snat}`
  if ("dnat" in v) return `dnat to ${v.dnat}`
  return "jump" in v ? `jump ${v.jump}` : `goto ${v.goto}`
}

/** The nft text of a common-form rule, as a person would write it. */
export function commonText(r: CommonRule): string {
  const p: string[] = []
  const m = r.match ?? {}
  if (m.ct?.state) p.push(`ct state ${m.ct.state.join(",")}`)
  if (m.iifname) p.push(`iifname ${q(m.iifname)}`)
  if (m.oifname) p.push(`oifname ${q(m.oifname)}`)
  const val = (x: unknown) => (Array.isArray(x) ? `{ ${x.join(", ")} }` : String(x))
  for (const proto of ["ip", "ip6"] as const) {
    if (m[proto]?.saddr) p.push(`${proto} saddr ${val(m[proto]!.saddr)}`)
    if (m[proto]?.daddr) p.push(`${proto} daddr ${val(m[proto]!.daddr)}`)
  }
  if (m.concat) p.push(`${m.concat.keys.join(" . ")} ${m.concat.set}`)
  if (m.meta?.l4proto !== undefined) p.push(`meta l4proto ${m.meta.l4proto}`)
  for (const l4 of ["tcp", "udp"] as const) {
    if (m[l4]?.sport !== undefined) p.push(`${l4} sport ${val(m[l4]!.sport)}`)
    if (m[l4]?.dport !== undefined) p.push(`${l4} dport ${val(m[l4]!.dport)}`)
  }
  if (r.counter) p.push("counter")
  if (r.verdict) p.push(verdictText(r.verdict))
  return p.join(" ")
}

export function ruleText(r: CompiledRule): string {
  if (r.text !== undefined) return r.text
  const body = r.common ? commonText(r.common) : `# raw: ${r.exprs.map((e) => e.type).join(" ")}`
  return r.comment !== undefined ? `${body} comment ${q(r.comment)}` : body
}

function tableFlags(flags: number): string {
  const names = [flags & 1 ? "dormant" : "", flags & 2 ? "owner" : ""].filter(Boolean)
  return names.length ? ` { flags ${names.join(",")}; }` : ""
}

export function chainText(c: ChainBase): string {
  if (!c.hook) return ""
  const parts = [`type ${c.type} hook ${c.hook}`]
  if (c.device) parts.push(`device ${q(c.device)}`)
  if (c.devices) parts.push(`devices = { ${c.devices.map(q).join(", ")} }`)
  parts.push(`priority ${c.priority ?? 0};`)
  if (c.policy) parts.push(`policy ${c.policy};`)
  return ` { ${parts.join(" ")} }`
}

/** One less, as big-endian bytes (an interval's end key is one past its last element). */
/** An element's own attributes as nft writes them after its key: " timeout 30m comment "x"", " counter". */
function extraText(b: Uint8Array): string {
  let out = ""
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  for (let p = 0; p + 4 <= b.length; ) {
    const len = v.getUint16(p, true)
    const type = v.getUint16(p + 2, true) & 0x3fff
    if (len < 4) break
    if (type === 4 && len >= 12) out += ` timeout ${durationText(Number(v.getBigUint64(p + 4)))}`
    else if (type === 6 && b[p + 4] === 0) {
      const n = b[p + 5]!
      out += ` comment ${q(
        Buffer.from(b.subarray(p + 6, p + 6 + n))
          .toString()
          .replace(/\0+$/, ""),
      )}`
    } else if (type === 7 || type === 11) out += " counter"
    p += (len + 3) & ~3
  }
  return out
}

/** Milliseconds as nft writes a timeout: "1h30m", "30s", "250ms". */
function durationText(ms: number): string {
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ]
  let out = ""
  let left = ms
  for (const [u, n] of units)
    if (left >= n) {
      out += `${Math.floor(left / n)}${u}`
      left %= n
    }
  return out || "0s"
}

/** The prefix length when [a, b] is one network (a's host bits all 0, b's all 1), as nft writes it. */
function prefixOf(a: Uint8Array, b: Uint8Array): number | undefined {
  let bits = 0
  while (bits < a.length * 8) {
    const m = 0x80 >> (bits & 7)
    if ((a[bits >> 3]! & m) !== (b[bits >> 3]! & m)) break
    bits++
  }
  for (let i = bits; i < a.length * 8; i++) {
    const m = 0x80 >> (i & 7)
    if ((a[i >> 3]! & m) !== 0 || (b[i >> 3]! & m) === 0) return undefined
  }
  return bits
}

function minusOne(b: Uint8Array): Uint8Array {
  const out = b.slice()
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! > 0) {
      out[i]! -= 1
      break
    }
    out[i] = 255
  }
  return out
}

/** Interval keys in key order, an end before a start at the same key (as the kernel dumps them in any order). */
export function sortedKeys(keys: readonly string[]): string[] {
  // ascending by key bytes (hex of one length); at one key an interval's end before a start
  const parts = new Map(keys.map((e) => [e, entryParts(e)]))
  return [...keys].sort((a, b) => {
    const pa = parts.get(a)!
    const pb = parts.get(b)!
    if (pa.key !== pb.key) return pa.key < pb.key ? -1 : 1
    return (pb.end ? 1 : 0) - (pa.end ? 1 : 0)
  })
}

/**
 * Element keys as nft writes them: an interval's start and end keys become "a-b" (or
 * just "a" for a one-element interval), so the line is one nft accepts.
 */
export function elementsText(keys: readonly string[], type: KeyType | string, mapType: string | undefined): string[] {
  const out: string[] = []
  for (let i = 0; i < keys.length; i++) {
    const parts = entryParts(keys[i]!)
    const k = parts.end ? parts.key + END_MARK : parts.key
    const value = parts.data
    const np = keys[i + 1] === undefined ? undefined : entryParts(keys[i + 1]!)
    const next = np && (np.end ? np.key + END_MARK : np.key)
    let text: string
    if (!k.endsWith(END_MARK) && next?.endsWith(END_MARK)) {
      const a = fromHex(k)
      const b = minusOne(fromHex(next.slice(0, -END_MARK.length)))
      const first = elementText(type, a)
      const last = elementText(type, b)
      const bits = type === "ipv4_addr" || type === "ipv6_addr" ? prefixOf(a, b) : undefined
      text = first === last ? String(first) : bits !== undefined ? `${first}/${bits}` : `${first}-${last}`
      i++
    } else if (k.endsWith(END_MARK)) {
      // the kernel keeps an interval end at 0 before the first interval: not an element
      if (/^0+$/.test(k.slice(0, -END_MARK.length))) continue
      text = `${elementText(type, fromHex(k.slice(0, -END_MARK.length)))} (interval end)`
    } else text = String(elementText(type, fromHex(k)))
    text += parts.extra ? extraText(fromHex(parts.extra)) : ""
    out.push(value === undefined ? text : `${text} : ${mapDataText(mapType ?? "", value)}`)
  }
  return out
}

export function describeNftOp(op: NftOp): string {
  switch (op.kind) {
    case "conflict":
      return `# conflict: ${op.reason}`
    case "create":
      if (op.object === "obj")
        return `nft add ${OBJECT_KINDS[op.obj.type] ?? "object"} ${op.family} ${op.table} ${op.obj.name}${op.obj.text ? ` { ${op.obj.text} }` : ""}`
      if (op.object === "table") return `nft add table ${op.family} ${op.table}${tableFlags(op.flags)}`
      if (op.object === "set" && "text" in op.set && op.set.text)
        return `nft add ${op.set.map ? "map" : "set"} ${op.family} ${op.table} ${op.set.name} { ${op.set.text}; }`
      if (op.object === "set" && op.set.map)
        return `nft add map ${op.family} ${op.table} ${op.set.name} { type ${op.set.type} : ${op.set.map}; }`
      if (op.object === "set")
        return `nft add set ${op.family} ${op.table} ${op.set.name} { type ${op.set.type};${op.set.flags.length ? ` flags ${op.set.flags.join(",")};` : ""} }`
      return `nft add chain ${op.family} ${op.table} ${op.chain.name}${chainText(op.chain)}`
    case "update": {
      if (op.object === "table")
        return `nft add table ${op.family} ${op.table}${tableFlags(op.flags) || " { flags ; }"}`
      if (op.object === "chain")
        return `nft add chain ${op.family} ${op.table} ${op.chain.name}${chainText(op.chain)}  # policy`
      const list = (keys: string[]) => {
        const shown = elementsText(keys, op.type, op.mapType).slice(0, 5)
        const all = elementsText(keys, op.type, op.mapType).length
        return `{ ${shown.join(", ")}${all > 5 ? `, … (${all} in all)` : ""} }`
      }
      const parts: string[] = []
      if (op.add.length) parts.push(`nft add element ${op.family} ${op.table} ${op.set} ${list(op.add)}`)
      if (op.remove.length) parts.push(`nft delete element ${op.family} ${op.table} ${op.set} ${list(op.remove)}`)
      return parts.join("; ")
    }
    case "delete":
      if (op.object === "table") return `nft delete table ${op.family} ${op.table}`
      if (op.object === "set") return `nft delete set ${op.family} ${op.table} ${op.name}`
      if (op.object === "obj")
        return `nft delete ${OBJECT_KINDS[op.type] ?? "object"} ${op.family} ${op.table} ${op.name}`
      return `nft flush chain ${op.family} ${op.table} ${op.name}; nft delete chain ${op.family} ${op.table} ${op.name}`
    case "replace": {
      const lines = op.rules.map((r) => `nft add rule ${op.family} ${op.table} ${op.chain} ${ruleText(r)}`)
      return (
        [...(op.flush ? [`nft flush chain ${op.family} ${op.table} ${op.chain}`] : []), ...lines].join("; ") ||
        `nft flush chain ${op.family} ${op.table} ${op.chain}`
      )
    }
  }
}
