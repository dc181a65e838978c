// Named sets and maps: their desired shape, their flags as the kernel keeps them, and
// their diff (per element, by key bytes; a set whose type or flags changed is recreated).
import * as v from "valibot"
import { fromHex, toHex } from "@linx/netlink/wire"
import type { ElementBytes } from "./wire/element-writer.ts"
import { setAttrsKey } from "./wire/raw.ts"
import {
  EXTRA_MARK,
  elementBytes,
  elementRange,
  entryParts,
  intervalKeys,
  isKeyType,
  type KeyType,
  keyParts,
  MAP_TYPES,
  mapData,
  NUMERIC,
  SET_TYPES,
  type SetType,
} from "./elements.ts"
import {
  ELEM_INTERVAL_END,
  NFT_SET_CONSTANT,
  NFT_SET_INTERVAL,
  NFT_SET_MAP,
  NFT_SET_TIMEOUT,
  VERDICT_CODES,
} from "./wire/constants.ts"

/** The set's flags as the kernel keeps them (constant, interval, map, timeout). */
export function setFlags(s: { flags: readonly string[]; map?: string | undefined }): number {
  return (
    (s.flags.includes("constant") ? NFT_SET_CONSTANT : 0) |
    (s.flags.includes("interval") ? NFT_SET_INTERVAL : 0) |
    (s.map ? NFT_SET_MAP : 0) |
    (s.flags.includes("timeout") ? NFT_SET_TIMEOUT : 0)
  )
}

export function timeoutMs(t: string | undefined): number | undefined {
  if (t === undefined) return undefined
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(t)!
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s"]
}

/** An element with its own timeout or comment: { key: "10.0.0.1", timeout: "30m", comment: "why" }. */
const ElementWithAttrs = v.strictObject({
  key: v.union([v.string(), v.number()]),
  timeout: v.optional(v.pipe(v.string(), v.regex(/^\d+(ms|s|m|h|d)$/, 'a timeout is like "30s", "5m", "1h"'))),
  comment: v.optional(v.pipe(v.string(), v.maxLength(128), v.regex(/^[^\0]*$/, "a comment has no NUL"))),
})
type ElementAttrs = v.InferOutput<typeof ElementWithAttrs>

/** An element's own attributes as the kernel dumps them (TIMEOUT 4 u64 ms, USERDATA 6 { comment TLV }), as a key suffix. */
export function elementAttrs(e: ElementAttrs, setTimeout: number | undefined): string {
  const parts: number[] = []
  const attr = (type: number, payload: number[]) => {
    const len = 4 + payload.length
    parts.push(len & 255, len >> 8, type, 0, ...payload)
    while (parts.length % 4) parts.push(0)
  }
  const ms = timeoutMs(e.timeout)
  // the set's own default is not the element's: the kernel does not report it per element
  if (ms !== undefined && ms !== setTimeout) {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setBigUint64(0, BigInt(ms))
    attr(4, [...b])
  }
  if (e.comment !== undefined) {
    const text = [...Buffer.from(`${e.comment}\0`)]
    // NFTNL_UDATA_SET_ELEM_COMMENT (0), its length, the text with its NUL
    attr(6, [0, text.length, ...text])
  }
  return parts.length ? `${EXTRA_MARK}${toHex(parts)}` : ""
}

export const SetSpecSchema = v.pipe(
  v.strictObject({
    name: v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(255),
      v.regex(/^[A-Za-z0-9_.-]+$/, "a name uses letters, digits, _ . -"),
    ),
    type: v.pipe(
      v.string(),
      v.check(
        isKeyType,
        `type must be one of ${Object.keys(SET_TYPES).join(", ")}, or a concatenation of them ("ipv4_addr . inet_service")`,
      ),
      v.transform((t) => keyParts(t).join(" . ") as KeyType),
    ),
    /**
     * "interval": elements may be prefixes ("10.0.0.0/8") and ranges ("1000-2000");
     * "timeout": elements expire after `timeout` (the loop re-adds desired ones that expired);
     * "constant": elements never change while a rule uses the set (a change rewrites set and rules)
     */
    flags: v.optional(v.array(v.picklist(["interval", "timeout", "constant"])), []),
    /** default element timeout of a "timeout" set: "30s", "5m", "1h", "1d" */
    timeout: v.optional(v.pipe(v.string(), v.regex(/^\d+(ms|s|m|h|d)$/, 'a timeout is like "30s", "5m", "1h"'))),
    /** a map: the type of its values ("ipv4_addr", "inet_service", ... or "verdict"); elements are then { key: value } */
    map: v.optional(v.picklist(MAP_TYPES, `map must be one of ${MAP_TYPES.join(", ")}`)),
    elements: v.optional(
      v.union(
        [
          v.array(v.union([v.string(), v.number(), ElementWithAttrs])),
          v.record(v.string(), v.union([v.string(), v.number()])),
        ],
        "elements are a list (a set) or { key: value } (a map)",
      ),
      [],
    ),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    if (dataset.value.timeout !== undefined && !dataset.value.flags.includes("timeout"))
      addIssue({ message: "a timeout needs flags: [timeout]" })
    const seen = new Set<string>()
    const interval = dataset.value.flags.includes("interval")
    const els = dataset.value.elements
    if (dataset.value.map) {
      if (Array.isArray(els)) return addIssue({ message: "a map's elements are { key: value }" })
      if (interval) return addIssue({ message: "interval maps are not supported yet" })
      for (const [k, val] of Object.entries(els)) {
        const key = elementBytes(
          dataset.value.type,
          dataset.value.type === "inet_service" || dataset.value.type === "mark" ? Number(k) : k,
        )
        if (typeof key === "string") addIssue({ message: `elements.${k}: ${key}` })
        const d = mapData(dataset.value.map, val)
        if (typeof d === "object") addIssue({ message: `elements.${k}: ${d.error}` })
      }
      return
    }
    if (!Array.isArray(els))
      return addIssue({ message: "a set's elements are a list (give map: <type> for { key: value })" })
    if (interval && keyParts(dataset.value.type).length > 1)
      return addIssue({ message: "interval sets with concatenated keys are not supported yet" })
    for (const [i, item] of els.entries()) {
      const e = typeof item === "object" ? item.key : item
      if (typeof item === "object" && interval) {
        addIssue({ message: `elements.${i}: timeout and comment on interval elements are not supported yet` })
        continue
      }
      if (typeof item === "object" && item.timeout !== undefined && !dataset.value.flags.includes("timeout")) {
        addIssue({ message: `elements.${i}: an element's timeout needs flags: [timeout]` })
        continue
      }
      if (interval) {
        const r = elementRange(dataset.value.type as SetType, e)
        if (typeof r === "string") addIssue({ message: `elements.${i}: ${r}` })
        continue
      }
      const b = elementBytes(dataset.value.type, e)
      if (typeof b === "string") {
        addIssue({ message: `elements.${i}: ${b}` })
        continue
      }
      const k = toHex(b)
      if (seen.has(k)) addIssue({ message: `elements.${i}: ${JSON.stringify(e)} is listed twice` })
      seen.add(k)
    }
  }),
)
export type SetSpec = v.InferOutput<typeof SetSpecSchema>

/**
 * A named set or map as nft made it from a table written as nft text: its NEWSET
 * attributes (written back as they are: any key type, typeof, size, policy, flags) and
 * its elements as the kernel keeps them. Shown and serialised as a set spec.
 */
export class KernelSet {
  readonly elements: string[] = []
  /** its declaration as nft lists it, without elements ("typeof ip saddr; size 65535; flags dynamic,timeout"), for plans */
  text?: string | undefined
  constructor(
    readonly name: string,
    readonly type: KeyType,
    readonly flags: ("interval" | "timeout" | "constant")[],
    readonly map: SetSpec["map"],
    readonly timeout: string | undefined,
    /** element keys, hex, as observe reads them */
    readonly keys: readonly string[],
    /** NEWSET attributes as dumped (wire/raw.ts keeps what a NEWSET takes) */
    readonly attrs: Uint8Array,
    /** updated from the packet path (`add @s { ip saddr }`, flags dynamic): elements beyond `keys` are left alone */
    readonly dynamic: boolean,
  ) {
    this.attrsKey = setAttrsKey(attrs)
  }
  /** what it is made with, as observe keys a set (a changed size, typeof or policy makes it anew) */
  readonly attrsKey: string
  toJSON(): object {
    return { name: this.name, type: this.type, flags: this.flags, map: this.map, elements: this.keys.length }
  }
}

/** The flag names a set spec uses for the kernel's bits. */
export function flagNames(bits: number): ("interval" | "timeout" | "constant")[] {
  const out: ("interval" | "timeout" | "constant")[] = []
  if (bits & NFT_SET_CONSTANT) out.push("constant")
  if (bits & NFT_SET_INTERVAL) out.push("interval")
  if (bits & NFT_SET_TIMEOUT) out.push("timeout")
  return out
}

const keysCache = new WeakMap<SetSpec, string[]>()

/** The desired elements as kernel element keys, hex (cached per spec). */
export function desiredKeys(s: SetSpec): string[] {
  if (s instanceof KernelSet) return s.keys as string[]
  let k = keysCache.get(s)
  if (!k) {
    const els = s.elements
    const num = NUMERIC.has(s.type) && s.type !== "inet_proto"
    if (s.map && !Array.isArray(els))
      k = Object.entries(els).map(
        ([key, val]) =>
          `${toHex(elementBytes(s.type, num ? Number(key) : key) as number[])}=${mapData(s.map!, val) as string}`,
      )
    else if (!Array.isArray(els)) k = []
    else
      k = s.flags.includes("interval")
        ? intervalKeys(s.type as SetType, els as (string | number)[]) // (elements with attributes are refused there)
        : els.map((e) =>
            typeof e === "object"
              ? toHex(elementBytes(s.type, e.key) as number[]) + elementAttrs(e, timeoutMs(s.timeout))
              : toHex(elementBytes(s.type, e) as number[]),
          )
    keysCache.set(s, k)
  }
  return k
}

/** An entry with its own attributes, as bytes for the raw writer (wire/element-writer.ts). */
export function entryBytes(entry: string): ElementBytes {
  const { key, end, data, extra } = entryParts(entry)
  const e: ElementBytes = { key: fromHex(key), flags: end ? ELEM_INTERVAL_END : 0 }
  if (data?.startsWith("v:")) {
    const [, verdict, chain] = data.split(":")
    e.verdict = { code: VERDICT_CODES[verdict as keyof typeof VERDICT_CODES] ?? 0 }
    if (chain) e.verdict.chain = chain
  } else if (data !== undefined) e.data = fromHex(data)
  if (extra) e.extra = fromHex(extra)
  return e
}
