// Issue 11: loops bound to their workload. A "container" is a process in a new network
// namespace (`unshare -n sleep`); its loop is bound to its pid, its veth's far end lives
// in the host namespace. Checked with `ip -j` in the host namespace.
import { describe, expect, test } from "bun:test"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createReconciler } from "@linx/reconcile"
import { createRtnlSource } from "@linx/source-rtnl"
import { freshNetns, type TestNetns } from "./netns.ts"

/** A process in a fresh network namespace, started from inside `host` (its veths can point there). */
function container(host: TestNetns) {
  const proc = host.ns.run(() => Bun.spawn(["unshare", "-n", "sleep", "600"], { stdout: "ignore", stderr: "ignore" }))
  return proc
}

async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = performance.now() + ms
  while (performance.now() < end) {
    if (check()) return true
    await Bun.sleep(2)
  }
  return check()
}

function hostLinks(t: TestNetns): string[] {
  return t.ipJson<{ ifname: string }[]>("link", "show").map((l) => l.ifname)
}

describe("loops bound to their workload (issue 11)", () => {
  test("killing the workload stops its loop within milliseconds and frees its namespace; nothing recreates it", async () => {
    using host = freshNetns()
    host.sh("ip", "link", "set", "lo", "up")
    const proc = container(host)
    // the namespace of the process exists once unshare has exec'd sleep
    await until(
      () =>
        host.try("readlink", `/proc/${proc.pid}/ns/net`).stdout !== host.try("readlink", "/proc/self/ns/net").stdout,
    )
    const loop = createReconciler({
      source: createRtnlSource({ netns: { pid: proc.pid } }),
      desired: {
        links: [{ name: "eth0", kind: "veth", peer: { name: "c1-host", netns: host.ns.path }, up: true }],
        addresses: [{ link: "eth0", address: "10.88.0.2/16" }],
      },
      ownership: { links: ["eth0"], routeProtocol: 78 },
      lifetime: { pid: proc.pid },
      resyncMs: 60_000,
    })
    const stopped = new Promise<{ reason?: string }>((r) => loop.on("stopped", r))
    const first = await loop.start()
    expect(first.converged).toBe(true)
    expect(hostLinks(host)).toContain("c1-host")
    const t0 = performance.now()
    proc.kill("SIGKILL")
    const ev = await stopped
    const stopMs = performance.now() - t0
    expect(stopMs).toBeLessThan(100)
    // the pidfd, or a pass finding the namespace gone, whichever comes first
    expect(ev.reason).toContain(String(proc.pid))
    expect(loop.status()).toMatchObject({ state: "stopped", stopReason: ev.reason })
    // its sockets closed, the namespace goes, and the host end of the veth with it
    expect(await until(() => !hostLinks(host).includes("c1-host"))).toBe(true)
    await Bun.sleep(100)
    expect(hostLinks(host)).not.toContain("c1-host")
  })

  test("a workload that is not running stops the loop at start, with the reason", async () => {
    using host = freshNetns()
    const proc = container(host)
    await until(() => host.try("readlink", `/proc/${proc.pid}/ns/net`).stdout.length > 0)
    const source = createRtnlSource({ netns: { pid: proc.pid } })
    proc.kill("SIGKILL")
    await proc.exited
    const loop = createReconciler({ source, desired: {}, ownership: {}, lifetime: { pid: proc.pid } })
    await loop.start()
    await until(() => loop.status().state === "stopped", 1000)
    expect(loop.status().stopReason).toContain("exited")
  })

  test("a namespace deleted under a running loop (its path unmounted) stops the loop at its next pass", async () => {
    using host = freshNetns()
    const dir = mkdtempSync(join(tmpdir(), "linx-gone-"))
    const path = join(dir, "ns")
    await Bun.write(path, "")
    expect(Bun.spawnSync(["unshare", `--net=${path}`, "true"]).exitCode).toBe(0)
    let mounted = true
    try {
      const loop = createReconciler({
        source: createRtnlSource({ netns: path }),
        desired: { links: [{ name: "d0", kind: "bridge" }] },
        ownership: { links: ["d0"] },
        resyncMs: 60_000,
      })
      expect((await loop.start()).converged).toBe(true)
      // `ip netns del` does this: the namespace is now alive only through the loop's sockets
      expect(Bun.spawnSync(["umount", "-l", path]).exitCode).toBe(0)
      mounted = false
      loop.resync()
      expect(await until(() => loop.status().state === "stopped", 2000)).toBe(true)
      expect(loop.status().stopReason).toContain("no longer exists")
    } finally {
      if (mounted) Bun.spawnSync(["umount", "-l", path])
    }
    void host
  })
})
