// The packages as a user gets them: packed (scripts/pack.ts), published to a real npm
// registry on loopback (Verdaccio, proxying the public registry for third-party
// packages), installed into a new project with `bun add`, the README's examples
// type-checked with `tsc --init`'s config and run in a namespace named "blue" (private:
// `unshare -m -n`), the `linx` command from the installed package. Needs the npm registry
// (to install Verdaccio once into .artifacts/ and to proxy) and root for the runs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { pack } from "../scripts/pack.ts"
import { must, run } from "./shell.ts"

const ROOT = resolve(import.meta.dir, "..")
const VERDACCIO = join(ROOT, ".artifacts/verdaccio")
const TSC = join(ROOT, "node_modules/.bin/tsc")
const IS_ROOT = process.getuid?.() === 0

/** The ```ts blocks of a markdown file, in order. */
function tsBlocks(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8")
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)
}

/** Verdaccio 6.8 on Node (node-fetch held at 2.7.0, which it needs on Node 20), installed once. */
function installVerdaccio(): string {
  const bin = join(VERDACCIO, "node_modules/verdaccio/bin/verdaccio")
  if (existsSync(bin)) return bin
  mkdirSync(VERDACCIO, { recursive: true })
  writeFileSync(
    join(VERDACCIO, "package.json"),
    JSON.stringify({ private: true, dependencies: { verdaccio: "6.8.0" }, overrides: { "node-fetch": "2.7.0" } }),
  )
  must(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], VERDACCIO)
  return bin
}

let tmp = ""
let registry = ""
let server: ReturnType<typeof Bun.spawn> | undefined
let consumer = ""
const env = () => ({ BUN_INSTALL_CACHE_DIR: join(tmp, "bun-cache"), NPM_CONFIG_REGISTRY: registry })

async function startRegistry(bin: string): Promise<void> {
  const port = 20000 + Math.floor(Math.random() * 20000)
  registry = `http://127.0.0.1:${port}/`
  writeFileSync(
    join(tmp, "config.yaml"),
    [
      `storage: ${join(tmp, "storage")}`,
      "uplinks: { npmjs: { url: https://registry.npmjs.org/ } }",
      "packages:",
      '  "@linx/*": { access: $all, publish: $all }',
      '  "**": { access: $all, proxy: npmjs }',
      "log: { type: stdout, format: pretty, level: warn }",
      "max_body_size: 50mb",
    ].join("\n"),
  )
  server = Bun.spawn(["node", bin, "-c", join(tmp, "config.yaml"), "-l", `127.0.0.1:${port}`], {
    stdout: "ignore",
    stderr: "ignore",
  })
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${registry}-/ping`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ok) return
    await Bun.sleep(100)
  }
  throw new Error(`Verdaccio did not answer on ${registry}`)
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "linx-registry-"))
  await startRegistry(installVerdaccio())
  const npmrc = join(tmp, "npmrc")
  writeFileSync(npmrc, `//${registry.slice("http://".length)}:_authToken=local-test\n`)
  for (const tarball of pack(join(tmp, "pack")))
    must(["npm", "publish", "--registry", registry, "--userconfig", npmrc, tarball], tmp)
  consumer = join(tmp, "consumer")
  mkdirSync(consumer)
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
  writeFileSync(join(consumer, "bunfig.toml"), `[install]\nregistry = "${registry}"\n`)
}, 240_000)

afterAll(async () => {
  server?.kill()
  await server?.exited
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

describe("installed from a registry", () => {
  test("published with their siblings' versions, not workspace ranges, and JS + declarations only", () => {
    const deps = JSON.parse(must(["npm", "view", "@linx/cli", "dependencies", "--json", "--registry", registry], tmp))
    for (const name of ["@linx/netlink", "@linx/reconcile", "@linx/source-rtnl", "@linx/source-netfilter"])
      expect(deps[name]).toBe("0.1.0")
    const files = must(["tar", "tzf", join(tmp, "pack", "linx-reconcile-0.1.0.tgz")], tmp).split("\n")
    expect(files).toContain("package/dist/index.js")
    expect(files).toContain("package/dist/index.d.ts")
    expect(files).toContain("package/dist/status/worker.js")
    expect(files.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toBe(false)
  })

  test("bun add @linx/reconcile @linx/source-rtnl; the README's examples type-check with tsc --init's config", () => {
    must(["bun", "add", "@linx/reconcile", "@linx/source-rtnl"], consumer, env())
    const lock = readFileSync(join(consumer, "package.json"), "utf8")
    expect(lock).toContain('"@linx/reconcile": "^0.1.0"')
    must(["bun", "add", "@linx/source-netfilter", "@linx/source-sysctl", "@linx/netlink", "valibot"], consumer, env())
    must([TSC, "--init"], consumer)
    const readme = tsBlocks("README.md")
    writeFileSync(join(consumer, "quickstart.ts"), `${readme[0]}\n${readme[1]}`)
    for (const p of ["netlink", "source-rtnl", "source-netfilter", "source-sysctl"])
      writeFileSync(join(consumer, `${p}.ts`), tsBlocks(`packages/${p}/README.md`)[0]!)
    const tsc = run([TSC, "--noEmit", "-p", "."], consumer)
    expect(tsc.out).toBe("")
    expect(tsc.code).toBe(0)
  }, 120_000)

  // each example in a private mount and network namespace, with a namespace named "blue" in it
  const inBlue = (script: string, after: string) => {
    const r = run(
      [
        "unshare",
        "-m",
        "-n",
        "--propagation",
        "private",
        "sh",
        "-c",
        // a tmpfs of its own over /run/netns: the name "blue" is never seen outside
        `mkdir -p /run/netns && mount -t tmpfs -o size=1m linx-test /run/netns && ip netns add blue && bun ${script} && echo "--- after" && ${after}`,
      ],
      consumer,
    )
    if (r.code !== 0) throw new Error(`${script} failed (${r.code}):\n${r.out}`)
    return r
  }

  test.skipIf(!IS_ROOT)(
    "the examples run in namespace blue and leave what they say",
    () => {
      const quick = inBlue("quickstart.ts", "ip -n blue -j link show br0")
      expect(quick.code).toBe(0)
      expect(quick.out).toContain("ip link add br0")
      expect(JSON.parse(quick.out.split("--- after\n")[1]!)[0].ifname).toBe("br0")

      const rtnl = inBlue("source-rtnl.ts", "ip -n blue -j route show table 100")
      expect(rtnl.code).toBe(0)
      expect(JSON.parse(rtnl.out.split("--- after\n")[1]!)[0]).toMatchObject({ dst: "default", gateway: "10.0.0.254" })

      const nft = inBlue("source-netfilter.ts", "ip netns exec blue nft -j list table inet edge")
      expect(nft.code).toBe(0)
      const rules = JSON.parse(nft.out.split("--- after\n")[1]!).nftables.filter((o: object) => "rule" in o)
      expect(rules.length).toBe(2)

      const sysctl = inBlue("source-sysctl.ts", "ip netns exec blue sysctl -n net.ipv4.ip_forward")
      expect(sysctl.code).toBe(0)
      expect(sysctl.out.split("--- after\n")[1]!.trim()).toBe("0") // restored on close, as it says

      const netlink = inBlue("netlink.ts", "true")
      expect(netlink.code).toBe(0)
      expect(netlink.out).toContain("1 links") // lo
    },
    120_000,
  )

  test.skipIf(!IS_ROOT)(
    "the linx command from the installed package: --version, and the demo",
    () => {
      must(["bun", "add", "@linx/cli"], consumer, env())
      const linx = join(consumer, "node_modules/.bin/linx")
      expect(must([linx, "--version"], "/").trim()).toBe("0.1.0")
      const demo = run(["unshare", "-n", linx, "demo"], "/")
      expect(demo.code).toBe(0)
      expect(demo.out).toContain("nothing left behind")
    },
    120_000,
  )
})
