// What users write: valibot schemas for links, addresses and routes, and the types
// inferred from them. Every issue is reported as `path: message`.
import * as v from "valibot"
import { familyOf, formatPrefix, parsePrefix } from "@linx/netlink/ip"
import { clip, isValidLinkName, issuePath, Ip, LinkName, Mac, Mtu, NetnsName, U32 } from "./schema-common.ts"
import { NexthopSchema, RouteSpecSchema, RouteTable, routeFamilyOf } from "./schema-route.ts"

export { clip, isValidLinkName, routeFamilyOf, RouteSpecSchema, NexthopSchema }

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

export const AddressSpecSchema = v.pipe(
  v.strictObject({
    link: LinkName,
    /** "10.0.0.1/24", "fd00::1/64"; a bare address means /32 or /128 */
    address: v.pipe(
      v.string(),
      v.check(
        (s) => parsePrefix(s) !== undefined,
        (i) => `"${i.input}" is not an address with prefix (10.0.0.1/24, fd00::1/64)`,
      ),
      v.transform((s) => formatPrefix(parsePrefix(s)!)),
    ),
    peer: v.optional(Ip),
    label: v.optional(v.pipe(v.string(), v.maxLength(15, "label is longer than 15 characters"))),
    noPrefixRoute: v.optional(v.boolean()),
    nodad: v.optional(v.boolean()),
  }),
  v.check((a) => !a.peer || familyOf(a.peer) === familyOf(a.address), "peer and address must be the same family"),
  v.check(
    (a) => !a.label || a.label === a.link || a.label.startsWith(`${a.link}:`),
    'label must be the link name or start with "<link>:" (the kernel\'s rule)',
  ),
)

export const RtnlDesiredSchema = v.pipe(
  v.strictObject({
    links: v.optional(v.array(LinkSpecSchema), []),
    addresses: v.optional(v.array(AddressSpecSchema), []),
    routes: v.optional(v.array(RouteSpecSchema), []),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const { links, addresses } = dataset.value
    const names = new Map<string, number>()
    const note = (name: string, i: number, path: (string | number)[]) => {
      const prev = names.get(name)
      if (prev !== undefined) {
        addIssue({
          message: `link name "${name}" is used twice (also links.${prev})`,
          path: path.map((key) => ({
            type: "object",
            origin: "value",
            input: dataset.value,
            key,
            value: undefined,
          })) as never,
        })
      } else names.set(name, i)
    }
    links.forEach((l, i) => {
      note(l.name, i, ["links", i, "name"])
      if (l.kind === "veth") note(l.peer.name, i, ["links", i, "peer", "name"])
      if (l.master === l.name) {
        addIssue({
          message: `link "${l.name}" cannot be its own master`,
          path: [{ type: "object", origin: "value", input: dataset.value, key: "links", value: links }] as never,
        })
      }
    })
    const seen = new Set<string>()
    addresses.forEach((a, i) => {
      const key = `${a.link} ${a.address}`
      if (seen.has(key)) {
        addIssue({
          message: `address ${a.address} on ${a.link} is listed twice (addresses.${i})`,
          path: [
            { type: "object", origin: "value", input: dataset.value, key: "addresses", value: addresses },
          ] as never,
        })
      }
      seen.add(key)
    })
    const routes = new Map<string, number>()
    dataset.value.routes.forEach((r, i) => {
      // the kernel's key of a route: family, table, destination, metric (tos is always 0 here)
      const family = routeFamilyOf(r)
      const metric = r.metric ?? (family === "inet6" ? 1024 : 0)
      const key = `${family} ${r.table ?? "main"} ${r.dst} ${metric}`
      const prev = routes.get(key)
      if (prev === undefined) routes.set(key, i)
      else
        addIssue({
          message: `routes.${prev} and routes.${i} are the same route to the kernel (${r.dst}, table ${r.table ?? "main"}, metric ${metric}): one would replace the other every pass`,
          path: issuePath(dataset.value, ["routes", i, "dst"]),
        })
    })
  }),
)

const Glob = v.pipe(v.string(), v.minLength(1), v.maxLength(64))

export const RtnlOwnershipSchema = v.strictObject({
  /** link names or globs ("c1-*") this owner may create, change and delete */
  links: v.optional(v.array(Glob)),
  /** rtm_protocol stamped on and used to recognise owned routes (default 77) */
  routeProtocol: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(3, "routeProtocol 0–2 are the kernel's"), v.maxValue(255)),
  ),
  /** IFA_PROTO stamped on owned addresses (default: routeProtocol) */
  addressProtocol: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(4, "addressProtocol 0–3 are the kernel's"), v.maxValue(255)),
  ),
  /** route tables to look at for owned routes (default: every table but local) */
  tables: v.optional(v.array(RouteTable)),
  /** IFLA_GROUP stamped on created links so many can be deleted in one request (default 77) */
  linkGroup: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff))),
  /** take over a desired object that exists but was made by someone else (default false) */
  adopt: v.optional(v.boolean()),
  /**
   * Markers this owner used before (a changed routeProtocol, addressProtocol or
   * linkGroup): objects carrying them are still this loop's. Desired ones are rewritten
   * with the current marker in place; the others are deleted. `linx run` fills this in
   * when a reload changes a marker, so nothing is orphaned.
   */
  former: v.optional(
    v.strictObject({
      routeProtocols: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(3), v.maxValue(255)))),
      addressProtocols: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(4), v.maxValue(255)))),
      linkGroups: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff)))),
    }),
  ),
})

export type LinkSpec = v.InferOutput<typeof LinkSpecSchema>
export type LinkKind = LinkSpec["kind"]
export type BridgeSpec = v.InferOutput<typeof BridgeSpecSchema>
export type VethSpec = v.InferOutput<typeof VethSpecSchema>
export type MacvlanSpec = v.InferOutput<typeof MacvlanSpecSchema>
export type IpvlanSpec = v.InferOutput<typeof IpvlanSpecSchema>
export type VlanSpec = v.InferOutput<typeof VlanSpecSchema>
export type AddressSpec = v.InferOutput<typeof AddressSpecSchema>
export type RouteSpec = v.InferOutput<typeof RouteSpecSchema>
export type NexthopSpec = v.InferOutput<typeof NexthopSchema>
export type RtnlDesired = v.InferOutput<typeof RtnlDesiredSchema>
export type RtnlDesiredInput = v.InferInput<typeof RtnlDesiredSchema>
export type RtnlOwnership = v.InferOutput<typeof RtnlOwnershipSchema>

export const DEFAULT_ROUTE_PROTOCOL = 77
export const DEFAULT_LINK_GROUP = 77

/** Formats valibot issues as `path: message` lines. */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.map((i) => {
    const path = v.getDotPath(i)
    return path ? `${path}: ${i.message}` : i.message
  })
}
