// Merging hint scopes: concatenation in arrival order (DESIGN §4), so a later event
// about the same object comes after an earlier one. No scope at all means a full look
// and absorbs everything.
import type { Scope, ScopeEntry } from "./source.ts"

/** `b` appended to `a` (which is changed and returned); either absent: a full look. */
export function appendScope(a: ScopeEntry[] | undefined, b: Scope | undefined): ScopeEntry[] | undefined {
  if (!a || !b) return undefined
  for (const e of b) a.push(e)
  return a
}

/** A short readable form of a scope for pass results and logs: "route 254 10.0.0.0/8 0 0", … */
export function summariseScope(scope: Scope, limit = 20): string[] {
  const seen = new Set<string>()
  for (const e of scope) {
    seen.add(e.key === undefined ? e.kind : `${e.kind} ${e.key}`)
    if (seen.size > limit) break
  }
  const out = [...seen].slice(0, limit)
  if (seen.size > limit) out.push(`… (${scope.length} entries)`)
  return out
}
