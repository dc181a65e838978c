// rtnetlink multicast groups → hints. Link events hint links, addresses and the routes
// through those links (IPv4 routes vanish silently with their device); address events hint addresses (and
// routes on deletion: IPv4 routes using a deleted source address vanish too); route
// events hint the one route key, and record what the event said for a scoped observe.
import { type Message, nl, type NetnsRef, subscribe, type Subscription } from "@linx/netlink"
import { isComparableRoute, observedRouteKey, type Route } from "./route.ts"
import { decodeLink } from "./wire/link.ts"
import { decodeRoute } from "./wire/route.ts"
import * as c from "./wire/constants.ts"

/**
 * rtnl scopes: `links` (names; links are always dumped whole), `addresses` (all),
 * `routes` (true = all, or route keys), `routesOnLinks` (link names, or "#ifindex": the
 * routes through those links, dumped with the kernel's output-interface filter).
 */
export type RtnlScope = {
  links?: true | readonly string[]
  addresses?: true | readonly string[]
  routes?: true | readonly string[]
  routesOnLinks?: true | readonly string[]
}

export interface RtnlHint {
  scope?: RtnlScope
  overrun?: true
}

/**
 * The last word of the event stream per route key (the route, or null once deleted),
 * so a scoped observe of a few keys needs no 100k-route dump. Events on one socket
 * arrive in the kernel's order, so the last one per key is the kernel's state for it.
 * Cleared on overrun and before every full observe.
 */
export type RouteEventView = Map<string, Route | null>

const RTM_F_CLONED = 0x200

export function startMonitor(netns: NetnsRef, view: RouteEventView, onHint: (h: RtnlHint) => void): Subscription {
  return subscribe(nl.NETLINK_ROUTE, {
    netns,
    groups: [c.RTNLGRP_LINK, c.RTNLGRP_IPV4_IFADDR, c.RTNLGRP_IPV6_IFADDR, c.RTNLGRP_IPV4_ROUTE, c.RTNLGRP_IPV6_ROUTE],
    onMessages(messages: Message[]) {
      const hint = hintFor(messages, view)
      if (hint) onHint(hint)
    },
    onOverrun() {
      view.clear()
      onHint({ overrun: true })
    },
    onError() {
      // the subscription ended: the loop's resync timer still heals drift
      view.clear()
      onHint({ overrun: true })
    },
  })
}

/** Turns a chunk of rtnetlink events into one hint (or none when nothing relevant changed). */
export function hintFor(messages: readonly Message[], view: RouteEventView): RtnlHint | undefined {
  let links: Set<string> | undefined
  let addresses = false
  let allRoutes = false
  let routeKeys: Set<string> | undefined
  let linkIndexes: Set<string> | undefined
  let linkRoutes: Set<string> | undefined
  for (const m of messages) {
    switch (m.type) {
      case c.RTM_NEWLINK:
      case c.RTM_DELLINK: {
        const l = decodeLink(m)
        ;(links ??= new Set()).add(l.name)
        addresses = true
        // IPv4 routes through a link vanish silently when it goes down or away; a
        // notification's ifi_change says whether IFF_UP changed (~0 for a new link).
        const change = m.view.getUint32(m.payload + 12, true)
        if (m.type === c.RTM_DELLINK || change & c.IFF_UP) (linkRoutes ??= new Set()).add(l.name)
        break
      }
      case c.RTM_NEWADDR:
        addresses = true
        break
      case c.RTM_DELADDR: {
        addresses = true
        // IPv4 routes using a deleted address as their source vanish silently (IPv6 ones
        // come with their own RTM_DELROUTE): look at the routes through that link.
        const family = m.view.getUint8(m.payload)
        if (family === c.AF_INET) (linkIndexes ??= new Set()).add(`#${m.view.getUint32(m.payload + 4, true)}`)
        break
      }
      case c.RTM_NEWROUTE:
      case c.RTM_DELROUTE: {
        const r = decodeRoute(m)
        if (r.table === c.RT_TABLE_LOCAL || r.protocol === c.RTPROT_KERNEL || r.flags & RTM_F_CLONED || !isComparableRoute(r)) break
        const key = observedRouteKey(r)
        view.set(key, m.type === c.RTM_NEWROUTE ? r : null)
        ;(routeKeys ??= new Set()).add(key)
        break
      }
    }
  }
  if (!links && !addresses && !allRoutes && !routeKeys && !linkIndexes) return undefined
  const scope: { links?: true | string[]; addresses?: true; routes?: true | string[]; routesOnLinks?: string[] } = {}
  if (links) scope.links = [...links]
  if (linkRoutes || linkIndexes) scope.routesOnLinks = [...(linkRoutes ?? []), ...(linkIndexes ?? [])]
  if (addresses) scope.addresses = true
  if (allRoutes) scope.routes = true
  else if (routeKeys) scope.routes = [...routeKeys]
  return { scope }
}
