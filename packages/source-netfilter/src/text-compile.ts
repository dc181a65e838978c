// Compiling a table's text rules: once per distinct table text (a file reloaded, a PUT of
// the same state: nft's answer is the same), by capturing nft's batch where that works
// (text-capture.ts), else in the scratch namespace (text.ts).
import { compileCaptured } from "./text-capture.ts"
import {
  compileInScratch,
  getScratch,
  type Line,
  type TextIssue,
  type TextRule,
  type TextTable,
  textCompileCounts,
} from "./text.ts"

type Compiled = { rules: Map<string, TextRule>; issues: TextIssue[] }

/**
 * Compiles the text rules of a table (strings among its chains' rules) in one nft run.
 * Returns them by "chain:rule" position, or nft's complaints by position.
 */
export function compileTextRules(t: TextTable): Compiled {
  const key = JSON.stringify([
    t.family,
    t.sets,
    t.chains.map((c) => [
      c.name,
      c.type,
      c.hook,
      c.priority,
      c.device,
      c.devices,
      c.rules.map((r) => (typeof r === "string" ? r : 0)),
    ]),
  ])
  const cached = recent.get(key)
  if (cached) return cached
  const result = compileUncached(t)
  if (!result.issues.length) {
    recent.set(key, result)
    if (recent.size > RECENT) recent.delete(recent.keys().next().value!)
  }
  return result
}

/** Compiled tables kept for reuse, the most recent last: rule texts change far less often than files are read. */
const recent = new Map<string, Compiled>()
const RECENT = 16

/** Forgets compiled tables (a benchmark of the first compile). */
export function forgetCompiledText(): void {
  recent.clear()
}

function compileUncached(t: TextTable): Compiled {
  const lines: Line[] = []
  t.chains.forEach((c, ci) => {
    c.rules.forEach((r, ri) => {
      if (typeof r === "string") lines.push({ chain: ci, rule: ri, text: r, prefix: 0 })
    })
  })
  if (!lines.length) return { rules: new Map(), issues: [] }
  const s = getScratch()
  const captured = compileCaptured(s, t, lines)
  if (captured) {
    textCompileCounts.captured++
    return captured
  }
  textCompileCounts.scratch++
  return compileInScratch(s, t, lines)
}
