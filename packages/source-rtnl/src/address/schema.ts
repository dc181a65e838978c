// Desired addresses.
import * as v from "valibot"
import { familyOf, formatPrefix, parsePrefix } from "@linx/netlink/ip"
import { Ip, LinkName } from "../schema-common.ts"

const Lifetime = v.union(
  [v.literal("forever"), v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xfffffffe))],
  'a lifetime is a number of seconds or "forever"',
)

/** A lifetime in the kernel's seconds (forever = 0xffffffff). */
export function lifetimeSeconds(l: number | "forever" | undefined): number {
  return l === undefined || l === "forever" ? 0xffffffff : l
}

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
    /** seconds the address stays valid, or "forever" (the default); it is removed when it runs out */
    validLft: v.optional(Lifetime),
    /** seconds it stays preferred (then deprecated), at most validLft; default validLft */
    preferredLft: v.optional(Lifetime),
    /** IPv6: a Mobile IPv6 home address (IFA_F_HOMEADDRESS) */
    home: v.optional(v.boolean()),
    /** IPv6: make temporary (privacy) addresses from this prefix (IFA_F_MANAGETEMPADDR) */
    mngtmpaddr: v.optional(v.boolean()),
    /** join the multicast group of a multicast address (IFA_F_MCAUTOJOIN) */
    autojoin: v.optional(v.boolean()),
  }),
  v.check(
    (a) => lifetimeSeconds(a.preferredLft ?? a.validLft) <= lifetimeSeconds(a.validLft),
    "preferredLft is at most validLft",
  ),
  v.check(
    (a) => (!a.home && !a.mngtmpaddr) || familyOf(a.address) === "inet6",
    "home and mngtmpaddr are for IPv6 addresses",
  ),
  v.check((a) => !a.peer || familyOf(a.peer) === familyOf(a.address), "peer and address must be the same family"),
  v.check(
    (a) => !a.label || a.label === a.link || a.label.startsWith(`${a.link}:`),
    'label must be the link name or start with "<link>:" (the kernel\'s rule)',
  ),
)

export type AddressSpec = v.InferOutput<typeof AddressSpecSchema>
