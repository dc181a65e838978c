// Anonymous sets in nft's batch (text-capture.ts): nft names every one "__set%d" (or
// "__map%d") and binds it to its rule by an id (NFTA_*_SET_ID). Captured rules get a
// name of the same length per set instead, so that they read like the kernel's dumps,
// where each anonymous set has its own name ("__set3"), and the bytes keep their layout.
import { eachAttr } from "./raw.ts"

/** Whether the bytes hold nft's template name of an anonymous set: "%d" followed by its NUL. */
function namesTemplate(b: Uint8Array): boolean {
  for (let i = b.indexOf(0x25); i >= 0 && i + 2 < b.length; i = b.indexOf(0x25, i + 1))
    if (b[i + 1] === 0x64 && b[i + 2] === 0) return true
  return false
}

/** The expression name of an expression's attributes [s, e) (NFTA_EXPR_NAME 1), compared without decoding. */
function exprNameIs(b: Uint8Array, s: number, e: number, names: readonly string[]): string | undefined {
  let found: string | undefined
  eachAttr(
    b,
    (t, as, ae) => {
      if (t !== 1) return
      for (const n of names) {
        if (ae - as < n.length + 1 || b[as + n.length] !== 0) continue
        let k = 0
        while (k < n.length && b[as + k] === n.charCodeAt(k)) k++
        if (k === n.length) found = n
      }
    },
    s,
    e,
  )
  return found
}

/**
 * Renames each "__set%d"/"__map%d" of a rule (bound by id) to its set's own name of the
 * same length, in a copy; most rules name none and are returned as they are.
 */
export function nameAnonSets(exprs: Uint8Array, names: ReadonlyMap<number, string>): Uint8Array {
  if (!names.size || !namesTemplate(exprs)) return exprs
  const out = exprs.slice()
  eachAttr(out, (_t, s, e) => {
    const name = exprNameIs(out, s, e, REF_NAMES)
    if (!name) return
    const [nameAttr, idAttr] = SET_REFS[name]!
    eachAttr(
      out,
      (t, as, ae) => {
        if (t !== 2) return
        let at = -1
        let id = -1
        eachAttr(
          out,
          (dt, ds, de) => {
            if (dt === nameAttr && de - ds === 8 && out[ds] === 95 && out[ds + 1] === 95) at = ds
            if (dt === idAttr && de - ds === 4) id = new DataView(out.buffer, out.byteOffset + ds, 4).getUint32(0)
          },
          as,
          ae,
        )
        const renamed = id < 0 ? undefined : names.get(id)
        if (at >= 0 && renamed) out.set(Buffer.from(renamed, "latin1"), at)
      },
      s,
      e,
    )
  })
  return out
}
const SET_REFS: Readonly<Record<string, readonly [name: number, id: number]>> = {
  lookup: [1, 4],
  objref: [3, 4],
  dynset: [1, 2],
}
const REF_NAMES = Object.keys(SET_REFS)
