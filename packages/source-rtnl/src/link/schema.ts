// Desired links: one schema per kind (bridge, veth, macvlan, ipvlan, vlan, dummy, device).
import * as v from "valibot"
import { Ip, LinkName, Mac, Mtu, NetnsName, U32 } from "../schema-common.ts"

const common = {
  name: LinkName,
  /** ip link set dev NAME up|down */
  up: v.optional(v.boolean()),
  mtu: v.optional(Mtu),
  /** transmit queue length (ip link set … txqueuelen N) */
  txqlen: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff))),
  /** receive every frame on the wire (ip link set … promisc on) */
  promisc: v.optional(v.boolean()),
  mac: v.optional(Mac),
  /** the bridge this link is a port of; null to detach */
  master: v.optional(v.nullable(LinkName)),
  alias: v.optional(v.pipe(v.string(), v.maxLength(255, "alias is longer than 255 bytes"))),
  /** alternative names (ip link property add … altname), up to 127 bytes each */
  altnames: v.optional(
    v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.check(
            (s) => s.length > 0 && Buffer.byteLength(s) <= 127 && !/[/:\s]/.test(s) && s !== "." && s !== "..",
            (i) => `${JSON.stringify(i.input)} is not a valid altname (1–127 bytes, no "/", ":" or spaces)`,
          ),
        ),
      ),
      v.check((a) => new Set(a).size === a.length, "an altname is listed twice"),
    ),
  ),
  group: v.optional(U32),
}

const Parent = {
  /** the lower device, by name */
  parent: LinkName,
  /** namespace of the parent when it is not this one (read only: never changed) */
  parentNetns: v.optional(NetnsName),
}

export const BridgeSpecSchema = v.strictObject({
  kind: v.literal("bridge"),
  ...common,
  stp: v.optional(v.boolean()),
  vlanFiltering: v.optional(v.boolean()),
})

export const VethPeerSchema = v.strictObject({
  name: LinkName,
  /** put the peer in another namespace (name or path) */
  netns: v.optional(NetnsName),
  up: v.optional(v.boolean()),
  mtu: v.optional(Mtu),
  mac: v.optional(Mac),
  master: v.optional(v.nullable(LinkName)),
})

export const VethSpecSchema = v.strictObject({ kind: v.literal("veth"), ...common, peer: VethPeerSchema })

export const MacvlanSpecSchema = v.strictObject({
  kind: v.literal("macvlan"),
  ...common,
  ...Parent,
  mode: v.optional(v.picklist(["private", "vepa", "bridge", "passthru", "source"]), "bridge"),
})

export const IpvlanSpecSchema = v.strictObject({
  kind: v.literal("ipvlan"),
  ...common,
  ...Parent,
  mode: v.optional(v.picklist(["l2", "l3", "l3s"]), "l3"),
})

export const VlanSpecSchema = v.strictObject({
  kind: v.literal("vlan"),
  ...common,
  ...Parent,
  vlanId: v.pipe(
    v.number("vlanId must be a number"),
    v.integer(),
    v.minValue(0),
    v.maxValue(4094, "vlanId must be 0–4094"),
  ),
  protocol: v.optional(v.picklist(["802.1q", "802.1ad"]), "802.1q"),
})

/** A VXLAN tunnel endpoint (ip link add … type vxlan id N): an overlay's L2 over UDP. */
export const VxlanSpecSchema = v.pipe(
  v.strictObject({
    kind: v.literal("vxlan"),
    ...common,
    /** the VXLAN network identifier, 0–16777215 */
    vni: v.pipe(
      v.number("vni must be a number"),
      v.integer(),
      v.minValue(0),
      v.maxValue(0xffffff, "vni is at most 16777215"),
    ),
    /** the source address of the tunnel's packets */
    local: v.optional(Ip),
    /** one far end (unicast); FDB entries add more */
    remote: v.optional(Ip),
    /** a multicast group for flooding, instead of remote (`group` in ip's words: here `group` is the link group) */
    multicastGroup: v.optional(Ip),
    /** the underlay link the tunnel's packets leave by */
    dev: v.optional(LinkName),
    /** UDP port (default 4789, IANA's) */
    dstport: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)), 4789),
    /** learn far MACs from packets (default true; off for an FDB-driven overlay) */
    learning: v.optional(v.boolean(), true),
    /** the tunnel packets' TTL (0: inherit) */
    ttl: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255))),
  }),
  v.check((x) => !(x.remote && x.multicastGroup), "give remote or multicastGroup, not both"),
  v.check((x) => {
    const fams = [x.local, x.remote, x.multicastGroup].filter(Boolean).map((a) => (a!.includes(":") ? 6 : 4))
    return new Set(fams).size <= 1
  }, "local, remote and group are of one family"),
)

/** A persistent tun (L3) or tap (L2) device, made through /dev/net/tun as `ip tuntap add` does. */
export const TuntapSpecSchema = v.strictObject({
  kind: v.literal("tuntap"),
  ...common,
  mode: v.picklist(["tun", "tap"], "mode is tun or tap"),
})

export const DummySpecSchema = v.strictObject({ kind: v.literal("dummy"), ...common })

/**
 * An existing NIC: only its settings are managed; it is never created or deleted. With
 * `netns` it is moved into that namespace (a CNI's host-device, an SR-IOV VF), renamed
 * on the way with `rename`.
 */
export const DeviceSpecSchema = v.pipe(
  v.strictObject({
    kind: v.literal("device"),
    ...common,
    netns: v.optional(NetnsName),
    /** its name in `netns` */
    rename: v.optional(LinkName),
  }),
  v.check((d) => !d.rename || d.netns !== undefined, "rename goes with netns (a device is renamed as it moves)"),
  v.check(
    (d) => !d.netns || (d.up === undefined && d.mtu === undefined && d.master === undefined && d.mac === undefined),
    "a device moved to another namespace is set up there (by that namespace's loop): give netns, rename and nothing else",
  ),
)

export const LinkSpecSchema = v.variant(
  "kind",
  [
    BridgeSpecSchema,
    VethSpecSchema,
    MacvlanSpecSchema,
    IpvlanSpecSchema,
    VlanSpecSchema,
    VxlanSpecSchema,
    TuntapSpecSchema,
    DummySpecSchema,
    DeviceSpecSchema,
  ],
  (i) =>
    `unknown link kind ${JSON.stringify(i.input)}: use bridge, veth, macvlan, ipvlan, vlan, vxlan, tuntap, dummy or device`,
)

export type LinkSpec = v.InferOutput<typeof LinkSpecSchema>
export type LinkKind = LinkSpec["kind"]
export type BridgeSpec = v.InferOutput<typeof BridgeSpecSchema>
export type VethSpec = v.InferOutput<typeof VethSpecSchema>
export type MacvlanSpec = v.InferOutput<typeof MacvlanSpecSchema>
export type IpvlanSpec = v.InferOutput<typeof IpvlanSpecSchema>
export type VlanSpec = v.InferOutput<typeof VlanSpecSchema>
export type VxlanSpec = v.InferOutput<typeof VxlanSpecSchema>
