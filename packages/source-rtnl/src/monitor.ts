// rtnetlink multicast groups → hints. Link events hint the link, the addresses and the
// routes through that link (IPv4 routes vanish silently with their device); address
// events hint addresses (and, on an IPv4 deletion, the routes through its link: routes
// using a deleted source address vanish too); route events hint the one route and carry
// what the event said, so a scoped observe needs no dump.
import { subscribe, type Subscription } from "@linx/netlink"
import type { NetnsRef } from "@linx/netlink"
import { type Message, nl } from "@linx/netlink/wire"
import { isComparableRoute, observedRouteKey } from "./route/model.ts"
import { RTNL_SCOPE, type RtnlHint, type RtnlScopeEntry } from "./scope.ts"
import * as c from "./wire/constants.ts"
import { decodeLink, linkChangeMask } from "./wire/link.ts"
import { addressFamilyAndIndex } from "./wire/addr.ts"
import { decodeRoute } from "./wire/route.ts"
import { decodeNeighbor, isIpNeighbor } from "./wire/neigh.ts"
import { decodeFdb, isFdbMessage } from "./wire/fdb.ts"

export function startMonitor(netns: NetnsRef, onHint: (h: RtnlHint) => void): Subscription {
  return subscribe(nl.NETLINK_ROUTE, {
    netns,
    groups: [
      c.RTNLGRP_LINK,
      c.RTNLGRP_IPV4_IFADDR,
      c.RTNLGRP_IPV6_IFADDR,
      c.RTNLGRP_IPV4_ROUTE,
      c.RTNLGRP_IPV6_ROUTE,
      c.RTNLGRP_IPV4_RULE,
      c.RTNLGRP_IPV6_RULE,
      c.RTNLGRP_NEIGH,
      c.RTNLGRP_NEXTHOP,
    ],
    onMessages(messages: Message[]) {
      const hint = hintFor(messages)
      if (hint) onHint(hint)
    },
    onOverrun: () => onHint({ overrun: true }),
    // the subscription ended: a full look now; the loop's resync timer still heals drift
    onError: (ended) => onHint({ ended }),
  })
}

/** Turns a chunk of rtnetlink events into one hint (or none when nothing relevant changed). */
export function hintFor(messages: readonly Message[]): RtnlHint | undefined {
  const scope: RtnlScopeEntry[] = []
  let addresses = false
  let rules = false
  let neighbors = false
  let fdb = false
  let nexthops = false
  for (const m of messages) {
    switch (m.type) {
      case c.RTM_NEWLINK:
      case c.RTM_DELLINK: {
        const l = decodeLink(m)
        scope.push({ kind: RTNL_SCOPE.link, key: l.name })
        addresses = true
        // IPv4 routes through a link vanish silently when it goes down or away; a
        // notification's ifi_change says whether IFF_UP changed (~0 for a new link).
        if (m.type === c.RTM_DELLINK || linkChangeMask(m) & c.IFF_UP)
          scope.push({ kind: RTNL_SCOPE.routesOnLink, key: l.name })
        break
      }
      case c.RTM_NEWADDR:
        addresses = true
        break
      case c.RTM_NEWRULE:
      case c.RTM_DELRULE:
        rules = true
        break
      case c.RTM_NEWNEXTHOP:
      case c.RTM_DELNEXTHOP:
        nexthops = true
        break
      case c.RTM_NEWNEIGH:
      case c.RTM_DELNEIGH: {
        // the kernel learns and ages entries all the time: only static or marked ones are news
        if (isFdbMessage(m)) {
          const e = decodeFdb(m)
          if (e.state & (c.NUD.permanent | c.NUD.noarp)) fdb = true
          break
        }
        if (!isIpNeighbor(m)) break
        const n = decodeNeighbor(m)
        if (n.protocol !== 0 || n.state & (c.NUD.permanent | c.NUD.noarp)) neighbors = true
        break
      }
      case c.RTM_DELADDR: {
        addresses = true
        // IPv4 routes using a deleted address as their source vanish silently (IPv6 ones
        // come with their own RTM_DELROUTE): look at the routes through that link.
        const { family, index } = addressFamilyAndIndex(m)
        if (family === c.AF_INET) scope.push({ kind: RTNL_SCOPE.routesOnLink, key: `#${index}` })
        break
      }
      case c.RTM_NEWROUTE:
      case c.RTM_DELROUTE: {
        const r = decodeRoute(m)
        if (
          r.table === c.RT_TABLE_LOCAL ||
          r.protocol === c.RTPROT_KERNEL ||
          r.flags & c.RTM_F_CLONED ||
          !isComparableRoute(r)
        )
          break
        scope.push({ kind: RTNL_SCOPE.route, key: observedRouteKey(r), event: m.type === c.RTM_NEWROUTE ? r : null })
        break
      }
    }
  }
  if (addresses) scope.push({ kind: RTNL_SCOPE.addresses })
  if (rules) scope.push({ kind: RTNL_SCOPE.rules })
  if (neighbors) scope.push({ kind: RTNL_SCOPE.neighbors })
  if (fdb) scope.push({ kind: RTNL_SCOPE.fdb })
  if (nexthops) scope.push({ kind: RTNL_SCOPE.nexthops })
  return scope.length ? { scope } : undefined
}
