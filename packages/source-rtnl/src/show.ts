// What `linx show` prints for rtnl: every link, address and route observed, each marked
// owned exactly when the diff may touch it (the predicates of ownership.ts).
import { expandLinks } from "./link/diff.ts"
import type { RtnlObserved } from "./observe.ts"
import { deletesLink, type Owner, ownsAddress, ownsLink, ownsRoute, resolveOwnership } from "./ownership.ts"
import { observedRouteKey, wantedRoute, wantedRouteKey } from "./route/model.ts"
import type { RtnlDesired, RtnlOwnership } from "./schema.ts"
import * as c from "./wire/constants.ts"
import { ruleText } from "./rule/describe.ts"
import { stateName } from "./neighbor/model.ts"

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
  const desiredRoutes = new Set((desired?.routes ?? []).map((r) => wantedRouteKey(wantedRoute(r))))
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
  const routes = (o.routes?.toArray() ?? []).map((route) => {
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
  const more = extraSections(o, owner, names)
  sections.push(...more.sections)
  return { sections, json: { links, addresses, routes, rules, ...more.json } }
}

/** Neighbours, nexthops and static forwarding entries. */
function extraSections(o: RtnlObserved, owner: Owner, names: ReadonlyMap<number, string>) {
  const sections: ShowSection[] = []
  const ourProto = (p: number) => p === owner.routeProtocol || owner.former.routeProtocols.has(p)
  const neighbors = (o.neighbors ?? []).map((n) => ({ ...n, link: names.get(n.index), owned: ourProto(n.protocol) }))
  sections.push({
    title: "neighbours",
    columns: ["link", "address", "lladdr", "state", "proto"],
    rows: neighbors.map((n) => ({
      owned: n.owned,
      cells: [n.link ?? `#${n.index}`, n.address, n.lladdr ?? "", stateName(n.state), String(n.protocol || "")],
    })),
  })
  const nexthops = (o.nexthops ?? []).map((n) => ({ ...n, dev: names.get(n.oif), owned: ourProto(n.protocol) }))
  sections.push({
    title: "nexthops",
    columns: ["id", "nexthop", "proto"],
    rows: nexthops.map((n) => ({
      owned: n.owned,
      cells: [
        String(n.id),
        n.group
          ? `group ${n.group.map((g) => (g.weight > 1 ? `${g.id},${g.weight}` : g.id)).join("/")}`
          : n.blackhole
            ? "blackhole"
            : [n.gateway ? `via ${n.gateway}` : "", n.dev ? `dev ${n.dev}` : ""].filter(Boolean).join(" "),
        c.ROUTE_PROTOCOL_NAMES[n.protocol] ?? String(n.protocol),
      ],
    })),
  })
  // forwarding entries someone put there (a vxlan's remotes, a port's static MACs): not the learned ones
  const fdb = (o.fdb ?? [])
    .filter((e) => e.dst !== undefined || e.state === c.NUD.noarp)
    .map((e) => {
      const link = names.get(e.index)
      return { ...e, link, owned: link !== undefined && owner.ownsLinkName(link) }
    })
  sections.push({
    title: "forwarding entries (static)",
    columns: ["link", "lladdr", "dst", "vni", "side"],
    rows: fdb.map((e) => ({
      owned: e.owned,
      cells: [
        e.link ?? `#${e.index}`,
        e.lladdr,
        e.dst ?? "",
        e.vni === undefined ? "" : String(e.vni),
        e.flags & c.NTF_MASTER ? "master" : "self",
      ],
    })),
  })
  return { sections, json: { neighbors, nexthops, fdb } }
}
