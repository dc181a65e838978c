// Makes the publishable tarballs: for each package, JavaScript and declarations built
// from its TypeScript (so a consumer needs neither Bun's TypeScript loader nor our
// tsconfig), a package.json whose exports point at them, sibling ranges ("workspace:*")
// turned into the siblings' versions, then `npm pack`. The `linx` command is bundled
// (its example files and version inside). Usage: bun scripts/pack.ts [OUTDIR]
// (default .artifacts/pack); prints the tarballs' paths.
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"

const ROOT = resolve(import.meta.dir, "..")
const PACKAGES = ["netlink", "reconcile", "source-rtnl", "source-netfilter", "source-sysctl", "cli"]

type Json = Record<string, unknown>
type ExportMap = Record<string, { types: string; default: string }>

function run(argv: string[], cwd = ROOT): string {
  const p = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe" })
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed:\n${p.stdout}${p.stderr}`)
  return p.stdout.toString()
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

/** src/x.ts → dist/x.js (or .d.ts) */
const built = (src: string, ext: ".js" | ".d.ts") => src.replace(/^\.\/src\//, "./dist/").replace(/\.ts$/, ext)

/** Declarations name their siblings as the sources did ("./x.ts"); a consumer resolves "./x.js". */
function fixDeclarations(dist: string): void {
  for (const f of files(dist).filter((f) => f.endsWith(".d.ts"))) {
    const text = readFileSync(f, "utf8")
    const fixed = text.replace(/((?:from|import)\s*\(?\s*["']\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1.js$2")
    if (fixed !== text) writeFileSync(f, fixed)
  }
}

function compile(pkgDir: string, stage: string, declarationsOnly: boolean): void {
  const config = join(stage, "tsconfig.build.json")
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(ROOT, "tsconfig.base.json"),
      compilerOptions: {
        noEmit: false,
        declaration: true,
        emitDeclarationOnly: declarationsOnly,
        rewriteRelativeImportExtensions: true,
        allowImportingTsExtensions: declarationsOnly,
        typeRoots: [join(ROOT, "node_modules/@types")],
        rootDir: join(pkgDir, "src"),
        outDir: join(stage, "dist"),
      },
      include: [join(pkgDir, "src/**/*.ts")],
      exclude: [join(pkgDir, "src/**/*.test.ts")],
    }),
  )
  run(["bun", "x", "tsc", "-p", config])
  rmSync(config)
  fixDeclarations(join(stage, "dist"))
}

function manifest(pkg: Json, versions: Map<string, string>): Json {
  const out: Json = { ...pkg }
  const exports: ExportMap = {}
  for (const [k, v] of Object.entries(pkg.exports as ExportMap))
    exports[k] = { types: built(v.types, ".d.ts"), default: built(v.default, ".js") }
  out.exports = exports
  out.files = ["dist", "README.md"]
  const deps = { ...(pkg.dependencies as Record<string, string> | undefined) }
  for (const [name, range] of Object.entries(deps)) {
    if (!range.startsWith("workspace:")) continue
    const v = versions.get(name)
    if (!v) throw new Error(`${pkg.name}: no workspace package ${name}`)
    deps[name] = v
  }
  if (pkg.dependencies) out.dependencies = deps
  delete out.devDependencies
  if (pkg.bin) out.bin = { linx: "./dist/main.js" }
  return out
}

export function pack(outDir: string): string[] {
  const versions = new Map<string, string>()
  const manifests = new Map<string, Json>()
  for (const name of PACKAGES) {
    const pkg = JSON.parse(readFileSync(join(ROOT, "packages", name, "package.json"), "utf8")) as Json
    manifests.set(name, pkg)
    versions.set(pkg.name as string, pkg.version as string)
  }
  mkdirSync(outDir, { recursive: true })
  const tarballs: string[] = []
  for (const name of PACKAGES) {
    const pkgDir = join(ROOT, "packages", name)
    const stage = join(outDir, "stage", name)
    rmSync(stage, { recursive: true, force: true })
    mkdirSync(stage, { recursive: true })
    const pkg = manifests.get(name)!
    if (name === "cli") {
      // one bundle per entry: the examples (imported as text) and package.json go inside
      compile(pkgDir, stage, true)
      run(
        ["bun", "build", "src/index.ts", "src/main.ts", "--target", "bun", "--packages", "external"].concat([
          "--splitting",
          "--outdir",
          join(stage, "dist"),
        ]),
        pkgDir,
      )
    } else compile(pkgDir, stage, false)
    cpSync(join(pkgDir, "README.md"), join(stage, "README.md"))
    writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest(pkg, versions), null, 2)}\n`)
    const file = run(["npm", "pack", "--silent", "--pack-destination", outDir], stage).trim().split("\n").at(-1)!
    tarballs.push(join(outDir, file))
  }
  rmSync(join(outDir, "stage"), { recursive: true, force: true })
  return tarballs
}

if (import.meta.main) {
  const out = resolve(process.argv[2] ?? join(ROOT, ".artifacts/pack"))
  for (const t of pack(out)) console.log(relative(process.cwd(), t) || t)
}
