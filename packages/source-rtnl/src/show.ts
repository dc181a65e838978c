// What `linx show` prints for rtnl: every link, address and route observed, each marked
// owned exactly when the diff may touch it (the predicates of ownership.ts).
import { expandLinks } from "./link/diff.ts"
import type { RtnlObserved } from "./observe.ts"
import { deletesLink, ownsAddress, ownsLink, ownsRoute, resolveOwnership } from "./ownership.ts"
import { observedRouteKey, wantedRoute } from "./route/model.ts"
import type { RtnlDesired, RtnlOwnership } from "./schema.ts"
import * as c from "./wire/constants.ts"
import { ruleText } from "./rule/describe.ts"

export interface ShowSection {
  title: string
  columns: string[]
  rows: { cells: string[]; owned: boolean }[]
}

const isDefault = (dst: string) => dst === "0.0.0.0/0" || dst === "::/0"

/** Rows for a person and JSON for a program, of what observe() saw. */
export function showRtnl(o: RtnlObserved, desired: RtnlDesired | undefined, ownership: RtnlOwnership | undefined) {
  const owner = resolveOwnership(ownership)
  const names = new Map(o.links.map((l) => [l.index, l.name]))
  const desiredLinks = new Map(expandLinks(desired?.links ?? []).map((l) => [l.name, "group" in l ? l : {}]))
  const desiredAddresses = new Set((desired?.addresses ?? []).map((a) => `${a.link} ${a.address}`))
  const desiredRoutes = new Set((desired?.routes ?? []).map((r) => wantedRoute(r).key))
  const links = o.links.map((l) => ({
    ...l,
    master: l.masterIndex ? names.get(l.masterIndex) : undefined,
    owned: desiredLinks.has(l.name) ? ownsLink(owner, l, desiredLinks.get(l.name)) : deletesLink(owner, l),
  }))
  const addresses = (o.addresses ?? []).map((a) => {
    const link = names.get(a.index)
    return {
      ...a,
      link,
      owned: link !== undefined && ownsAddress(owner, a.proto, desiredAddresses.has(`${link} ${a.address}`)),
    }
  })
  const routes = (o.routes ?? []).map((route) => {
    const { id: _id, ...r } = route
    return { ...r, dev: names.get(r.oif), owned: ownsRoute(owner, r, desiredRoutes.has(observedRouteKey(route))) }
  })
  const sections: ShowSection[] = [
    {
      title: "links",
      columns: ["index", "name", "kind", "state", "mtu", "mac", "master", "group"],
      rows: links.map((l) => ({
        owned: l.owned,
        cells: [
          String(l.index),
          l.name,
          l.kind,
          l.up ? "up" : "down",
          String(l.mtu),
          l.mac ?? "",
          l.master ?? "",
          String(l.group),
        ],
      })),
    },
    {
      title: "addresses",
      columns: ["link", "address", "peer", "proto"],
      rows: addresses.map((a) => ({
        owned: a.owned,
        cells: [a.link ?? `#${a.index}`, a.address, a.peer ?? "", c.ADDRESS_PROTOCOL_NAMES[a.proto] ?? String(a.proto)],
      })),
    },
    {
      title: "routes",
      columns: ["table", "dst", "via", "dev", "metric", "type", "proto"],
      rows: routes.map((r) => ({
        owned: r.owned,
        cells: [
          r.table === c.RT_TABLE_MAIN ? "main" : String(r.table),
          isDefault(r.dst) ? `default${r.family === "inet6" ? " (v6)" : ""}` : r.dst,
          r.gateway ?? (r.nexthops ? r.nexthops.map((n) => n.gateway ?? "").join(",") : ""),
          r.dev ?? "",
          String(r.priority),
          c.ROUTE_TYPE_NAMES[r.type] ?? String(r.type),
          c.ROUTE_PROTOCOL_NAMES[r.protocol] ?? String(r.protocol),
        ],
      })),
    },
  ]
  const rules = (o.rules ?? []).map((r) => ({
    ...r,
    owned: r.protocol === owner.routeProtocol || owner.former.routeProtocols.has(r.protocol),
  }))
  sections.push({
    title: "rules",
    columns: ["family", "rule", "proto"],
    rows: rules.map((r) => ({
      owned: r.owned,
      cells: [
        r.family === "inet6" ? "ip -6" : "ip",
        ruleText({ ...r, protocol: 0 }),
        c.ROUTE_PROTOCOL_NAMES[r.protocol] ?? String(r.protocol),
      ],
    })),
  })
  return { sections, json: { links, addresses, routes, rules } }
}
