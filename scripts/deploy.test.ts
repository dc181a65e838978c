// The deploy files are checked, not just shipped: the systemd unit by systemd-analyze.
import { describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadFile } from "@linx/cli"
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet"
import { ConfigMap } from "kubernetes-models/v1/ConfigMap"
import { parseAllDocuments } from "yaml"

const UNIT = join(import.meta.dir, "../examples/deploy/linx.service")

describe("deploy files", () => {
  test.skipIf(!Bun.which("systemd-analyze"))("the systemd unit passes systemd-analyze verify", () => {
    const p = Bun.spawnSync(["systemd-analyze", "verify", UNIT], { stdout: "pipe", stderr: "pipe" })
    expect(p.stderr.toString()).toBe("")
    expect(p.exitCode).toBe(0)
  })

  test("the unit runs every file in /etc/linx, and tolerates an absent /run/netns", async () => {
    const text = await Bun.file(UNIT).text()
    expect(text).toContain("linx run /etc/linx ")
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

describe("the Kubernetes DaemonSet", () => {
  const FILE = join(import.meta.dir, "../examples/deploy/daemonset.yaml")
  const docs = async () => parseAllDocuments(await Bun.file(FILE).text()).map((d) => d.toJS())
  const daemonSet = async () => (await docs()).find((d) => d.kind === "DaemonSet")

  test("every document validates against the Kubernetes API schemas", async () => {
    const all = await docs()
    expect(all.map((d) => d.kind)).toEqual(["ConfigMap", "DaemonSet"])
    for (const d of all) {
      const Model = d.kind === "DaemonSet" ? DaemonSet : ConfigMap
      expect(() => new Model(d).validate()).not.toThrow()
    }
    // the check is real: a wrong type is refused
    const bad = structuredClone(all[1])
    bad.spec.template.spec.hostNetwork = "yes"
    expect(() => new DaemonSet(bad).validate()).toThrow("hostNetwork must be boolean")
  })

  test("host network, the capabilities and writable sysctls, probes through linx probe at run's --status address", async () => {
    const ds = await daemonSet()
    const pod = ds.spec.template.spec
    expect(pod.hostNetwork).toBe(true)
    const [c] = pod.containers
    expect(c.securityContext.capabilities.add).toEqual(expect.arrayContaining(["NET_ADMIN", "SYS_ADMIN"]))
    expect(c.securityContext.privileged).toBe(true) // /proc/sys is read-only otherwise
    const { version } = await Bun.file(join(import.meta.dir, "../packages/cli/package.json")).json()
    expect(c.image).toBe(`linx:${version}`)
    const status = c.args[c.args.indexOf("--status") + 1]
    expect(c.args.slice(0, 2)).toEqual(["run", "/etc/linx"])
    for (const [probe, what] of [
      [c.livenessProbe, "healthz"],
      [c.readinessProbe, "readyz"],
    ])
      expect(probe.exec.command).toEqual(["/usr/local/bin/linx", "probe", what, "--status", status])
    // the binary the probes name is the image's entry point
    const containerfile = await Bun.file(join(import.meta.dir, "../examples/deploy/Containerfile")).text()
    expect(containerfile).toContain('ENTRYPOINT ["/usr/local/bin/linx"]')
    const mount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/etc/linx")
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name)
    expect(volume.configMap.name).toBe((await docs())[0].metadata.name)
  })

  test("every file of the ConfigMap is a valid linx desired-state file", async () => {
    const [cm] = await docs()
    const dir = mkdtempSync(join(tmpdir(), "linx-cm-"))
    try {
      for (const [name, text] of Object.entries(cm.data as Record<string, string>)) {
        const f = await loadFile(join(dir, name), text)
        expect(["rtnl", "netfilter", "sysctl"]).toContain(f.source)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
