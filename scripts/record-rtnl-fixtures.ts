// Records rtnetlink dumps and events used by @linx/source-rtnl's unit tests, on the real
// kernel, in a namespace this script creates. Run as root:
//   unshare -n bun scripts/record-rtnl-fixtures.ts
import { writeFileSync } from "node:fs"
import { assertNotInitialNetns, Netns, NetlinkSocket, subscribe } from "@linx/netlink"
import { type MessageWriter, nl, type Message } from "@linx/netlink/wire"
import { RecordingTransport, toHex } from "@linx/netlink/testing"
import { MnlSocket } from "../packages/netlink/src/ffi/index.ts"
import { encodeAddressDump } from "../packages/source-rtnl/src/wire/addr.ts"
import { encodeLinkDump } from "../packages/source-rtnl/src/wire/link.ts"
import { encodeRouteDump } from "../packages/source-rtnl/src/wire/route.ts"

assertNotInitialNetns("record-rtnl-fixtures")
const dir = "packages/source-rtnl/src/wire/fixtures"
const ns = Netns.create()
const sh = (...argv: string[]) => {
  const p = ns.run(() => Bun.spawnSync(argv, { stderr: "pipe" }))
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`)
}
const SETUP = [
  "ip link set lo up",
  "ip link add br0 mtu 1400 type bridge stp_state 1",
  "ip link add v0 address 02:00:00:00:00:01 group 77 type veth peer name v1",
  "ip link set v0 master br0 up",
  "ip link set v1 up alias uplink",
  "ip link set br0 up",
  "ip link add mv0 link v1 type macvlan mode private",
  "ip addr add 10.1.0.1/24 dev br0",
  "ip addr add 10.1.0.9/32 peer 10.1.0.10 dev br0 label br0:p",
  "ip addr add fd00::1/64 dev br0 nodad",
  "ip addr add fd02::1/64 dev br0 nodad noprefixroute",
  "ip route add 10.2.0.0/16 via 10.1.0.254 proto 77 metric 10",
  "ip route add default via 10.1.0.254 table 100 proto 77",
  "ip route add 10.3.0.0/16 proto 77 nexthop via 10.1.0.253 weight 1 nexthop via 10.1.0.254 weight 3",
  "ip route add blackhole 10.4.0.0/16 proto 77",
  "ip route add 10.5.0.0/16 dev br0 mtu 1300 proto 77",
  "ip -6 route add fd01::/48 via fd00::fe dev br0 proto 77",
]
for (const line of SETUP) sh(...line.split(" "))

function recordDump(name: string, build: (w: MessageWriter) => void): void {
  const raw = ns.run(() => MnlSocket.open(nl.NETLINK_ROUTE))
  raw.setNetlinkOption(nl.NETLINK_EXT_ACK, 1)
  raw.setNetlinkOption(nl.NETLINK_GET_STRICT_CHK, 1)
  const rec = new RecordingTransport(raw)
  const s = new NetlinkSocket(rec)
  s.dump(build)
  s.close()
  const command = `unshare -n bun scripts/record-rtnl-fixtures.ts  # ${name}, after: ${SETUP.join("; ")}`
  writeFileSync(`${dir}/${name}.json`, `${JSON.stringify(rec.toRecording(command), null, 1)}\n`)
}

recordDump("link-dump", encodeLinkDump)
recordDump("addr-dump", (w) => encodeAddressDump(w))
recordDump("route4-dump", (w) => encodeRouteDump(w, { family: 2 }))
recordDump("route6-dump", (w) => encodeRouteDump(w, { family: 10, table: 254, protocol: 77 }))

// events: a route deleted, a link set down, an IPv4 address deleted
const events: string[] = []
const sub = subscribe(nl.NETLINK_ROUTE, {
  netns: ns,
  groups: [1, 5, 7, 9, 11],
  onMessages: (ms: Message[]) => {
    for (const m of ms) events.push(toHex(m.data))
  },
  onOverrun: () => {},
})
await Bun.sleep(50)
const EVENTS = ["ip route del 10.2.0.0/16", "ip link set v1 down", "ip addr del 10.1.0.1/24 dev br0"]
for (const line of EVENTS) {
  sh(...line.split(" "))
  await Bun.sleep(30)
}
await sub.close()
writeFileSync(
  `${dir}/events.json`,
  `${JSON.stringify(
    { command: `unshare -n bun scripts/record-rtnl-fixtures.ts  # events of: ${EVENTS.join("; ")}`, received: events },
    null,
    1,
  )}\n`,
)
ns.close()
console.log(`recorded ${dir}`)
