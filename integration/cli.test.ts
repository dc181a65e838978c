// The `linx` command run as a user would: spawned, in fresh namespaces.
import { describe, expect, test } from "bun:test"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { freshNetns, type TestNetns } from "./netns.ts"

const MAIN = join(import.meta.dir, "../packages/cli/src/main.ts")

/** `--timings`' line: these stages in order, each in ms or (a slow machine) seconds, then the total. */
const timings = (command: string, stages: string[]) =>
  new RegExp(`^linx ${command}: ${[...stages, "total"].map((s) => `${s} (\\d+ ms|\\d+\\.\\d\\d s)`).join(", ")}\\n$`)

function linx(t: TestNetns, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const p = t.ns.run(() => Bun.spawnSync(["bun", MAIN, ...args], { stdout: "pipe", stderr: "pipe" }))
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() }
}

function file(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "linx-cli-"))
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const HOST = `source: rtnl
ownership: { links: ["br-lan", "lan-*"], routeProtocol: 77 }
desired:
  links:
    - { name: br-lan, kind: bridge, up: true }
    - { name: lan-a, kind: veth, peer: { name: lan-b }, master: br-lan, up: true }
  addresses:
    - { link: br-lan, address: 10.10.0.1/24 }
  routes:
    - { dst: 10.20.0.0/16, via: 10.10.0.254 }
`

describe("linx", () => {
  test("plan exits 2 with pending ops, apply applies them, plan then exits 0", () => {
    using t = freshNetns()
    const f = file("host.yaml", HOST)
    const plan = linx(t, "plan", f)
    expect(plan.code).toBe(2)
    expect(plan.stdout).toContain("ip link add br-lan group 77 type bridge; ip link set dev br-lan up")
    expect(plan.stdout).toContain("ip route add 10.20.0.0/16 via 10.10.0.254 proto 77")
    const apply = linx(t, "apply", f)
    expect(apply.code).toBe(0)
    expect(apply.stdout).toContain("ok      ip addr add 10.10.0.1/24 dev br-lan proto 77")
    expect(apply.stdout).toContain("4 applied, 0 failed, 0 conflict(s)")
    const again = linx(t, "plan", f)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain("nothing to do")
    expect(JSON.parse(linx(t, "plan", f, "--json").stdout)).toEqual({
      file: f,
      source: "rtnl",
      ops: [],
      details: [],
      waiting: [],
      pending: false,
    })
  })

  test("show --json matches ip -j and marks owned objects", () => {
    using t = freshNetns()
    const f = file("host.yaml", HOST)
    expect(linx(t, "apply", f).code).toBe(0)
    t.sh("ip", "route", "add", "10.99.0.0/16", "via", "10.10.0.254", "proto", "static")
    const shown = JSON.parse(linx(t, "show", "rtnl", "--json", "--file", f).stdout)
    const ip = t.ipJson<{ ifindex: number; ifname: string; mtu: number }[]>("link", "show")
    expect(
      shown.links.map((l: { index: number; name: string; mtu: number }) => [l.index, l.name, l.mtu]).sort(),
    ).toEqual(ip.map((l) => [l.ifindex, l.ifname, l.mtu]).sort())
    const routes = new Map(shown.routes.map((r: { dst: string; owned: boolean }) => [r.dst, r.owned]))
    expect(routes.get("10.20.0.0/16")).toBe(true)
    expect(routes.get("10.99.0.0/16")).toBe(false)
    expect(shown.links.find((l: { name: string }) => l.name === "lan-a").owned).toBe(true)
    expect(shown.links.find((l: { name: string }) => l.name === "lo").owned).toBe(false)
    const text = linx(t, "show", "rtnl", "--file", f).stdout
    expect(text).toMatch(/\* +\d+ +br-lan +bridge +up/)
  })

  test("show --file marks owned exactly what plan may touch: globs, lo, route tables and protocols, foreign tables", () => {
    using t = freshNetns()
    // owned: lan-* (glob) and br-lan (desired); routes of proto 77 in table 100 only
    const f = file(
      "own.yaml",
      `source: rtnl
ownership: { links: ["lan-*"], routeProtocol: 77, tables: [100] }
desired:
  links:
    - { name: br-lan, kind: bridge, up: true }
  routes:
    - { dst: 10.30.0.0/16, dev: br-lan, table: 100 }
`,
    )
    expect(linx(t, "apply", f).code).toBe(0)
    t.sh("ip", "link", "add", "lan-old", "type", "bridge") // owned by the glob: plan deletes it
    t.sh("ip", "link", "add", "other0", "type", "bridge") // foreign
    t.sh("ip", "link", "set", "other0", "up")
    t.sh("ip", "route", "add", "10.40.0.0/16", "dev", "other0", "proto", "77") // proto 77, but table main is not owned
    t.sh("ip", "route", "add", "10.50.0.0/16", "dev", "other0", "table", "100", "proto", "77") // owned: plan deletes it
    t.sh("ip", "addr", "add", "10.60.0.1/24", "dev", "other0") // proto kernel_lo/unspec: foreign
    const shown = JSON.parse(linx(t, "show", "rtnl", "--json", "--file", f).stdout)
    const ownedLinks = shown.links
      .filter((l: { owned: boolean }) => l.owned)
      .map((l: { name: string }) => l.name)
      .sort()
    const ownedRoutes = shown.routes
      .filter((r: { owned: boolean }) => r.owned)
      .map((r: { dst: string }) => r.dst)
      .sort()
    expect(ownedLinks).toEqual(["br-lan", "lan-old"])
    expect(ownedRoutes).toEqual(["10.30.0.0/16", "10.50.0.0/16"])
    expect(shown.addresses.filter((a: { owned: boolean }) => a.owned)).toEqual([])
    expect(shown.addresses.find((a: { address: string }) => a.address === "10.60.0.1/24")).toBeDefined()
    // what plan touches is exactly those
    const plan = JSON.parse(linx(t, "plan", f, "--json").stdout) as { ops: string[] }
    expect(plan.ops.sort()).toEqual([
      "ip link del dev lan-old",
      "ip route del 10.50.0.0/16 dev other0 table 100 metric 0 proto 77",
    ])
    // netfilter: the owned table is marked, a foreign one is not
    const nf = file(
      "fw.yaml",
      `source: netfilter
ownership: { tables: [{ family: inet, name: edge }] }
desired:
  tables:
    - { family: inet, name: edge, chains: [{ name: input, type: filter, hook: input, priority: 0, rules: [] }] }
`,
    )
    expect(linx(t, "apply", nf).code).toBe(0)
    t.sh("nft", "add", "table", "inet", "theirs")
    t.sh("nft", "add", "chain", "inet", "theirs", "input")
    const tables = JSON.parse(linx(t, "show", "netfilter", "--json", "--file", nf).stdout).tables as {
      name: string
      owned: boolean
    }[]
    expect(tables.map((x) => [x.name, x.owned]).sort()).toEqual([
      ["edge", true],
      ["theirs", false],
    ])
    expect(JSON.parse(linx(t, "plan", nf, "--json").stdout).ops).toEqual([])
  })

  test("an invalid file names the file and every issue, exit 1, nothing applied", () => {
    using t = freshNetns()
    const f = file(
      "bad.yaml",
      `source: rtnl
desired:
  links:
    - { name: br-lan, kind: bridge, mtu: 20 }
    - { name: "x/y", kind: bridge }
  routes:
    - { dst: 10.1.2.3/16, via: 10.0.0.1 }
`,
    )
    const r = linx(t, "apply", f)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`linx apply: ${f}: invalid:`)
    expect(r.stderr).toContain("desired.links.0.mtu: mtu 20 is below the minimum of 68")
    expect(r.stderr).toContain('desired.links.1.name: "x/y" is not a valid link name')
    expect(r.stderr).toContain("desired.routes.0.dst: 10.1.2.3/16 has host bits set; did you mean 10.1.0.0/16?")
    expect(t.ipJson<unknown[]>("link", "show").length).toBe(1)
    const multi = file("multi.yaml", "source: rtnl\ndesired: {}\n---\nsource: rtnl\ndesired: {}\n")
    expect(linx(t, "plan", multi).stderr).toContain("holds 2 YAML documents")
    expect(linx(t, "plan", file("x.yaml", "source: bogus\ndesired: {}\n")).stderr).toContain('unknown source "bogus"')
    expect(linx(t, "plan", "/nonexistent/file.yaml").stderr).toContain(
      "/nonexistent/file.yaml: cannot read: no such file",
    )
    expect(linx(t, "plan", f, "--netns", "linx-no-such").code).toBe(1)
  })

  test("a missing namespace is a clear error", () => {
    using t = freshNetns()
    const r = linx(t, "show", "rtnl", "--netns", "linx-no-such-ns")
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("ip netns add linx-no-such-ns")
  })

  test("run heals a deleted link, reloads an edited file, keeps the last good state on a bad edit, exits 0 on SIGTERM", async () => {
    using t = freshNetns()
    const f = file("host.yaml", HOST)
    const proc = t.ns.run(() =>
      Bun.spawn(["bun", MAIN, "run", f, "--resync", "60s"], { stdout: "pipe", stderr: "pipe" }),
    )
    const until = async (cond: () => boolean, ms = 8000) => {
      const start = Date.now()
      while (!cond()) {
        if (Date.now() - start > ms) throw new Error("timed out")
        await Bun.sleep(10)
      }
    }
    const has = (name: string) => t.try("ip", "link", "show", name).code === 0
    try {
      await until(() => has("lan-a") && t.sh("ip", "route", "show", "proto", "77").includes("10.20.0.0/16"))
      t.sh("ip", "link", "del", "lan-a")
      await until(() => has("lan-a") && t.sh("ip", "link", "show", "lan-a").includes("master br-lan"))
      // an edit: a new route appears
      writeFileSync(
        f,
        HOST.replace(
          "- { dst: 10.20.0.0/16, via: 10.10.0.254 }",
          "- { dst: 10.20.0.0/16, via: 10.10.0.254 }\n    - { dst: 10.21.0.0/16, via: 10.10.0.254 }",
        ),
      )
      await until(() => t.sh("ip", "route", "show", "proto", "77").includes("10.21.0.0/16"))
      // a bad edit is refused; the loop keeps healing with the last good state
      writeFileSync(f, HOST.replace("kind: bridge", "kind: wormhole"))
      await Bun.sleep(300)
      t.sh("ip", "route", "del", "10.21.0.0/16")
      await until(() => t.sh("ip", "route", "show", "proto", "77").includes("10.21.0.0/16"))
    } finally {
      proc.kill("SIGTERM")
    }
    expect(await proc.exited).toBe(0)
    const err = await new Response(proc.stderr).text()
    expect(err).toContain("healed  ip link add lan-a")
    expect(err).toContain("changed, applying the new desired state")
    expect(err).toContain('unknown link kind "wormhole"')
    expect(err).toContain("keeping the last good desired state")
    expect(err).toContain("SIGTERM: stopping")
  })

  test("demo prints the heal table, exits 0 and leaves nothing behind", () => {
    using t = freshNetns()
    const before = t.sh("ip", "-j", "link", "show")
    const r = linx(t, "demo")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("break")
    expect(r.stdout).toMatch(/ip link del lan-a +[\d.]+ (ms|µs) +ip link add lan-a/)
    expect(r.stdout).not.toContain("not healed")
    expect(r.stdout).toContain("nothing left behind")
    // the demo worked in its own namespace: this one is as it was
    expect(t.sh("ip", "-j", "link", "show")).toBe(before)
  })

  test("sysctl files: plan, apply, show", () => {
    using t = freshNetns()
    const f = file(
      "sysctl.yaml",
      'source: sysctl\ndesired:\n  net.ipv4.ip_forward: 1\n  net/ipv4/ip_local_port_range: "20000 40000"\n',
    )
    const plan = linx(t, "plan", f)
    expect(plan.code).toBe(2)
    expect(plan.stdout).toContain("sysctl -w net.ipv4.ip_forward=1  # was 0")
    expect(linx(t, "apply", f).code).toBe(0)
    expect(linx(t, "plan", f).code).toBe(0)
    expect(t.sh("sysctl", "-n", "net.ipv4.ip_forward").trim()).toBe("1")
    const shown = JSON.parse(linx(t, "show", "sysctl", "--json", "--file", f).stdout)
    expect(shown.values).toEqual({ "net.ipv4.ip_forward": "1", "net.ipv4.ip_local_port_range": "20000 40000" })
    const all = JSON.parse(linx(t, "show", "sysctl", "--json").stdout)
    expect(all.values["net.ipv4.ip_forward"]).toBe("1")
    expect(Object.keys(all.values).length).toBeGreaterThan(100)
  })

  test("run --status serves readyz, healthz, status and metrics from inside the namespace", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "set", "lo", "up")
    const f = file("host.yaml", HOST)
    const proc = t.ns.run(() =>
      Bun.spawn(["bun", MAIN, "run", f, "--status", "127.0.0.1:19477"], {
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, LINX_STATUS_TOKEN: "t0ken" },
      }),
    )
    const fetchIn = (path: string) => {
      const script = `const r = await fetch("http://127.0.0.1:19477${path}"); console.log(r.status); console.log(await r.text())`
      const out = t.ns
        .run(() => Bun.spawnSync(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" }))
        .stdout.toString()
      const nl = out.indexOf("\n")
      return { status: Number(out.slice(0, nl)), body: out.slice(nl + 1) }
    }
    try {
      let ready = { status: 0, body: "" }
      for (let i = 0; i < 100 && ready.status !== 200; i++) {
        await Bun.sleep(50)
        ready = fetchIn("/readyz")
      }
      expect(ready.status).toBe(200)
      expect(fetchIn("/healthz").status).toBe(200)
      expect(JSON.parse(fetchIn("/status").body).loops.host.converged).toBe(true)
      expect(fetchIn("/metrics").body).toContain('linx_converged{loop="host"} 1')
      // the file is what is desired: a PUT through the API is refused, naming the file
      const put = `const r = await fetch("http://127.0.0.1:19477/loops/host/desired", { method: "PUT", headers: { authorization: "Bearer t0ken" }, body: "{}" }); console.log(r.status); console.log(await r.text())`
      const out = t.ns.run(() => Bun.spawnSync(["bun", "-e", put], { stdout: "pipe" })).stdout.toString()
      expect(out.split("\n")[0]).toBe("409")
      expect(JSON.parse(out.split("\n")[1]!).error).toContain(`takes its desired state from the file ${f}`)
    } finally {
      proc.kill("SIGTERM")
    }
    expect(await proc.exited).toBe(0)
  })

  test("netfilter files: plan, apply, show; the firewall example converges", () => {
    using t = freshNetns()
    const f = join(import.meta.dir, "../examples/firewall.yaml")
    const plan = linx(t, "plan", f)
    expect(plan.code).toBe(2)
    expect(plan.stdout).toContain("nft add table inet edge")
    expect(plan.stdout).toContain('ip saddr 10.0.0.0/8 tcp dport 22 accept comment "ssh"')
    const apply = linx(t, "apply", f)
    expect(apply.code).toBe(0)
    expect(linx(t, "plan", f).code).toBe(0)
    expect(t.sh("nft", "list", "chain", "inet", "edge", "input")).toContain("udp dport 5000-5100 jump media")
    const shown = JSON.parse(linx(t, "show", "netfilter", "--json", "--file", f).stdout)
    expect(shown.tables.map((x: { name: string; owned: boolean }) => [x.name, x.owned])).toEqual([["edge", true]])
    // sets are shown, their elements as nft writes them (a network as a prefix), not key bytes
    expect(shown.tables[0].sets.map((x: { name: string; elements: string[] }) => [x.name, x.elements])).toEqual([
      ["blocked", ["10.66.0.0/16", "192.0.2.7"]],
    ])
    expect(linx(t, "show", "netfilter", "--file", f).stdout).toContain("@blocked  set ipv4_addr (interval)")
    expect(linx(t, "show", "netfilter", "--file", f).stdout).toContain("ct state established,related accept")
    // rules written as nft text: planned and shown as nft writes them
    expect(plan.stdout).toContain("nft add rule inet edge input icmp type echo-request limit rate 10/second accept")
    // plan asks the kernel (check mode, nothing committed)
    expect(plan.stdout).toContain("# the kernel accepts these changes (checked, nothing committed)")
    expect(linx(t, "show", "netfilter", "--file", f).stdout).toContain(
      "icmpv6 type { echo-request, nd-router-advert, nd-neighbor-solicit } accept",
    )
  })

  test("a table as nft text (examples/nftables-conf.yaml): plan, apply, nothing left, drift put back by apply", () => {
    using t = freshNetns()
    const f = join(import.meta.dir, "../examples/nftables-conf.yaml")
    const plan = linx(t, "plan", f)
    expect(plan.code).toBe(2)
    expect(plan.stdout).toContain("nft add set inet edge recent { typeof ip saddr; size 65535; flags dynamic,timeout;")
    expect(plan.stdout).toContain('192.0.2.7 timeout 1d comment "port scan"')
    expect(plan.stdout).toContain("nft add quota inet edge guest-web { over 500 mbytes }")
    expect(linx(t, "apply", f).code).toBe(0)
    expect(linx(t, "plan", f).code).toBe(0)
    const listed = () => t.sh("nft", "list", "table", "inet", "edge").replace(/ expires \S+/g, "")
    const before = listed()
    expect(before).toContain('counter name "ssh-accepted" accept')
    t.sh("nft", "flush", "chain", "inet", "edge", "input")
    t.sh("nft", "delete", "element", "inet", "edge", "banned", "{ 198.51.100.9 }")
    expect(linx(t, "plan", f).code).toBe(2)
    expect(linx(t, "apply", f).code).toBe(0)
    expect(listed()).toBe(before)
  })

  test("examples/router.yaml: two uplinks, policy rules, static neighbours, a vxlan overlay; drift put back by apply", () => {
    using t = freshNetns()
    const f = join(import.meta.dir, "../examples/router.yaml")
    const plan = linx(t, "plan", f)
    expect(plan.code).toBe(2)
    expect(plan.stdout).toContain("ip rule add priority 100 from all fwmark 0x1/0xff lookup 101 proto 78")
    expect(plan.stdout).toContain("ip neigh add 198.51.100.1 dev wan0 lladdr 02:00:c6:33:64:01 nud permanent proto 78")
    expect(plan.stdout).toContain("bridge fdb append 02:00:0a:c8:00:03 dev vx0 dst 198.51.100.11 self permanent")
    expect(linx(t, "apply", f).code).toBe(0)
    expect(linx(t, "plan", f).code).toBe(0)
    const rules = JSON.parse(t.sh("ip", "-j", "rule")) as { priority: number; table?: string; protocol?: string }[]
    expect(rules.filter((r) => r.protocol === "78").map((r) => [r.priority, r.table])).toEqual([
      [100, "101"],
      [110, "102"],
      [200, "102"],
      [300, undefined],
    ])
    // the kernel picks the uplink by mark and by source (a forwarded packet: forwarding on, in this namespace)
    t.sh("sysctl", "-qw", "net.ipv4.ip_forward=1")
    expect(t.sh("ip", "route", "get", "8.8.8.8", "mark", "2")).toContain("via 203.0.113.1 dev wan1")
    expect(t.sh("ip", "route", "get", "8.8.8.8", "from", "10.0.200.1", "iif", "lan0")).toContain("via 203.0.113.1")
    expect(t.sh("ip", "route", "get", "8.8.8.8")).toContain("via 198.51.100.1 dev wan0")
    // the overlay: a peer's address resolves to its MAC, which goes to its host
    expect(t.sh("ip", "route", "get", "10.200.0.3")).toContain("dev vx0")
    expect(t.sh("bridge", "fdb", "show", "dev", "vx0")).toContain("02:00:0a:c8:00:03 dst 198.51.100.11 self permanent")
    t.sh("ip", "rule", "del", "priority", "110")
    t.sh("ip", "neigh", "del", "203.0.113.1", "dev", "wan1")
    t.sh("bridge", "fdb", "del", "02:00:0a:c8:00:04", "dev", "vx0", "dst", "198.51.100.12")
    expect(linx(t, "plan", f).code).toBe(2)
    expect(linx(t, "apply", f).code).toBe(0)
    expect(linx(t, "plan", f).code).toBe(0)
    expect(t.sh("ip", "-j", "neigh", "show", "dev", "wan1")).toContain("02:00:cb:00:71:01")
  })

  test("show netfilter --desired: what is there as nft text, which apply takes back (show → apply round-trips)", () => {
    using t = freshNetns()
    const f = join(import.meta.dir, "../examples/firewall.yaml")
    expect(linx(t, "apply", f).code).toBe(0)
    t.sh("nft", "add", "table", "ip", "other")
    t.sh("nft", "add", "chain", "ip", "other", "c", "{ type filter hook output priority 0; }")
    t.sh("nft", "add", "rule", "ip", "other", "c", "ip daddr 192.0.2.1 counter drop")
    const before = t.sh("nft", "list", "ruleset")
    const shown = linx(t, "show", "netfilter", "--desired")
    expect(shown.code).toBe(0)
    const doc = JSON.parse(shown.stdout)
    expect(doc.desired.tables.map((x: { family: string; name: string }) => `${x.family} ${x.name}`)).toEqual([
      "inet edge",
      "ip other",
    ])
    const back = file("shown.json", shown.stdout)
    // as it stands: nothing to do
    expect(linx(t, "plan", back).code).toBe(0)
    // from nothing: the same ruleset, as nft lists it
    t.sh("nft", "flush", "ruleset")
    expect(linx(t, "apply", back).code).toBe(0)
    expect(t.sh("nft", "list", "ruleset")).toBe(before)
    // with a file: only the tables it owns
    const owned = JSON.parse(linx(t, "show", "netfilter", "--desired", "--file", f).stdout)
    expect(owned.desired.tables.map((x: { name: string }) => x.name)).toEqual(["edge"])
    // sysctl: the keys a file names, with the values the kernel holds now
    const sf = file("s.yaml", "source: sysctl\ndesired:\n  net.ipv4.ip_forward: 1\n  net.ipv4.tcp_syncookies: 0\n")
    t.sh("sysctl", "-qw", "net.ipv4.ip_forward=0", "net.ipv4.tcp_syncookies=1")
    const sys = JSON.parse(linx(t, "show", "sysctl", "--desired", "--file", sf).stdout)
    expect(sys.desired).toEqual({ "net.ipv4.ip_forward": "0", "net.ipv4.tcp_syncookies": "1" })
    expect(linx(t, "plan", file("s.json", JSON.stringify(sys))).code).toBe(0)
    expect(linx(t, "show", "sysctl", "--desired").stderr).toContain("give --file")
  })

  test("show rtnl --desired --file: what the file owns as desired state; applied from nothing it gives the example back", () => {
    using t = freshNetns()
    const f = join(import.meta.dir, "../examples/router.yaml")
    expect(linx(t, "apply", f).code).toBe(0)
    const shown = linx(t, "show", "rtnl", "--desired", "--file", f)
    expect(shown.code).toBe(0)
    const doc = JSON.parse(shown.stdout)
    expect(doc.desired.rules).toHaveLength(4)
    expect(doc.desired.fdb).toHaveLength(3)
    const back = file("router-shown.json", shown.stdout)
    expect(linx(t, "plan", back).code).toBe(0)
    // from (almost) nothing: links, and with them addresses, routes, neighbours and fdb entries, gone
    for (const l of ["vx0", "wan0", "wan1", "lan0"]) t.sh("ip", "link", "del", l)
    t.sh("ip", "rule", "del", "priority", "200")
    expect(linx(t, "apply", back).code).toBe(0)
    expect(linx(t, "plan", f).code).toBe(0)
    expect(linx(t, "show", "rtnl", "--desired").stderr).toContain("give --file")
  })

  test("plan has the kernel judge a netfilter change: a refusal is known before apply (exit 1), nothing is made", () => {
    using t = freshNetns()
    const f = file(
      "nd.yaml",
      `source: netfilter
ownership: { tables: [{ family: ip, name: edge }] }
desired:
  tables:
    - family: ip
      name: edge
      chains:
        # valid to the schema; the kernel refuses nat chains before conntrack (-200)
        - { name: pre, type: nat, hook: prerouting, priority: -300, rules: [{ verdict: accept }] }
`,
    )
    const plan = linx(t, "plan", f)
    expect(plan.code).toBe(1)
    expect(plan.stdout).toContain(
      "# the kernel would refuse: nft add chain ip edge pre { type nat hook prerouting priority -300; }: Operation not supported",
    )
    expect(plan.stdout).not.toContain("the kernel accepts")
    const json = JSON.parse(linx(t, "plan", "--json", f).stdout)
    expect(json.check.accepted).toBe(false)
    expect(t.sh("nft", "list", "ruleset")).toBe("")
  })

  test("apply --json to a pipe carries the whole document (3000 ops, far past 64 KiB)", () => {
    using t = freshNetns()
    t.sh("ip", "link", "set", "lo", "up")
    t.sh("ip", "link", "add", "up-x", "type", "bridge")
    t.sh("ip", "link", "set", "up-x", "up")
    const routes = Array.from({ length: 3000 }, (_, i) => `    - { dst: 10.${i >> 8}.${i & 255}.0/24, dev: up-x }`)
    const f = file(
      "many.yaml",
      `source: rtnl\nownership: { links: ["lan-*"] }\ndesired:\n  routes:\n${routes.join("\n")}\n`,
    )
    // `| cat`: a pipe read slowly, the case that lost everything past 64 KiB
    const p = t.ns.run(() =>
      Bun.spawnSync(["sh", "-c", `bun ${MAIN} apply --json ${f} | (sleep 0.3; cat)`], {
        stdout: "pipe",
        stderr: "pipe",
      }),
    )
    const out = p.stdout.toString()
    expect(out.length).toBeGreaterThan(200_000)
    const doc = JSON.parse(out) as { results: { result: string }[] }
    expect(doc.results.filter((x) => x.result === "ok").length).toBe(3000)
  })

  test("a JSON file read packed (20k routes): plan says what the same file as YAML says, apply makes what ip -j lists", () => {
    using t = freshNetns()
    t.sh("ip", "link", "set", "lo", "up")
    t.sh("ip", "link", "add", "up-x", "type", "bridge")
    t.sh("ip", "link", "set", "up-x", "up")
    t.sh("ip", "addr", "add", "10.255.0.1/24", "dev", "up-x")
    const routes = Array.from({ length: 20_000 }, (_, i) =>
      i % 3 === 0
        ? { dst: `10.${i >> 8}.${i & 255}.0/24`, via: "10.255.0.254", dev: "up-x" }
        : i % 3 === 1
          ? { dst: `fd00:${i.toString(16)}::/64`, dev: "up-x", metric: 5 }
          : { dst: `10.${i >> 8}.${i & 255}.0/24`, via: "10.255.0.254", table: 100, metric: i },
    )
    const doc = { source: "rtnl", ownership: { routeProtocol: 77 }, desired: { routes } }
    const json = file("table.json", JSON.stringify(doc))
    // the same document the usual way: YAML is a superset of JSON, read by the YAML parser
    const yaml = file("table.yaml", JSON.stringify(doc))
    const packed = linx(t, "plan", json)
    const usual = linx(t, "plan", yaml)
    expect(packed.code).toBe(2)
    expect(packed.stdout.split("\n").length).toBeGreaterThan(20_000)
    expect(packed.stdout.replace(json, "F")).toBe(usual.stdout.replace(yaml, "F"))
    // --timings: the same plan, and where its time went on stderr
    const timed = linx(t, "plan", "--timings", json)
    expect(timed.stdout).toBe(packed.stdout)
    expect(timed.stderr).toMatch(timings("plan", ["start", "load", "observe", "diff", "print"]))
    // the same bytes to a file (written synchronously) and to a pipe read slowly (through the stream)
    const toFile = file("plan.txt", "")
    t.ns.run(() => Bun.spawnSync(["bun", MAIN, "plan", json], { stdout: Bun.file(toFile), stderr: "pipe" }))
    expect(readFileSync(toFile, "utf8")).toBe(packed.stdout)
    const slow = t.ns.run(() =>
      Bun.spawnSync(["sh", "-c", `bun ${MAIN} plan ${json} | (sleep 0.3; cat)`], { stdout: "pipe", stderr: "pipe" }),
    )
    expect(slow.stdout.toString()).toBe(packed.stdout)
    // a reader that goes away (`| head`): the rest is dropped quietly, the exit code stays the plan's
    const cut = t.ns.run(() =>
      Bun.spawnSync(["bash", "-c", `bun ${MAIN} plan ${json} | head -2; echo "rc=\${PIPESTATUS[0]}"`], {
        stdout: "pipe",
        stderr: "pipe",
      }),
    )
    expect(cut.stdout.toString()).toBe(`${packed.stdout.split("\n").slice(0, 2).join("\n")}\nrc=2\n`)
    expect(cut.stderr.toString()).toBe("")
    // stdout that fails otherwise (a full disk): said once, and the command fails
    const full = t.ns.run(() =>
      Bun.spawnSync(["bash", "-c", `bun ${MAIN} plan ${json} > /dev/full; echo "rc=$?"`], {
        stdout: "pipe",
        stderr: "pipe",
      }),
    )
    expect(full.stdout.toString()).toBe("rc=1\n")
    expect(full.stderr.toString()).toBe(
      "linx: cannot write to stdout (ENOSPC: no space left on device, write): the rest of the output is dropped\n",
    )
    expect(linx(t, "plan", "--json", json).stdout.replace(json, "F")).toBe(
      linx(t, "plan", "--json", yaml).stdout.replace(yaml, "F"),
    )
    const apply = linx(t, "apply", "--timings", json)
    expect(apply.stderr).toMatch(timings("apply", ["start", "load", "observe", "diff", "apply", "print"]))
    expect(apply.stdout).toContain("20000 applied, 0 failed, 0 conflict(s)")
    const listed = (family: string, table: string) =>
      (JSON.parse(t.sh("ip", "-j", family, "route", "show", "proto", "77", "table", table)) as { dst: string }[]).length
    expect(listed("-4", "main") + listed("-4", "100") + listed("-6", "main")).toBe(20_000)
    expect(linx(t, "plan", json).code).toBe(0)
  })

  test("run: a file naming a namespace that is not there is an unhealthy loop with the reason, healed when it appears; a reload to a bad namespace likewise", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "set", "lo", "up")
    const dir = mkdtempSync(join(tmpdir(), "linx-ns-"))
    const nsPath = join(dir, "c1")
    const text = (ns: string) => `source: sysctl\nnetns: ${ns}\ndesired:\n  net.ipv4.ip_forward: 1\n`
    const f = file("c1.yaml", text(nsPath))
    const port = 19480
    const proc = t.ns.run(() =>
      Bun.spawn(["bun", MAIN, "run", f, "--resync", "2s", "--status", `127.0.0.1:${port}`], {
        stdout: "pipe",
        stderr: "pipe",
      }),
    )
    // drain its log as it comes (a full pipe would stall it), and keep it for a failure's message
    let log = ""
    void (async () => {
      for await (const chunk of proc.stderr) log += new TextDecoder().decode(chunk)
    })()
    const fetchIn = (path: string) => {
      const script = `const r = await fetch("http://127.0.0.1:${port}${path}"); console.log(r.status); console.log(await r.text())`
      const out = t.ns
        .run(() => Bun.spawnSync(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" }))
        .stdout.toString()
      const nl = out.indexOf("\n")
      return { status: Number(out.slice(0, nl)), body: out.slice(nl + 1) }
    }
    const until = async (path: string, status: number) => {
      let r = { status: 0, body: "" }
      for (let i = 0; i < 200 && r.status !== status; i++) {
        await Bun.sleep(50)
        r = fetchIn(path)
      }
      return r
    }
    let mounted = false
    try {
      const down = await until("/healthz", 503)
      expect(down.status).toBe(503)
      expect(down.body).toContain("cannot open network namespace")
      expect(JSON.parse(fetchIn("/status").body).loops.c1.state).toBe("backoff")
      // the namespace appears (as a container's would): the loop converges by itself
      await Bun.write(nsPath, "")
      Bun.spawnSync(["unshare", `--net=${nsPath}`, "true"])
      mounted = true
      const up = await until("/healthz", 200)
      if (up.status !== 200) console.error(`linx exited: ${proc.exitCode}; its log:\n${log.slice(-3000)}`)
      expect(up.status).toBe(200)
      // a valid reload naming a namespace that cannot be opened: unhealthy, not gone
      writeFileSync(f, text(join(dir, "missing")))
      const bad = await until("/healthz", 503)
      expect(bad.body).toContain("missing")
      expect(Object.keys(JSON.parse(fetchIn("/status").body).loops)).toEqual(["c1"])
      // fixing the file brings it back
      writeFileSync(f, text(nsPath))
      expect((await until("/healthz", 200)).status).toBe(200)
    } finally {
      proc.kill("SIGTERM")
      if (mounted) Bun.spawnSync(["umount", nsPath])
    }
    expect(await proc.exited).toBe(0)
  }, 30_000)

  test("run: SIGTERM while the loops are starting stops them cleanly (exit 0)", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "set", "lo", "up")
    t.sh("ip", "link", "add", "up-x", "type", "bridge")
    t.sh("ip", "link", "set", "up-x", "up")
    // a first pass long enough to be interrupted: 50k routes
    const routes = Array.from({ length: 50_000 }, (_, i) => `    - { dst: 10.${i >> 8}.${i & 255}.0/24, dev: up-x }`)
    const f = file(
      "slow.yaml",
      `source: rtnl\nownership: { links: ["lan-*"] }\ndesired:\n  routes:\n${routes.join("\n")}\n`,
    )
    const proc = t.ns.run(() => Bun.spawn(["bun", MAIN, "run", f], { stdout: "pipe", stderr: "pipe" }))
    // kill once the process is past loading, before the first pass is done
    await Bun.sleep(700)
    proc.kill("SIGTERM")
    expect(await proc.exited).toBe(0)
    const err = await new Response(proc.stderr).text()
    expect(err).toContain("SIGTERM: stopping")
    expect(err).toContain("stopped")
  }, 30_000)

  test("run --pid: the loops stop when the workload exits, and linx exits 0", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "set", "lo", "up")
    const work = t.ns.run(() => Bun.spawn(["unshare", "-n", "sleep", "600"], { stdout: "ignore", stderr: "ignore" }))
    for (
      let i = 0;
      i < 200 && t.try("readlink", `/proc/${work.pid}/ns/net`).stdout === t.try("readlink", "/proc/self/ns/net").stdout;
      i++
    )
      await Bun.sleep(5)
    const f = file(
      "c1.yaml",
      `source: rtnl\nnetns: /proc/${work.pid}/ns/net\nownership: { links: ["eth0"], routeProtocol: 78 }\ndesired:\n  links:\n    - { name: eth0, kind: veth, peer: { name: c1-host, netns: ${t.ns.path} }, up: true }\n`,
    )
    const proc = t.ns.run(() =>
      Bun.spawn(["bun", MAIN, "run", "--pid", String(work.pid), f], { stdout: "pipe", stderr: "pipe" }),
    )
    for (let i = 0; i < 400 && !t.ipJson<{ ifname: string }[]>("link", "show").some((l) => l.ifname === "c1-host"); i++)
      await Bun.sleep(10)
    expect(t.ipJson<{ ifname: string }[]>("link", "show").map((l) => l.ifname)).toContain("c1-host")
    work.kill("SIGKILL")
    expect(await proc.exited).toBe(0)
    const err = await new Response(proc.stderr).text()
    expect(err).toContain("exited")
    expect(err).toContain("every loop has stopped")
  }, 30_000)

  test("plan shows what waits (a sysctl key whose interface does not exist yet) instead of 'nothing to do'", () => {
    using t = freshNetns()
    const f = file("wait.yaml", "source: sysctl\ndesired:\n  net.ipv4.conf.br9.rp_filter: 2\n")
    const r = linx(t, "plan", f)
    expect(r.code).toBe(2)
    expect(r.stdout).toContain("# waiting: net.ipv4.conf.br9.rp_filter: interface br9 does not exist yet")
    const j = JSON.parse(linx(t, "plan", "--json", f).stdout)
    expect([j.pending, j.waiting.length, j.ops.length]).toEqual([true, 1, 0])
    t.sh("ip", "link", "add", "br9", "type", "bridge")
    const after = JSON.parse(linx(t, "plan", "--json", f).stdout)
    expect(after.waiting).toEqual([])
    const was = t.sh("sysctl", "-n", "net.ipv4.conf.br9.rp_filter").trim()
    expect(after.details).toEqual([
      { kind: "set", before: was, after: "2", op: expect.stringContaining("net.ipv4.conf.br9.rp_filter=2") },
    ])
  })

  test("without root: apply and run say so in one line, before touching anything", () => {
    using t = freshNetns()
    const f = file("host.yaml", HOST)
    chmodSync(dirname(f), 0o755) // readable by nobody: the refusal is about root, not the file
    const bun = Bun.which("bun")!
    for (const verb of ["apply", "run"]) {
      const p = t.ns.run(() =>
        Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bun, MAIN, verb, f], {
          stdout: "pipe",
          stderr: "pipe",
          env: { ...process.env, HOME: "/tmp" },
        }),
      )
      expect(p.exitCode).toBe(1)
      expect(p.stderr.toString()).toBe(
        `linx ${verb}: changing the network needs root (CAP_NET_ADMIN): run it as root; nothing was changed\n`,
      )
    }
    expect(t.ipJson<{ ifname: string }[]>("link", "show").map((l) => l.ifname)).toEqual(["lo"])
  })

  test("plan: an rtnl update says what was (text and --json before/after), read from the kernel", () => {
    using t = freshNetns()
    const f = file(
      "mtu.yaml",
      HOST.replace("{ name: br-lan, kind: bridge, up: true }", "{ name: br-lan, kind: bridge, up: true, mtu: 1400 }"),
    )
    expect(linx(t, "apply", f).code).toBe(0)
    t.sh("ip", "link", "set", "br-lan", "mtu", "1300", "down")
    const kernel = t.ipJson<{ mtu: number; flags: string[] }[]>("link", "show", "br-lan")[0]!
    expect([kernel.mtu, kernel.flags.includes("UP")]).toEqual([1300, false])
    const plan = linx(t, "plan", f)
    expect(plan.stdout).toContain("ip link set dev br-lan mtu 1400 up  # was mtu 1300, down")
    const j = JSON.parse(linx(t, "plan", "--json", f).stdout)
    expect(j.details).toContainEqual({
      kind: "update",
      object: "link",
      before: { mtu: 1300, up: false },
      after: { mtu: 1400, up: true },
      op: "ip link set dev br-lan mtu 1400 up  # was mtu 1300, down",
    })
  })

  test("run DIR: a file added to the directory starts its loop, a removed one stops it (what it made stays)", async () => {
    using t = freshNetns()
    t.sh("ip", "link", "set", "lo", "up")
    const dir = mkdtempSync(join(tmpdir(), "linx-dir-"))
    writeFileSync(join(dir, "sysctl.yaml"), "source: sysctl\ndesired:\n  net.ipv4.ip_forward: 1\n")
    const proc = t.ns.run(() =>
      Bun.spawn(["bun", MAIN, "run", dir], { stdout: "pipe", stderr: "pipe", env: { ...process.env } }),
    )
    let log = ""
    void (async () => {
      for await (const chunk of proc.stderr) log += new TextDecoder().decode(chunk)
    })()
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 300 && !check(); i++) await Bun.sleep(20)
      return check()
    }
    try {
      expect(await until(() => t.sh("sysctl", "-n", "net.ipv4.ip_forward").trim() === "1")).toBe(true)
      writeFileSync(
        join(dir, "host.yaml"),
        'source: rtnl\nownership: { links: ["dir-br"] }\ndesired:\n  links:\n    - { name: dir-br, kind: bridge, up: true }\n',
      )
      expect(await until(() => t.try("ip", "link", "show", "dir-br").code === 0)).toBe(true)
      // the child's log reaches this pipe on its own schedule: wait for the line, do not race it
      expect(await until(() => log.includes("host.yaml: new file, starting its loop"))).toBe(true)
      rmSync(join(dir, "host.yaml"))
      expect(await until(() => log.includes("host.yaml: removed, stopping its loop"))).toBe(true)
      // the bridge stays: removing a file stops a loop, it does not undo its work
      t.sh("ip", "link", "set", "dir-br", "down")
      await Bun.sleep(300)
      expect(t.ipJson<{ flags: string[] }[]>("link", "show", "dir-br")[0]!.flags).not.toContain("UP")
    } finally {
      proc.kill("SIGTERM")
    }
    expect(await proc.exited).toBe(0)
  }, 30_000)
})

describe("linx as a binary", () => {
  test("the compiled binary: --version, the demo from outside any checkout, its status thread and lifetime watcher", async () => {
    const dir = mkdtempSync(join(tmpdir(), "linx-bin-"))
    try {
      const bin = join(dir, "linx")
      const build = Bun.spawnSync(["bash", join(import.meta.dir, "../scripts/compile.sh"), bin], { stderr: "pipe" })
      expect(build.stderr.toString()).toBe("")
      expect(build.exitCode).toBe(0)
      const version = Bun.spawnSync([bin, "--version"], { cwd: "/" })
      const pkg = JSON.parse(readFileSync(join(import.meta.dir, "../packages/cli/package.json"), "utf8"))
      expect(version.stdout.toString().trim()).toBe(pkg.version)
      const demo = Bun.spawnSync([bin, "demo"], { cwd: "/", stdout: "pipe", stderr: "pipe" })
      expect(demo.stderr.toString()).toBe("")
      expect(demo.exitCode).toBe(0)
      expect(demo.stdout.toString()).toContain("router (rtnl, examples/router.yaml)")
      expect(demo.stdout.toString()).toContain("nothing left behind")
      // the status endpoint runs on a worker thread inside the binary (it did not start before)
      using t = freshNetns()
      t.sh("ip", "link", "set", "lo", "up")
      const f = file("host.yaml", HOST)
      const sleeper = Bun.spawn(["sleep", "30"])
      const proc = t.ns.run(() =>
        Bun.spawn([bin, "run", f, "--status", "127.0.0.1:19478", "--pid", String(sleeper.pid)], {
          cwd: "/",
          stdout: "pipe",
          stderr: "pipe",
        }),
      )
      const ask = `const r = await fetch("http://127.0.0.1:19478/readyz").catch(() => ({ status: 0 })); console.log(r.status)`
      let status = 0
      for (let i = 0; i < 100 && status !== 200; i++) {
        await Bun.sleep(50)
        status = Number(t.ns.run(() => Bun.spawnSync(["bun", "-e", ask], { stdout: "pipe" })).stdout.toString())
      }
      expect(status).toBe(200)
      // and its workload watcher (another worker thread): the loop ends when the pid exits
      sleeper.kill()
      const code = await Promise.race([proc.exited, Bun.sleep(5000).then(() => "still running")])
      if (code !== 0) proc.kill()
      expect(code).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)

  test("scripts/install.sh puts the compiled linx on PATH ($PREFIX/bin), and running it again changes nothing", () => {
    const prefix = mkdtempSync(join(tmpdir(), "linx-prefix-"))
    try {
      const run = () =>
        Bun.spawnSync(["bash", join(import.meta.dir, "../scripts/install.sh")], {
          env: { ...process.env, PREFIX: prefix },
          stdout: "pipe",
          stderr: "pipe",
        })
      const first = run()
      expect(first.exitCode).toBe(0)
      expect(first.stdout.toString()).toContain(`installed as ${prefix}/bin/linx`)
      expect(run().exitCode).toBe(0)
      const v = Bun.spawnSync([join(prefix, "bin", "linx"), "--version"], { cwd: "/" })
      expect(v.exitCode).toBe(0)
      expect(v.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+$/)
    } finally {
      rmSync(prefix, { recursive: true, force: true })
    }
  }, 120_000)

  test("completion: a bash script that completes commands, sources and options; zsh's; another shell refused", () => {
    const script = Bun.spawnSync(["bun", MAIN, "completion", "bash"]).stdout.toString()
    const complete = (words: string[]) =>
      Bun.spawnSync([
        "bash",
        "-c",
        `${script}\nCOMP_WORDS=(${words.join(" ")}); COMP_CWORD=${words.length - 1}; _linx; echo "\${COMPREPLY[@]}"`,
      ])
        .stdout.toString()
        .trim()
    expect(complete(["linx", "pl"])).toBe("plan")
    expect(complete(["linx", "show", "net"])).toBe("netfilter")
    expect(complete(["linx", "show", "--des"])).toBe("--desired")
    expect(complete(["linx", "run", "--log"])).toBe("--log-level")
    expect(Bun.spawnSync(["bun", MAIN, "completion", "zsh"]).stdout.toString()).toContain("#compdef linx")
    const fish = Bun.spawnSync(["bun", MAIN, "completion", "fish"], { stderr: "pipe" })
    expect(fish.exitCode).toBe(1)
    expect(fish.stderr.toString()).toContain('"fish" is not bash or zsh')
  })
})
