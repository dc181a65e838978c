// Desired neighbours (ip neigh): a static ARP/NDP entry on a link.
import * as v from "valibot"
import { Ip, LinkName, Mac } from "../schema-common.ts"

export const NeighborSpecSchema = v.pipe(
  v.strictObject({
    link: LinkName,
    /** the neighbour's IP address */
    address: Ip,
    /** its link-layer address (not needed for noarp) */
    lladdr: v.optional(Mac),
    /** permanent (default): never ages; noarp: no resolution; reachable: valid until the kernel ages it */
    state: v.optional(
      v.picklist(["permanent", "noarp", "reachable"], "state is permanent, noarp or reachable"),
      "permanent",
    ),
    /** an IPv6 neighbour that is a router */
    router: v.optional(v.boolean()),
  }),
  v.check((n) => n.state === "noarp" || n.lladdr !== undefined, "a neighbour needs its lladdr (unless state: noarp)"),
  v.check((n) => !n.router || n.address.includes(":"), "router is for IPv6 neighbours"),
)

export type NeighborSpec = v.InferOutput<typeof NeighborSpecSchema>
