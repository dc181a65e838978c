// The deploy files are checked, not just shipped: the systemd unit by systemd-analyze.
import { describe, expect, test } from "bun:test"
import { join } from "node:path"

const UNIT = join(import.meta.dir, "../examples/deploy/linx.service")

describe("deploy files", () => {
  test.skipIf(!Bun.which("systemd-analyze"))("the systemd unit passes systemd-analyze verify", () => {
    const p = Bun.spawnSync(["systemd-analyze", "verify", UNIT], { stdout: "pipe", stderr: "pipe" })
    expect(p.stderr.toString()).toBe("")
    expect(p.exitCode).toBe(0)
  })

  test("the unit runs every file in /etc/linx, and tolerates an absent /run/netns", async () => {
    const text = await Bun.file(UNIT).text()
    expect(text).toContain("/etc/linx/*.yaml")
    expect(text).toContain("-/run/netns")
  })
})

describe("linx command line", () => {
  const MAIN = join(import.meta.dir, "../packages/cli/src/main.ts")
  const linx = (...args: string[]) => Bun.spawnSync(["bun", MAIN, ...args], { stdout: "pipe", stderr: "pipe" })

  test("--version prints the package's version", async () => {
    const { version } = await Bun.file(join(import.meta.dir, "../packages/cli/package.json")).json()
    expect(linx("--version").stdout.toString().trim()).toBe(version)
  })

  test("a duration needs a unit: a bare number is refused, the default reads 30s", () => {
    const bare = linx("run", "--resync", "30000", "x.yaml")
    expect(bare.exitCode).not.toBe(0)
    expect(bare.stderr.toString()).toContain('"30000" needs a unit')
    expect(linx("run", "--help").stdout.toString()).toContain("(default: 30s)")
  })
})
