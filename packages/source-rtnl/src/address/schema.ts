// Desired addresses.
import * as v from "valibot"
import { familyOf, formatPrefix, parsePrefix } from "@linx/netlink/ip"
import { Ip, LinkName } from "../schema-common.ts"

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

export type AddressSpec = v.InferOutput<typeof AddressSpecSchema>
