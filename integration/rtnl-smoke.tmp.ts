import { Netns } from "@linx/netlink"
import { createRtnlSource, RtnlDesiredSchema } from "@linx/source-rtnl"
import * as v from "valibot"
import { makeTestNetns } from "./shell.ts"
const ns = Netns.create()
const t = makeTestNetns(ns)
t.sh("ip", "link", "set", "lo", "up")
const src = createRtnlSource({ netns: ns })
const desired = v.parse(RtnlDesiredSchema, {
  links: [
    { name: "br-lan", kind: "bridge", up: true, mtu: 1500 },
    { name: "lan-a", kind: "veth", peer: { name: "lan-b" }, master: "br-lan", up: true },
  ],
  addresses: [{ link: "br-lan", address: "10.10.0.1/24" }, { link: "br-lan", address: "fd10::1/64", nodad: true }],
  routes: [
    { dst: "10.20.0.0/16", via: "10.10.0.254" },
    { dst: "default", via: "10.10.0.254", table: 100, metric: 50 },
    { dst: "10.30.0.0/16", nexthops: [{ via: "10.10.0.253" }, { via: "10.10.0.254", weight: 2 }] },
    { dst: "fd20::/48", via: "fd10::fe" },
    { dst: "10.99.0.0/16", type: "blackhole" },
  ],
})
const own = { links: ["br-lan", "lan-*"], routeProtocol: 77 }
let obs = await src.observe()
let ops = src.diff(desired, obs, own)
for (const op of ops) console.log(src.describe(op))
const rep = await src.reconcile(ops)
console.log("applied", rep.applied.length, "failed", rep.failed.map((f) => `${src.describe(f.op)} -> ${f.error.message}`))
obs = await src.observe()
ops = src.diff(desired, obs, own)
console.log("second diff:", ops.map((o) => src.describe(o)))
console.log(t.sh("ip", "-d", "link"))
console.log(t.sh("ip", "addr"))
console.log(t.sh("ip", "route", "show", "table", "all"))
await src.close()
ns.close()
