// The diff of a table's named sets and maps: per element by key bytes; a set whose
// type, flags, map or timeout changed (or a constant set whose content did) is recreated.
import type { NftSet } from "./model.ts"
import type { NftOp } from "./ops.ts"
import { desiredKeys, KernelSet, type SetSpec, setFlags, timeoutMs } from "./set.ts"
import { END_MARK, entryParts } from "./elements.ts"

function sameContent(keys: readonly string[], have: readonly string[]): boolean {
  const got = new Set(have)
  return keys.length === got.size && keys.every((k) => got.has(k))
}
import { NFT_SET_CONSTANT, NFT_SET_INTERVAL, NFT_SET_MAP, NFT_SET_TIMEOUT } from "./wire/constants.ts"

/** The flag bits the diff compares (constant, interval, map, timeout). */
const SET_FLAGS_COMPARED = NFT_SET_CONSTANT | NFT_SET_INTERVAL | NFT_SET_MAP | NFT_SET_TIMEOUT

/** Where an op acts. */
interface Where {
  family: string
  table: string
}

/** The ops of one transaction, by when they go: deletes, then creates, then changes. */
export interface OpLists {
  deletes: NftOp[]
  creates: NftOp[]
  changes: NftOp[]
  /** the source that diffs, and the generation of a look nothing was committed during (chain.ts learns keys from it) */
  look?: { by: object; genId: number }
}

/** A new set: create it, then add its elements. */
export function createSetOps(set: SetSpec, where: Where): NftOp[] {
  const keys = desiredKeys(set)
  const ops: NftOp[] = [{ kind: "create", object: "set", set, ...where }]
  if (keys.length) ops.push(elementsOp(set, keys, [], where))
  return ops
}

function elementsOp(set: SetSpec, add: string[], remove: string[], where: Where): NftOp {
  return {
    kind: "update",
    object: "elements",
    set: set.name,
    type: set.type,
    add,
    remove,
    ...where,
    ...(set.map ? { mapType: set.map } : {}),
  }
}

/** An entry's element key ("hex" or "hex/e"), without its data and attributes. */
function keyPart(entry: string): string {
  const p = entryParts(entry)
  return p.end ? p.key + END_MARK : p.key
}

const byKeyCache = new WeakMap<SetSpec, Map<string, string[]>>()

/** The desired entries by element key (cached per spec): what an element-scoped look compares. */
function desiredByKey(set: SetSpec): Map<string, string[]> {
  let m = byKeyCache.get(set)
  if (!m) {
    m = new Map()
    for (const k of desiredKeys(set)) {
      const p = keyPart(k)
      const list = m.get(p)
      if (list) list.push(k)
      else m.set(p, [k])
    }
    byKeyCache.set(set, m)
  }
  return m
}

/** A set the kernel cannot change in place: another type, flags, map or timeout, or a constant set's content. */
function mustRecreate(want: SetSpec, have: NftSet, partial = false): boolean {
  const flags = setFlags(want)
  // a constant set cannot change while bound: a new content means a new set (a partial look cannot tell)
  const constantChanged = !partial && (flags & NFT_SET_CONSTANT) !== 0 && !sameContent(desiredKeys(want), have.elements)
  // made from nft text: every attribute it is made with counts
  if (want instanceof KernelSet && have.attrsKey !== undefined && have.attrsKey !== want.attrsKey) return true
  return (
    have.type !== want.type ||
    (have.flags & SET_FLAGS_COMPARED) !== flags ||
    (have.map ?? undefined) !== want.map ||
    (have.timeout ?? undefined) !== timeoutMs(want.timeout) ||
    constantChanged
  )
}

/**
 * The sets of an owned table: created, recreated, changed per element, deleted.
 * Returns the names of recreated sets (the chains that look them up must be rewritten).
 */
export function diffSets(want: readonly SetSpec[], have: readonly NftSet[], where: Where, out: OpLists): Set<string> {
  const haveByName = new Map(have.map((s) => [s.name, s]))
  const recreated = new Set<string>()
  for (const set of want) {
    const hs = haveByName.get(set.name)
    if (hs?.lookedAt && !mustRecreate(set, hs, true)) {
      // only some elements were looked at (an element event's): those are compared, nothing else
      const index = desiredByKey(set)
      const wanted = [...hs.lookedAt].flatMap((k) => index.get(k) ?? [])
      const got = new Set(hs.elements)
      const wantedSet = new Set(wanted)
      const add = wanted.filter((k) => !got.has(k))
      const remove = set instanceof KernelSet && set.dynamic ? [] : hs.elements.filter((k) => !wantedSet.has(k))
      if (add.length || remove.length) out.changes.push(elementsOp(set, add, remove, where))
      continue
    }
    if (!hs || mustRecreate(set, hs)) {
      if (hs) {
        out.deletes.push({ kind: "delete", object: "set", name: set.name, ...where })
        recreated.add(set.name)
      }
      out.creates.push(...createSetOps(set, where))
      continue
    }
    const keys = desiredKeys(set)
    const got = new Set(hs.elements)
    const wanted = new Set(keys)
    const add = keys.filter((k) => !got.has(k))
    // a set the packet path adds to keeps what it added
    const remove = set instanceof KernelSet && set.dynamic ? [] : hs.elements.filter((k) => !wanted.has(k))
    if (add.length || remove.length) out.changes.push(elementsOp(set, add, remove, where))
  }
  const wantedNames = new Set(want.map((s) => s.name))
  for (const hs of have)
    if (!wantedNames.has(hs.name)) out.deletes.push({ kind: "delete", object: "set", name: hs.name, ...where })
  return recreated
}
