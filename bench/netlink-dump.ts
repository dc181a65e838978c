// Raw dump of N routes through @linx/netlink (messages walked, attributes walked,
// no route decoding) vs `ip -j route show` in the same namespace.
import { openNetlinkSocket } from "@linx/netlink"
import { forEachAttr, type MessageWriter, nl } from "@linx/netlink/wire"
import { addRatio, benchNetns, timeCommand, timeMedian } from "./harness.ts"

const RTM_GETROUTE = 26

export async function benchNetlinkDump(count: number): Promise<void> {
  using t = benchNetns()
  const file = `/tmp/linx-bench-routes-${process.pid}.txt`
  const lines: string[] = []
  for (let i = 0; i < count; i++)
    lines.push(`route add blackhole 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`)
  await Bun.write(file, `${lines.join("\n")}\n`)
  t.sh("ip", "-batch", file)
  const sock = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: t.ns })
  let seen = 0
  const ours = timeMedian(() => {
    const msgs = sock.dump((w: MessageWriter) =>
      w.begin(RTM_GETROUTE, 0).u8(2).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0).end(),
    )
    let attrs = 0
    for (const m of msgs) forEachAttr(m.view, m.payload + 12, m.end, () => attrs++)
    seen = msgs.length
    if (attrs === 0) throw new Error("no attributes walked")
  })
  sock.close()
  if (seen < count) throw new Error(`dumped ${seen} routes, expected ≥ ${count}`)
  const ip = timeCommand(t, ["ip", "-j", "route", "show"])
  addRatio(`netlink: raw dump of ${count / 1000}k routes`, ours, ip, "ip -j route show", 1.0)
}
