// Records the netlink fixtures used by @linx/netlink's unit tests, on the real kernel,
// in a namespace this script creates. Run as root:
//   unshare -n bun scripts/record-fixtures.ts
import { writeFileSync } from "node:fs"
import { assertNotInitialNetns, Netns, NetlinkSocket } from "@linx/netlink"
import { MessageWriter, nl } from "@linx/netlink/wire"
import { MnlSocket } from "../packages/netlink/src/ffi/index.ts"
import { RecordingTransport } from "@linx/netlink/testing"

assertNotInitialNetns("record-fixtures")
const dir = "packages/netlink/src/fixtures"
const ns = Netns.create()
ns.run(() => {
  Bun.spawnSync(["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"])
  Bun.spawnSync(["ip", "link", "set", "lo", "up"])
})

function record(name: string, command: string, fn: (s: NetlinkSocket) => void): void {
  const raw = ns.run(() => MnlSocket.open(nl.NETLINK_ROUTE))
  raw.setNetlinkOption(nl.NETLINK_EXT_ACK, 1)
  raw.setNetlinkOption(nl.NETLINK_CAP_ACK, 1)
  raw.setNetlinkOption(nl.NETLINK_GET_STRICT_CHK, 1)
  const rec = new RecordingTransport(raw)
  const s = new NetlinkSocket(rec)
  try {
    fn(s)
  } catch {
    // failures are what some fixtures record
  }
  s.close()
  const r = rec.toRecording(command)
  writeFileSync(`${dir}/${name}.json`, `${JSON.stringify({ ...r, portId: raw.portId }, null, 1)}\n`)
}

const CMD = "unshare -n bun scripts/record-fixtures.ts"
// RTM_GETLINK dump; namespace holds lo (up) and a veth pair v0/v1.
record("link-dump", `${CMD}  # RTM_GETLINK dump: lo, v0, v1`, (s) => {
  s.dump((w) => w.begin(18, 0).u8(0).u8(0).u16(0).i32(0).u32(0).u32(0).end())
})
// RTM_NEWLINK of an unknown kind: the kernel refuses with an extended ack.
record("newlink-unknown-kind", `${CMD}  # ip link add x0 type nonexistentkind`, (s) => {
  const w = new MessageWriter()
  w.begin(16, nl.NLM_F_CREATE | nl.NLM_F_EXCL)
    .u8(0)
    .u8(0)
    .u16(0)
    .i32(0)
    .u32(0)
    .u32(0)
    .attrString(3, "x0")
  const li = w.nestStart(18)
  w.attrString(1, "nonexistentkind").nestEnd(li).end()
  s.request(w, { headerSize: 16 })
})
// RTM_NEWROUTE dump request with a non-zero rtm_dst_len under strict checking: the kernel
// answers with a message and an offset.
record("route-dump-bad-header", `${CMD}  # strict RTM_GETROUTE dump with rtm_dst_len=8`, (s) => {
  s.dump((w) => w.begin(26, 0).u8(2).u8(8).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0).end())
})
ns.close()
console.log("recorded fixtures in", dir)
