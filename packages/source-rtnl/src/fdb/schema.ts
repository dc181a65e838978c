// Desired bridge forwarding entries (bridge fdb).
import * as v from "valibot"
import { Ip, LinkName, Mac } from "../schema-common.ts"

export const FdbSpecSchema = v.pipe(
  v.strictObject({
    /** the vxlan device, or the bridge port */
    link: LinkName,
    /** the MAC; 00:00:00:00:00:00 on a vxlan is its flood list (one entry per remote) */
    lladdr: Mac,
    /** a vxlan remote (VTEP) the MAC is sent to */
    dst: v.optional(Ip),
    /** the VNI at that remote, when it is not the device's */
    vni: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffff))),
    /** a bridge port's entry on one VLAN */
    vlan: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4094))),
    /** the entry is the bridge's (a port's MAC, `master`) rather than the device's own (`self`, a vxlan's);
     * default: self with dst, master without */
    master: v.optional(v.boolean()),
    /** the device's own entry (bridge fdb … self): the opposite of master */
    self: v.optional(v.boolean()),
  }),
  v.check(
    (f) => f.master === undefined || f.self === undefined || f.master !== f.self,
    "master and self are opposites: give one",
  ),
  v.check(
    (f) => !((f.master || f.self === false) && f.dst),
    "a remote (dst) is a vxlan's own entry, not the bridge's (master: false)",
  ),
)

export type FdbSpec = v.InferOutput<typeof FdbSpecSchema>
