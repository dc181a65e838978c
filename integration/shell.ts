// Runs commands inside a namespace (switched on the JS thread, so the child starts
// there). Shared by the integration tests, the benchmarks and the demo.
import { rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Netns } from "@linx/netlink"

export interface TestNetns {
  readonly ns: Netns
  /** runs a command inside the namespace; throws with its stderr when it fails */
  sh(...argv: string[]): string
  /** like sh, but returns the exit code and output instead of throwing */
  try(...argv: string[]): { code: number; stdout: string; stderr: string }
  /** `ip -j ...` parsed */
  ipJson<T = unknown>(...args: string[]): T
  /** `nft -f` of the text (from a private file, removed after); throws with nft's stderr */
  nftFile(text: string): void
}

export function makeTestNetns(ns: Netns): TestNetns {
  const run = (argv: string[]) => {
    const p = ns.run(() => Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" }))
    return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() }
  }
  return {
    ns,
    sh: (...argv) => {
      const r = run(argv)
      if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code}): ${r.stderr.trim()}`)
      return r.stdout
    },
    try: (...argv) => run(argv),
    ipJson: <T>(...args: string[]) => {
      const r = run(["ip", "-j", ...args])
      if (r.code !== 0) throw new Error(`ip -j ${args.join(" ")} failed: ${r.stderr.trim()}`)
      return JSON.parse(r.stdout || "[]") as T
    },
    nftFile(text) {
      const path = join(tmpdir(), `linx-test-${process.pid}-${Math.random().toString(36).slice(2)}.nft`)
      writeFileSync(path, text, { mode: 0o600 })
      try {
        this.sh("nft", "-f", path)
      } finally {
        rmSync(path, { force: true })
      }
    },
  }
}
