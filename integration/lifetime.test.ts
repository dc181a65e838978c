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

  test("a container loop owns both ends of its veth: the far end is up on the host bridge, healed from either side; a colliding host link is a conflict, untouched", async () => {
    using host = freshNetns()
    host.sh("ip", "link", "set", "lo", "up")
    host.sh("ip", "link", "add", "br0", "type", "bridge")
    host.sh("ip", "link", "set", "br0", "up")
    // another agent's link on the host, with the name a second container wants for its far end
    host.sh("ip", "link", "add", "c2-host", "type", "bridge")
    const c1 = container(host)
    const c2 = container(host)
    const inOwnNs = (p: { pid: number }) =>
      host.try("readlink", `/proc/${p.pid}/ns/net`).stdout !== host.try("readlink", "/proc/self/ns/net").stdout
    await until(() => inOwnNs(c1) && inOwnNs(c2))
    const loopOf = (proc: { pid: number }, n: number) =>
      createReconciler({
        source: createRtnlSource({ netns: { pid: proc.pid } }),
        desired: {
          links: [
            { name: "eth0", kind: "veth", peer: { name: `c${n}-host`, netns: host.ns.path, master: "br0" }, up: true },
          ],
          addresses: [{ link: "eth0", address: `10.88.0.${n + 1}/16` }],
          routes: [{ dst: "default", via: "10.88.0.1" }],
        },
        ownership: { links: ["eth0"], routeProtocol: 78 },
        lifetime: { pid: proc.pid },
        resyncMs: 60_000,
      })
    const l1 = loopOf(c1, 1)
    const l2 = loopOf(c2, 2)
    try {
      expect((await l1.start()).converged).toBe(true)
      const far = () =>
        host.ipJson<{ ifname: string; operstate: string; flags: string[]; master?: string }[]>(
          "link",
          "show",
          "c1-host",
        )[0]!
      expect(far().flags).toContain("UP")
      expect(far().master).toBe("br0")
      // broken from the host side: healed by the container's loop (events from the host namespace)
      host.sh("ip", "link", "set", "c1-host", "nomaster")
      expect(await until(() => far().master === "br0")).toBe(true)
      host.sh("ip", "link", "set", "c1-host", "down")
      expect(await until(() => far().flags.includes("UP"))).toBe(true)
      // deleted from the host side (the pair goes): recreated whole
      host.sh("ip", "link", "del", "c1-host")
      expect(await until(() => host.try("ip", "link", "show", "c1-host").code === 0 && far().master === "br0")).toBe(
        true,
      )
      // deleted from inside the container: recreated whole, far end back on the bridge
      Bun.spawnSync(["nsenter", "-t", String(c1.pid), "-n", "ip", "link", "del", "eth0"])
      expect(await until(() => host.try("ip", "link", "show", "c1-host").code === 0 && far().master === "br0")).toBe(
        true,
      )
      // downed from inside: brought back up
      Bun.spawnSync(["nsenter", "-t", String(c1.pid), "-n", "ip", "link", "set", "eth0", "down"])
      const eth0Up = () =>
        JSON.parse(
          Bun.spawnSync(["nsenter", "-t", String(c1.pid), "-n", "ip", "-j", "link", "show", "eth0"], {
            stdout: "pipe",
          }).stdout.toString() || "[]",
        )[0]?.flags?.includes("UP")
      expect(await until(() => eth0Up() === true)).toBe(true)
      // the second container's far-end name is taken by another agent's link: never touched
      const second = await l2.start()
      expect(second.converged).toBe(false)
      expect(second.applied.filter((op) => op.startsWith("ip link add"))).toEqual([])
      expect(second.conflicts).toContainEqual(expect.stringContaining("c2-host already exists"))
      const foreign = host.ipJson<
        { ifname: string; flags: string[]; master?: string; linkinfo?: { info_kind: string } }[]
      >("-d", "link", "show", "c2-host")[0]!
      expect(foreign.flags).not.toContain("UP")
      expect(foreign.master).toBeUndefined()
      expect(foreign.linkinfo?.info_kind).toBe("bridge")
    } finally {
      await l1.stop()
      await l2.stop()
      c1.kill("SIGKILL")
      c2.kill("SIGKILL")
    }
  }, 30_000)

  test("a container loop builds its macvlan on a host link (read by name, never changed) and heals it", async () => {
    using host = freshNetns()
    host.sh("ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
    host.sh("ip", "link", "set", "uplink0", "up")
    const c = container(host)
    await until(
      () => host.try("readlink", `/proc/${c.pid}/ns/net`).stdout !== host.try("readlink", "/proc/self/ns/net").stdout,
    )
    const source = createRtnlSource({ netns: { pid: c.pid } })
    const loop = createReconciler({
      source,
      desired: {
        links: [
          { name: "mv0", kind: "macvlan", parent: "uplink0", parentNetns: host.ns.path, mode: "bridge", up: true },
        ],
        addresses: [{ link: "mv0", address: "192.168.50.2/24" }],
      },
      ownership: { links: ["mv0"], routeProtocol: 78 },
      lifetime: { pid: c.pid },
      resyncMs: 60_000,
    })
    try {
      expect((await loop.start()).converged).toBe(true)
      const inside = () =>
        Bun.spawnSync(["nsenter", "-t", String(c.pid), "-n", "ip", "-j", "-d", "link", "show", "mv0"], {
          stdout: "pipe",
        })
      const mv = JSON.parse(inside().stdout.toString() || "[]")[0]
      expect(mv?.linkinfo?.info_kind).toBe("macvlan")
      // deleted inside the container: recreated on the host link
      Bun.spawnSync(["nsenter", "-t", String(c.pid), "-n", "ip", "link", "del", "mv0"])
      const healed = await until(() => inside().exitCode === 0 && loop.status().converged)
      expect(healed).toBe(true)
      // the host link is read, never changed
      const up = host.ipJson<{ ifname: string; flags: string[]; mtu: number }[]>("link", "show", "uplink0")[0]!
      expect(up.mtu).toBe(1500)
    } finally {
      await loop.stop()
      c.kill("SIGKILL")
    }
  }, 30_000)

  test("restart without churn: a loop restarted over a namespace a holder keeps alive adopts what is there (zero ops); owner tables and restoreOnRelease die with the loop", async () => {
    using host = freshNetns()
    host.sh("ip", "link", "set", "lo", "up")
    host.sh("ip", "link", "add", "br0", "type", "bridge")
    // the holder: the container's own process pins its namespace across loop restarts
    const holder = container(host)
    await until(
      () =>
        host.try("readlink", `/proc/${holder.pid}/ns/net`).stdout !== host.try("readlink", "/proc/self/ns/net").stdout,
    )
    const netns = { pid: holder.pid }
    const rtnl = {
      links: [{ name: "eth0", kind: "veth", peer: { name: "h-host", netns: host.ns.path, master: "br0" }, up: true }],
      addresses: [{ link: "eth0", address: "10.88.0.9/16" }],
      routes: [{ dst: "default", via: "10.88.0.1" }],
    }
    const nft = (flags: string[]) => ({
      tables: [
        {
          family: "inet",
          name: "c",
          flags,
          chains: [
            {
              name: "in",
              type: "filter",
              hook: "input",
              priority: 0,
              policy: "accept",
              rules: [{ match: { tcp: { dport: 22 } }, verdict: "accept" }],
            },
          ],
        },
      ],
    })
    const { createNftSource } = await import("@linx/source-netfilter")
    const { createSysctlSource } = await import("@linx/source-sysctl")
    const loops = (restore: boolean, owner: boolean) => [
      createReconciler({
        source: createRtnlSource({ netns }),
        desired: rtnl,
        ownership: { links: ["eth0"], routeProtocol: 78 },
        resyncMs: 60_000,
      }),
      createReconciler({
        source: createNftSource({ netns }),
        desired: nft(owner ? ["owner"] : []),
        ownership: { tables: [{ family: "inet", name: "c" }] },
        resyncMs: 60_000,
      }),
      createReconciler({
        source: createSysctlSource({ netns, restoreOnRelease: restore }),
        desired: { "net.ipv4.ip_forward": 1 },
        ownership: {},
        resyncMs: 60_000,
      }),
    ]
    try {
      // first life: everything created
      const first = loops(false, false)
      const r1 = await Promise.all(first.map((l) => l.start()))
      expect(r1.every((r) => r.converged && r.applied.length > 0)).toBe(true)
      for (const l of first) await l.stop()
      // second life over the same namespace: nothing to do
      const second = loops(false, false)
      const r2 = await Promise.all(second.map((l) => l.start()))
      expect(r2.map((r) => r.ops)).toEqual([[], [], []])
      for (const l of second) await l.stop()
      // the lifetime choices: an owner table and restoreOnRelease go with the loop that made them
      const inside = (...argv: string[]) =>
        Bun.spawnSync(["nsenter", "-t", String(holder.pid), "-n", ...argv], { stdout: "pipe" }).stdout.toString()
      inside("sysctl", "-w", "net.ipv4.ip_forward=0") // the value a restoring loop finds first
      await Bun.sleep(50) // (the nft table of the second life is deleted and recreated with the owner flag)
      const third = loops(true, true)
      const r3 = await Promise.all(third.map((l) => l.start()))
      expect(r3.every((r) => r.converged)).toBe(true)
      for (const l of third) await l.stop()
      expect(inside("nft", "list", "tables")).not.toContain("inet c")
      expect(inside("sysctl", "-n", "net.ipv4.ip_forward").trim()).toBe("0")
      // and so a restart with them recreates that state (churn by choice)
      const fourth = loops(true, true)
      const r4 = await Promise.all(fourth.map((l) => l.start()))
      expect(r4[0]!.ops).toEqual([])
      expect(r4[1]!.applied.length).toBeGreaterThan(0)
      expect(r4[2]!.applied.length).toBe(1)
      for (const l of fourth) await l.stop()
    } finally {
      holder.kill("SIGKILL")
    }
  }, 30_000)

  test("examples/orchestrator.ts runs: containers converge, a far end is healed, the kills stop every loop and empty the bridge", () => {
    const p = Bun.spawnSync(["bun", join(import.meta.dir, "../examples/orchestrator.ts"), "5"], {
      stdout: "pipe",
      stderr: "pipe",
    })
    const out = p.stdout.toString()
    expect(p.exitCode).toBe(0)
    expect(out).toContain("5 containers: 5 converged")
    expect(out).toContain("on the node's bridge: 5 ports")
    expect(out).toContain("master br0")
    expect(out).toContain("all 5 loops stopped")
    expect(out).toContain("ports left on br0: 0")
  }, 30_000)

  test.skipIf(!Bun.which("strace"))(
    "the node's host loop never sends a request about a container's far end (its netlink writes, traced by strace)",
    async () => {
      using host = freshNetns()
      host.sh("ip", "link", "set", "lo", "up")
      const dir = mkdtempSync(join(tmpdir(), "linx-trace-"))
      const hostFile = join(dir, "host.yaml")
      await Bun.write(
        hostFile,
        `source: rtnl\nownership: { links: ["br0", "c*"], routeProtocol: 77 }\ndesired:\n  links:\n    - { name: br0, kind: bridge, up: true }\n  addresses:\n    - { link: br0, address: 10.88.0.1/16 }\n`,
      )
      const trace = join(dir, "trace")
      const keeper = Bun.spawn(["sleep", "600"]) // the host loop is bound to it, so it ends cleanly
      const main = join(import.meta.dir, "../packages/cli/src/main.ts")
      const linx = host.ns.run(() =>
        Bun.spawn(
          [
            "strace",
            "-f",
            "-qq",
            "-s",
            "256",
            "-e",
            "trace=sendto,sendmsg",
            "-o",
            trace,
            "bun",
            main,
            "run",
            "--resync",
            "1s",
            "--pid",
            String(keeper.pid),
            hostFile,
          ],
          { stdout: "ignore", stderr: "ignore" },
        ),
      )
      const c = container(host)
      try {
        expect(await until(() => host.try("ip", "link", "show", "br0").code === 0, 10_000)).toBe(true)
        await until(
          () =>
            host.try("readlink", `/proc/${c.pid}/ns/net`).stdout !== host.try("readlink", "/proc/self/ns/net").stdout,
        )
        const loop = createReconciler({
          source: createRtnlSource({ netns: { pid: c.pid } }),
          desired: {
            links: [
              { name: "eth0", kind: "veth", peer: { name: "c1-host", netns: host.ns.path, master: "br0" }, up: true },
            ],
          },
          ownership: { links: ["eth0"], routeProtocol: 78 },
          lifetime: { pid: c.pid },
          resyncMs: 60_000,
        })
        expect((await loop.start()).converged).toBe(true)
        // the host loop's ownership even globs "c*": a far end is still not its own (not made by it, no marker)
        for (let i = 0; i < 3; i++) {
          host.sh("ip", "link", "set", "c1-host", "nomaster")
          await until(() => host.ipJson<{ master?: string }[]>("link", "show", "c1-host")[0]?.master === "br0")
        }
        await Bun.sleep(2500) // a few resyncs of the host loop with the far end present
        await loop.stop()
      } finally {
        keeper.kill("SIGKILL")
        c.kill("SIGKILL")
      }
      await linx.exited
      const text = await Bun.file(trace).text()
      // the trace shows the host loop's own writes (it made br0) ...
      expect(text).toContain('"br0"')
      // ... and none naming the container's far end
      const offenders = text.split("\n").filter((l) => l.includes("c1-host") && /RTM_(NEW|DEL|SET)LINK/.test(l))
      expect(offenders).toEqual([])
    },
    30_000,
  )
})
