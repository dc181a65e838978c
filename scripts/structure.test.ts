// The shape of the code, checked (issue 10): no import cycle anywhere in the packages'
// sources, and no source file over 350 lines except those listed below with a reason.
// Imports are read as text (static `import … from "./x.ts"` and `export … from`).
import { describe, expect, test } from "bun:test"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"

const ROOT = resolve(import.meta.dir, "..")
const MAX_LINES = 350
/** Files allowed over MAX_LINES for now, and why. Shrink this list; never grow it silently. */
const OVERSIZED: Record<string, string> = {}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "fixtures") continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) sources(p, out)
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts")) out.push(p)
  }
  return out
}

const files = readdirSync(join(ROOT, "packages")).flatMap((pkg) => sources(join(ROOT, "packages", pkg, "src")))

/** Relative imports of a file, resolved to absolute paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8")
  const out: string[] = []
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gm))
    out.push(resolve(dirname(file), m[1]!))
  return out
}

function findCycle(): string[] | undefined {
  const graph = new Map(files.map((f) => [f, importsOf(f)]))
  const state = new Map<string, "open" | "done">()
  const stack: string[] = []
  const visit = (f: string): string[] | undefined => {
    if (state.get(f) === "done") return undefined
    if (state.get(f) === "open") return [...stack.slice(stack.indexOf(f)), f]
    state.set(f, "open")
    stack.push(f)
    for (const g of graph.get(f) ?? []) {
      const c = visit(g)
      if (c) return c
    }
    stack.pop()
    state.set(f, "done")
    return undefined
  }
  for (const f of files) {
    const c = visit(f)
    if (c) return c.map((x) => relative(ROOT, x))
  }
  return undefined
}

describe("code structure", () => {
  test("finds the sources it checks", () => {
    expect(files.length).toBeGreaterThan(60)
  })

  test("no import cycle in any package", () => {
    expect(findCycle()).toBeUndefined()
  })

  test(`no source file over ${MAX_LINES} lines (except the listed ones)`, () => {
    const over = files
      .map((f) => ({ f: relative(ROOT, f), n: readFileSync(f, "utf8").split("\n").length }))
      .filter((x) => x.n > MAX_LINES && !(x.f in OVERSIZED))
      .map((x) => `${x.f}: ${x.n} lines`)
    expect(over).toEqual([])
  })

  test("wire/ layers decode and encode bytes and never import the model (types of the wire form excepted)", () => {
    const offenders: string[] = []
    for (const f of files) {
      const rel = relative(ROOT, f)
      if (!/\/src\/wire\//.test(rel)) continue
      const text = readFileSync(f, "utf8")
      for (const m of text.matchAll(/^import\s+(type\s+)?[^"]*?from\s+"(\.{1,2}\/[^"]+)"/gm)) {
        const target = relative(ROOT, resolve(dirname(f), m[2]!))
        const inWire = target.includes("/src/wire/")
        // netfilter's wire form of an expression is the typed Expr (a type), built by libnftnl (ffi/)
        const allowed =
          inWire ||
          target.includes("/src/ffi/") ||
          target === "packages/netlink/src/errors.ts" ||
          (m[1] !== undefined && target.endsWith("/expr.ts"))
        if (!allowed) offenders.push(`${rel} imports ${target}`)
      }
    }
    expect(offenders).toEqual([])
  })
})
