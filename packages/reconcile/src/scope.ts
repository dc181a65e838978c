// Merging hint scopes: a union per object kind; `true` (everything of that kind) absorbs
// any list; no scope at all means a full look and absorbs everything.
import type { Scope } from "./source.ts"

export function mergeScopes(a: Scope | undefined, b: Scope | undefined): Scope | undefined {
  if (!a || !b) return undefined
  const out: Record<string, true | string[]> = {}
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k]
    const y = b[k]
    if (x === true || y === true) out[k] = true
    else out[k] = [...new Set([...(x ?? []), ...(y ?? [])])]
  }
  return out
}
