// What a netfilter loop owns: whole tables (DESIGN §5).
import type { NftDesired, NftOwnership } from "./schema.ts"

/**
 * May this loop touch the table? Tables ownership lists; with `adopt`, also tables desired
 * state names. The diff and `linx show` both ask this.
 */
export function ownsTable(ownership: NftOwnership | undefined, desired: NftDesired | undefined, key: string): boolean {
  if ((ownership?.tables ?? []).some((t) => `${t.family} ${t.name}` === key)) return true
  return !!ownership?.adopt && (desired?.tables ?? []).some((t) => `${t.family} ${t.name}` === key)
}
