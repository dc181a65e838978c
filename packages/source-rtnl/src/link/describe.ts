// The `ip link` text of link ops.
import { assertNever } from "../conflict.ts"
import type { LinkChanges, LinkOp } from "./diff.ts"

const quote = (s: string) => (/^[\w.:@/-]+$/.test(s) ? s : JSON.stringify(s))

export function describeChanges(name: string, ch: LinkChanges): string {
  const parts = [`ip link set dev ${name}`]
  if (ch.mtu !== undefined) parts.push(`mtu ${ch.mtu}`)
  if (ch.txqlen !== undefined) parts.push(`txqueuelen ${ch.txqlen}`)
  if (ch.promisc !== undefined) parts.push(`promisc ${ch.promisc ? "on" : "off"}`)
  if (ch.mac !== undefined) parts.push(`address ${ch.mac}`)
  if (ch.group !== undefined) parts.push(`group ${ch.group}`)
  if (ch.alias !== undefined) parts.push(`alias ${quote(ch.alias)}`)
  if (ch.master !== undefined) parts.push(ch.master === null ? "nomaster" : `master ${ch.master}`)
  if (ch.up !== undefined) parts.push(ch.up ? "up" : "down")
  if (ch.netns !== undefined) parts.push(`netns ${ch.netns}`)
  if (ch.rename !== undefined) parts.push(`name ${ch.rename}`)
  if (ch.stp !== undefined || ch.vlanFiltering !== undefined) {
    parts.push("type bridge")
    if (ch.stp !== undefined) parts.push(`stp_state ${ch.stp ? 1 : 0}`)
    if (ch.vlanFiltering !== undefined) parts.push(`vlan_filtering ${ch.vlanFiltering ? 1 : 0}`)
  }
  const lines = parts.length > 1 ? [parts.join(" ")] : []
  if (ch.altnamesDel)
    lines.push(`ip link property del dev ${name} ${ch.altnamesDel.map((n) => `altname ${n}`).join(" ")}`)
  if (ch.altnamesAdd)
    lines.push(`ip link property add dev ${name} ${ch.altnamesAdd.map((n) => `altname ${n}`).join(" ")}`)
  return lines.length ? lines.join("; ") : parts.join(" ")
}

/** "  # was mtu 1300, down": the observed values of what an update changes. */
export function describeWas(was: LinkChanges | undefined): string {
  if (!was) return ""
  const parts: string[] = []
  if (was.mtu !== undefined) parts.push(`mtu ${was.mtu}`)
  if (was.txqlen !== undefined) parts.push(`txqueuelen ${was.txqlen}`)
  if (was.promisc !== undefined) parts.push(`promisc ${was.promisc ? "on" : "off"}`)
  if (was.mac !== undefined) parts.push(`address ${was.mac}`)
  if (was.group !== undefined) parts.push(`group ${was.group}`)
  if (was.alias !== undefined) parts.push(was.alias ? `alias ${quote(was.alias)}` : "no alias")
  if (was.master !== undefined) parts.push(was.master === null ? "nomaster" : `master ${was.master}`)
  if (was.up !== undefined) parts.push(was.up ? "up" : "down")
  if (was.stp !== undefined) parts.push(`stp_state ${was.stp ? 1 : 0}`)
  if (was.vlanFiltering !== undefined) parts.push(`vlan_filtering ${was.vlanFiltering ? 1 : 0}`)
  return parts.length ? `  # was ${parts.join(", ")}` : ""
}

/** ip tuntap add NAME mode M, then what it takes from ip link (group, settings). */
function describeTuntap(s: Extract<LinkOp, { kind: "create" }>["spec"] & { kind: "tuntap" }, group: number): string {
  const then = [`group ${group}`]
  if (s.mtu !== undefined) then.push(`mtu ${s.mtu}`)
  if (s.mac !== undefined) then.push(`address ${s.mac}`)
  if (s.alias !== undefined) then.push(`alias ${quote(s.alias)}`)
  if (s.master) then.push(`master ${s.master}`)
  if (s.up !== undefined) then.push(s.up ? "up" : "down")
  return `ip tuntap add ${s.name} mode ${s.mode}; ip link set dev ${s.name} ${then.join(" ")}`
}

export function describeLinkCreate(op: Extract<LinkOp, { kind: "create" }>): string {
  const s = op.spec
  const parts = ["ip link add"]
  if (s.kind === "vlan" || s.kind === "macvlan" || s.kind === "ipvlan")
    parts.push(`link ${s.parent}${s.parentNetns ? ` (in ${s.parentNetns})` : ""}`)
  parts.push(s.name)
  if (s.mtu !== undefined && s.kind !== "bridge") parts.push(`mtu ${s.mtu}`)
  if (s.mac !== undefined) parts.push(`address ${s.mac}`)
  parts.push(`group ${op.group}`, `type ${s.kind}`)
  switch (s.kind) {
    case "bridge":
      if (s.stp !== undefined) parts.push(`stp_state ${s.stp ? 1 : 0}`)
      if (s.vlanFiltering !== undefined) parts.push(`vlan_filtering ${s.vlanFiltering ? 1 : 0}`)
      break
    case "veth":
      parts.push(`peer name ${s.peer.name}`)
      if (s.peer.netns) parts.push(`netns ${s.peer.netns}`)
      break
    case "macvlan":
    case "ipvlan":
      parts.push(`mode ${s.mode}`)
      break
    case "vlan":
      parts.push(`protocol ${s.protocol} id ${s.vlanId}`)
      break
    case "vxlan":
      parts.push(`id ${s.vni}`)
      if (s.remote) parts.push(`remote ${s.remote}`)
      if (s.multicastGroup) parts.push(`group ${s.multicastGroup}`)
      if (s.local) parts.push(`local ${s.local}`)
      if (s.dev) parts.push(`dev ${s.dev}`)
      parts.push(`dstport ${s.dstport}`)
      if (!s.learning) parts.push("nolearning")
      if (s.ttl !== undefined) parts.push(`ttl ${s.ttl}`)
      break
    case "tuntap":
      return describeTuntap(s, op.group)
    case "dummy":
    case "device":
      break
    default:
      assertNever(s)
  }
  const then: string[] = []
  // (a bridge's mtu after creation: see linkCreate)
  if (s.kind === "bridge" && s.mtu !== undefined) then.push(`mtu ${s.mtu}`)
  if (s.alias !== undefined) then.push(`alias ${quote(s.alias)}`)
  if (s.master) then.push(`master ${s.master}`)
  if (s.up !== undefined) then.push(s.up ? "up" : "down")
  const made = then.length ? `${parts.join(" ")}; ip link set dev ${s.name} ${then.join(" ")}` : parts.join(" ")
  return s.altnames?.length
    ? `${made}; ip link property add dev ${s.name} ${s.altnames.map((n) => `altname ${n}`).join(" ")}`
    : made
}

/** The `ip link` command equivalent to a link op. */
export function describeLinkOp(op: LinkOp): string {
  switch (op.kind) {
    case "create":
      return describeLinkCreate(op)
    case "update":
      return op.netns
        ? `${describeChanges(op.name, op.changes)}  # in ${op.netns}${describeWas(op.was).replace("  #", ";")}`
        : describeChanges(op.name, op.changes) + describeWas(op.was)
    case "delete":
      return `ip link del dev ${op.name}`
  }
}
