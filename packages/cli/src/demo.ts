// `linx demo`: a private namespace, a loop per example file, things broken the way
// people break them, and how fast each was healed. Leaves nothing behind.
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Netns } from "@linx/netlink"
import { createReconciler, type Reconciler } from "@linx/reconcile"
import type { ExitCode, Output } from "./output.ts"
import { EMBEDDED_EXAMPLES } from "./examples.ts"
import { loadFile } from "./file.ts"

interface Break {
  loop: string
  argv: string[]
}

const BREAKS: Break[] = [
  { loop: "firewall", argv: ["nft", "flush", "chain", "inet", "edge", "input"] },
  { loop: "firewall", argv: ["nft", "insert", "rule", "inet", "edge", "input", "tcp", "dport", "23", "accept"] },
  { loop: "firewall", argv: ["nft", "delete", "element", "inet", "edge", "blocked", "{ 192.0.2.7 }"] },
  { loop: "firewall", argv: ["nft", "flush", "ruleset"] },
  { loop: "sysctl", argv: ["sysctl", "-w", "net.ipv4.ip_forward=0"] },
  { loop: "sysctl", argv: ["sysctl", "-w", "net.ipv4.conf.br-lan.rp_filter=0"] },
  { loop: "sysctl", argv: ["sysctl", "-w", "net.ipv4.ip_local_port_range=1024 65000"] },
  { loop: "host", argv: ["ip", "route", "del", "10.20.0.0/16"] },
  { loop: "host", argv: ["ip", "route", "flush", "proto", "77"] },
  { loop: "host", argv: ["ip", "addr", "del", "10.10.0.1/24", "dev", "br-lan"] },
  { loop: "host", argv: ["ip", "link", "set", "lan-a", "nomaster"] },
  { loop: "host", argv: ["ip", "link", "set", "br-lan", "mtu", "1400"] },
  { loop: "host", argv: ["ip", "link", "set", "br-lan", "down"] },
  { loop: "host", argv: ["ip", "link", "del", "lan-a"] },
  { loop: "router", argv: ["ip", "rule", "del", "priority", "110"] },
  { loop: "router", argv: ["ip", "neigh", "del", "203.0.113.1", "dev", "wan1"] },
  { loop: "router", argv: ["bridge", "fdb", "del", "02:00:0a:c8:00:04", "dev", "vx0", "dst", "198.51.100.12"] },
  { loop: "router", argv: ["ip", "link", "del", "vx0"] },
]

/** The examples directory of a checkout, when there is one (edits to the files show); else the copies inside linx. */
function examplesDir(): string | undefined {
  for (const d of [join(import.meta.dir, "../../../examples"), join(process.cwd(), "examples")])
    if (existsSync(join(d, "host.yaml"))) return d
  return undefined
}

function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(1)} ms`
}

type Loops = Map<string, Reconciler<unknown, unknown>>
type Row = [string, string, string]

/** Starts the example loops in the namespace; false when one did not converge. */
async function startLoops(dir: string | undefined, ns: Netns, loops: Loops, io: Output): Promise<boolean> {
  let ok = true
  // sysctl first: its br-lan key is pending until the host loop creates br-lan
  for (const name of ["sysctl", "host", "firewall", "router"]) {
    const file = dir
      ? await loadFile(join(dir, `${name}.yaml`))
      : await loadFile(`examples/${name}.yaml`, EMBEDDED_EXAMPLES[name])
    // ip_local_port_range has no kernel event: a short resync shows the other healing layer
    const resyncMs = name === "sysctl" ? 1_000 : 30_000
    const loop = createReconciler({
      source: file.entry.create(ns),
      desired: file.desired,
      ownership: file.ownership,
      resyncMs,
      name,
    })
    loops.set(name, loop)
    const t0 = performance.now()
    const first = await loop.start()
    const took = fmt(performance.now() - t0)
    io.out(
      `${name} (${file.source}, examples/${name}.yaml): ${first.applied.length} ops applied in ${took}${first.converged ? "" : " — NOT converged"}`,
    )
    for (const a of first.applied) io.out(`  ${a}`)
    for (const f of first.failed) io.out(`  FAILED ${f.op}: ${f.error}`)
    if (!first.converged) ok = false
  }
  return ok
}

/** Runs one break and waits for the heal: healed when a pass fixed something and a fresh look finds nothing left. */
async function breakAndTime(
  b: Break,
  loop: Reconciler<unknown, unknown>,
  sh: Shell,
): Promise<{ row: Row; ok: boolean }> {
  const healed: string[] = []
  let lastHeal = 0
  const off = loop.on("drift", (e) => {
    healed.push(...e.ops)
    lastHeal = performance.now()
  })
  const p = sh(b.argv)
  const t0 = performance.now()
  if (p.exitCode !== 0) {
    off()
    return { row: [b.argv.join(" "), "—", `the command failed: ${p.stderr?.toString().trim()}`], ok: false }
  }
  let ok = false
  let left: string[] = []
  while (performance.now() - t0 < 5000) {
    await Bun.sleep(1)
    if (!healed.length || loop.status().busy) continue
    left = (await loop.plan()).described
    if (left.length === 0) {
      ok = true
      break
    }
  }
  off()
  // like a person, wait for the dust to settle (the passes our own writes cause) before the next break
  for (let quiet = 0; quiet < 30; ) {
    await Bun.sleep(1)
    quiet = loop.status().busy ? 0 : quiet + 1
  }
  const did = healed.join("; ")
  const what = (did.length > 110 ? `${did.slice(0, 107)}...` : did) + (ok ? "" : ` — still pending: ${left.join("; ")}`)
  return { row: [b.argv.join(" "), ok ? fmt(lastHeal - t0) : "not healed in 5 s", what], ok }
}

function printRows(rows: Row[], io: Output): void {
  const w = [Math.max(5, ...rows.map((r) => r[0].length)), Math.max(9, ...rows.map((r) => r[1].length))]
  io.out(`${"break".padEnd(w[0]!)}  ${"healed in".padEnd(w[1]!)}  what the loop did`)
  io.out(`${"-".repeat(w[0]!)}  ${"-".repeat(w[1]!)}  ${"-".repeat(17)}`)
  for (const r of rows) io.out(`${r[0].padEnd(w[0]!)}  ${r[1].padEnd(w[1]!)}  ${r[2]}`)
  io.out("")
}

function printSummary(loops: Loops, io: Output): void {
  for (const [name, loop] of loops) {
    const c = loop.status().counters
    io.out(
      `${name}: ${c.passes} passes (${c.noopPasses} no-op, ${c.passesByTrigger.timer} by the resync timer), ${c.driftHealed} drifted objects healed, ${c.opsFailed} failed ops`,
    )
  }
}

type Shell = (argv: string[]) => ReturnType<typeof Bun.spawnSync>

export async function demoCommand(io: Output): Promise<ExitCode> {
  if (process.getuid?.() !== 0) {
    io.err("linx demo: needs root (CAP_SYS_ADMIN to create a network namespace, CAP_NET_ADMIN in it): run it as root")
    return 1
  }
  const dir = examplesDir()
  const ns = Netns.create()
  const sh: Shell = (argv) => ns.run(() => Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" }))
  sh(["ip", "link", "set", "lo", "up"])
  io.out(`linx demo: a private network namespace (${ns.path}); the machine's own network is never touched\n`)
  const loops: Loops = new Map()
  let failed = false
  try {
    if (!(await startLoops(dir, ns, loops, io))) failed = true
    // the pending br-lan key is applied once the host loop has made br-lan
    const sysctlLoop = loops.get("sysctl")!
    for (let i = 0; i < 3000 && (await sysctlLoop.plan()).described.length; i += 10) await Bun.sleep(10)
    const rp = sh(["sysctl", "-n", "net.ipv4.conf.br-lan.rp_filter"]).stdout?.toString().trim()
    io.out(`sysctl: net.ipv4.conf.br-lan.rp_filter was pending until br-lan existed; now ${rp}`)
    io.out("\nbreaking things the way people do, and timing the heal (events, except where a key has none)\n")
    const rows: Row[] = []
    for (const b of BREAKS) {
      const { row, ok } = await breakAndTime(b, loops.get(b.loop)!, sh)
      rows.push(row)
      if (!ok) failed = true
    }
    printRows(rows, io)
    printSummary(loops, io)
  } finally {
    await Promise.all([...loops.values()].map((l) => l.stop()))
    ns.close()
    io.out("stopped the loops and released the namespace: nothing left behind")
  }
  return failed ? 1 : 0
}
