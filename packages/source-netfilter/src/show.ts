// What `linx show` prints for netfilter: every table observed, each marked owned exactly
// when the diff may touch it (ownsTable), with its chains and rules.
import type { NftObserved } from "./model.ts"
import { commonText, elementsText, sortedKeys } from "./ops.ts"
import { NFT_SET_CONSTANT, NFT_SET_INTERVAL, NFT_SET_TIMEOUT, OBJECT_KINDS } from "./wire/constants.ts"

function setFlagNames(flags: number): string[] {
  const out: string[] = []
  if (flags & NFT_SET_CONSTANT) out.push("constant")
  if (flags & NFT_SET_INTERVAL) out.push("interval")
  if (flags & NFT_SET_TIMEOUT) out.push("timeout")
  return out
}

const shortList = (xs: string[]) =>
  `{ ${xs.slice(0, 8).join(", ")}${xs.length > 8 ? `, … (${xs.length} in all)` : ""} }`
import { ownsTable } from "./ownership.ts"
import type { NftDesired, NftOwnership } from "./schema.ts"

export interface ShowSection {
  title: string
  columns: string[]
  rows: { cells: string[]; owned: boolean }[]
}

export function showNft(
  obs: NftObserved,
  desired: NftDesired | undefined,
  ownership: NftOwnership | undefined,
  /** rule texts as nft lists them ("family table handle" → text; nftRuleTexts), for rules not in the common form */
  texts?: ReadonlyMap<string, string>,
): { sections: ShowSection[]; json: unknown } {
  const rows: ShowSection["rows"] = []
  const owned = (t: { family: string; name: string }) => ownsTable(ownership, desired, `${t.family} ${t.name}`)
  for (const t of obs.tables) {
    const own = owned(t)
    rows.push({ owned: own, cells: [`${t.family} ${t.name}`, "", "", ""] })
    for (const set of t.sets ?? []) {
      const elements = elementsText(sortedKeys(set.elements), set.type, set.map)
      const kind = set.map ? `map ${set.type} : ${set.map}` : `set ${set.type}`
      const flags = setFlagNames(set.flags)
      rows.push({
        owned: own,
        cells: ["", `@${set.name}`, `${kind}${flags.length ? ` (${flags.join(", ")})` : ""}`, shortList(elements)],
      })
    }
    for (const o of t.objects ?? [])
      rows.push({ owned: own, cells: ["", o.name, OBJECT_KINDS[o.type] ?? `object type ${o.type}`, ""] })
    for (const c of t.chains ?? []) {
      rows.push({
        owned: own,
        cells: ["", c.name, c.hook ? `${c.type} ${c.hook} ${c.priority} ${c.policy}` : "", `${c.rules.length} rules`],
      })
      for (const r of c.rules) {
        const text = r.common
          ? commonText(r.common) + (r.comment ? ` comment "${r.comment}"` : "")
          : (texts?.get(`${t.family} ${t.name} ${r.handle}`) ?? `raw: ${r.exprs.map((e) => e.type).join(" ")}`)
        rows.push({ owned: own, cells: ["", "", `#${r.handle}`, text] })
      }
    }
  }
  return {
    sections: [{ title: `nftables (generation ${obs.genId})`, columns: ["table", "chain", "", "rules"], rows }],
    json: {
      genId: obs.genId,
      tables: obs.tables.map((t) => ({
        ...t,
        // elements as a person writes them (ranges "a-b", maps "k : v"), not key bytes
        ...(t.objects
          ? { objects: t.objects.map((o) => ({ name: o.name, kind: OBJECT_KINDS[o.type] ?? o.type })) }
          : {}),
        ...(t.sets
          ? { sets: t.sets.map((s) => ({ ...s, elements: elementsText(sortedKeys(s.elements), s.type, s.map) })) }
          : {}),
        owned: owned(t),
      })),
    },
  }
}
