// What `linx show` prints for netfilter: every table observed, each marked owned exactly
// when the diff may touch it (ownsTable), with its chains and rules.
import type { NftObserved } from "./model.ts"
import { commonText } from "./ops.ts"
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
): { sections: ShowSection[]; json: unknown } {
  const rows: ShowSection["rows"] = []
  const owned = (t: { family: string; name: string }) => ownsTable(ownership, desired, `${t.family} ${t.name}`)
  for (const t of obs.tables) {
    const own = owned(t)
    rows.push({ owned: own, cells: [`${t.family} ${t.name}`, "", "", ""] })
    for (const c of t.chains ?? []) {
      rows.push({
        owned: own,
        cells: ["", c.name, c.hook ? `${c.type} ${c.hook} ${c.priority} ${c.policy}` : "", `${c.rules.length} rules`],
      })
      for (const r of c.rules) {
        const text = r.common
          ? commonText(r.common) + (r.comment ? ` comment "${r.comment}"` : "")
          : `raw: ${r.exprs.map((e) => e.type).join(" ")}`
        rows.push({ owned: own, cells: ["", "", `#${r.handle}`, text] })
      }
    }
  }
  return {
    sections: [{ title: `nftables (generation ${obs.genId})`, columns: ["table", "chain", "", "rules"], rows }],
    json: { genId: obs.genId, tables: obs.tables.map((t) => ({ ...t, owned: owned(t) })) },
  }
}
