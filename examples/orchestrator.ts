// A small orchestrator: a node (its own namespace, so this never touches the machine's)
// with a bridge kept by a host loop, and N "containers" (processes in new namespaces),
// each with one loop bound to its pid that owns its veth pair whole. Then it kills the
// containers and shows their loops stop and their namespaces go.
//
//   unshare -n bun examples/orchestrator.ts [N]   (as root; default 3; never in the machine's namespace)
import { assertNotInitialNetns, Netns } from "@linx/netlink"
import { createReconciler, type Reconciler } from "@linx/reconcile"
import { createRtnlSource } from "@linx/source-rtnl"

const n = Number(process.argv[2] ?? 3)
assertNotInitialNetns("the orchestrator example")
// the node: a private namespace standing for the machine
const node = Netns.create()
const sh = (...argv: string[]) => node.run(() => Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" }))
sh("ip", "link", "set", "lo", "up")

const host = createReconciler({
  source: createRtnlSource({ netns: node }),
  name: "node",
  desired: {
    links: [{ name: "br0", kind: "bridge", up: true }],
    addresses: [{ link: "br0", address: "10.88.0.1/16" }],
  },
  ownership: { links: ["br0"], routeProtocol: 77 },
})
console.log("node:", (await host.start()).applied.join("; "))

interface Container {
  proc: ReturnType<typeof Bun.spawn>
  loop: Reconciler<unknown, unknown>
}
const containers: Container[] = []
const t0 = performance.now()
for (let i = 1; i <= n; i++) {
  // a "container": a process in a new network namespace, started from the node
  const proc = node.run(() => Bun.spawn(["unshare", "-n", "sleep", "3600"], { stdout: "ignore", stderr: "ignore" }))
  while (
    Bun.spawnSync(["readlink", `/proc/${proc.pid}/ns/net`]).stdout.toString() ===
    Bun.spawnSync(["readlink", `/proc/${process.pid}/ns/net`]).stdout.toString()
  )
    await Bun.sleep(1)
  const loop = createReconciler({
    source: createRtnlSource({ netns: { pid: proc.pid } }),
    name: `c${i}`,
    desired: {
      links: [{ name: "eth0", kind: "veth", peer: { name: `c${i}-host`, netns: node.path, master: "br0" }, up: true }],
      addresses: [{ link: "eth0", address: `10.88.${i >> 8}.${(i & 255) + 1}/16` }],
      routes: [{ dst: "default", via: "10.88.0.1" }],
    },
    ownership: { links: ["eth0"], routeProtocol: 78 },
    lifetime: { pid: proc.pid },
  })
  containers.push({ proc, loop })
}
const firsts = await Promise.all(containers.map((c) => c.loop.start()))
console.log(
  `${n} containers: ${firsts.filter((r) => r.converged).length} converged in ${(performance.now() - t0).toFixed(0)} ms;`,
  `on the node's bridge: ${JSON.parse(sh("ip", "-j", "link", "show", "master", "br0").stdout.toString()).length} ports`,
)

// a container's far end broken from the node: healed by that container's loop
sh("ip", "link", "set", "c1-host", "nomaster")
await Bun.sleep(50)
const masterOf = (name: string) => JSON.parse(sh("ip", "-j", "link", "show", name).stdout.toString())[0]?.master
console.log(`c1-host 50 ms after \`ip link set c1-host nomaster\` on the node: master ${masterOf("c1-host")}`)

// the containers exit: their loops stop by themselves, their namespaces and veths go
const stopped = containers.map((c) => new Promise<string | undefined>((r) => c.loop.on("stopped", (e) => r(e.reason))))
const killedAt = performance.now()
for (const c of containers) c.proc.kill("SIGKILL")
const reasons = await Promise.all(stopped)
console.log(`all ${n} loops stopped ${(performance.now() - killedAt).toFixed(1)} ms after the kills (${reasons[0]})`)
for (let i = 0; i < 200 && JSON.parse(sh("ip", "-j", "link", "show", "master", "br0").stdout.toString()).length; i++)
  await Bun.sleep(10)
console.log(
  `ports left on br0: ${JSON.parse(sh("ip", "-j", "link", "show", "master", "br0").stdout.toString()).length}`,
)
await host.stop()
node.close()
