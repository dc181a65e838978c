// What every kind's request builders share: how a name is resolved to an ifindex, and
// how a name that does not resolve is reported. The builders are with their kind
// (link/request.ts, address/request.ts, route/request.ts).
import { NetlinkError } from "@linx/netlink"
import { errno } from "@linx/netlink/wire"

/** Resolves a link name in the namespace to its ifindex (undefined: no such link). */
export type IndexOf = (name: string) => number | undefined

/** A name that does not resolve: reported like the kernel's ENODEV, labelled with the op. */
export function missing(name: string, what: string, label: string): NetlinkError {
  return new NetlinkError(errno.ENODEV, {
    extAck: { message: `${what} ${name} does not exist` },
    request: { type: 0, flags: 0, seq: 0, label },
  })
}
