// Desired links: one schema per kind (bridge, veth, macvlan, ipvlan, vlan, dummy, device).
import * as v from "valibot"
import { LinkName, Mac, Mtu, NetnsName, U32 } from "../schema-common.ts"

const common = {
  name: LinkName,
  /** ip link set dev NAME up|down */
  up: v.optional(v.boolean()),
  mtu: v.optional(Mtu),
  mac: v.optional(Mac),
  /** the bridge this link is a port of; null to detach */
  master: v.optional(v.nullable(LinkName)),
  alias: v.optional(v.pipe(v.string(), v.maxLength(255, "alias is longer than 255 bytes"))),
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

export const DummySpecSchema = v.strictObject({ kind: v.literal("dummy"), ...common })

/** An existing NIC: only its settings are managed; it is never created or deleted. */
export const DeviceSpecSchema = v.strictObject({ kind: v.literal("device"), ...common })

export const LinkSpecSchema = v.variant(
  "kind",
  [
    BridgeSpecSchema,
    VethSpecSchema,
    MacvlanSpecSchema,
    IpvlanSpecSchema,
    VlanSpecSchema,
    DummySpecSchema,
    DeviceSpecSchema,
  ],
  (i) => `unknown link kind ${JSON.stringify(i.input)}: use bridge, veth, macvlan, ipvlan, vlan, dummy or device`,
)

export type LinkSpec = v.InferOutput<typeof LinkSpecSchema>
export type LinkKind = LinkSpec["kind"]
export type BridgeSpec = v.InferOutput<typeof BridgeSpecSchema>
export type VethSpec = v.InferOutput<typeof VethSpecSchema>
export type MacvlanSpec = v.InferOutput<typeof MacvlanSpecSchema>
export type IpvlanSpec = v.InferOutput<typeof IpvlanSpecSchema>
export type VlanSpec = v.InferOutput<typeof VlanSpecSchema>
