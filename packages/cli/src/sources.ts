// The sources the CLI knows, and how `show` presents what each observes.
import type { NetnsRef } from "@linx/netlink"
import type { AnySource } from "@linx/reconcile"
import { createRtnlSource, RtnlDesiredSchema, RtnlOwnershipSchema, DEFAULT_ROUTE_PROTOCOL, type RtnlObserved, type RtnlOwnership } from "@linx/source-rtnl"
import type { StandardSchemaV1 } from "@standard-schema/spec"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { Netns } from "@linx/netlink"
import { commonText, createNftSource, NftDesiredSchema, NftOwnershipSchema, type NftObserved } from "@linx/source-netfilter"
import { createSysctlSource, keyName, keyPath, SysctlDesiredSchema, SysctlOwnershipSchema, type SysctlObserved } from "@linx/source-sysctl"

export interface ShowSection {
  title: string
  columns: string[]
  rows: { cells: string[]; owned: boolean }[]
}

export interface SourceEntry {
  kind: string
  schema: StandardSchemaV1<unknown, unknown>
  ownershipSchema?: StandardSchemaV1<unknown, unknown>
  defaultOwnership: unknown
  create(netns: NetnsRef): AnySource
  /** what `show` prints, and its JSON form */
  show(observed: unknown, ownership: unknown): { sections: ShowSection[]; json: unknown }
  /** for `show` without a file: what to list when no desired state says what to look at */
  showAll?(netns: NetnsRef): { sections: ShowSection[]; json: unknown }
  /** let the source learn what desired state it will be asked about (sysctl reads only those keys) */
  prime?(source: AnySource, desired: unknown, ownership: unknown): Promise<void>
}

const PROTO: Record<number, string> = { 0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static" }

function showRtnl(o: RtnlObserved, ownershipIn: unknown) {
  const own = (ownershipIn ?? {}) as RtnlOwnership
  const proto = own.routeProtocol ?? DEFAULT_ROUTE_PROTOCOL
  const aproto = own.addressProtocol ?? proto
  const globs = (own.links ?? []).map((g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`))
  const ownsLink = (n: string) => globs.some((r) => r.test(n))
  const names = new Map(o.links.map((l) => [l.index, l.name]))
  const links = o.links.map((l) => ({ ...l, master: l.masterIndex ? names.get(l.masterIndex) : undefined, owned: ownsLink(l.name) }))
  const addresses = (o.addresses ?? []).map((a) => ({ ...a, link: names.get(a.index), owned: a.proto === aproto }))
  const routes = (o.routes ?? []).map((r) => ({ ...r, dev: names.get(r.oif), owned: r.protocol === proto }))
  const sections: ShowSection[] = [
    {
      title: "links",
      columns: ["index", "name", "kind", "state", "mtu", "mac", "master", "group"],
      rows: links.map((l) => ({
        owned: l.owned,
        cells: [String(l.index), l.name, l.kind, l.up ? "up" : "down", String(l.mtu), l.mac ?? "", l.master ?? "", String(l.group)],
      })),
    },
    {
      title: "addresses",
      columns: ["link", "address", "peer", "proto"],
      rows: addresses.map((a) => ({ owned: a.owned, cells: [a.link ?? `#${a.index}`, a.address, a.peer ?? "", PROTO[a.proto] ?? String(a.proto)] })),
    },
    {
      title: "routes",
      columns: ["table", "dst", "via", "dev", "metric", "type", "proto"],
      rows: routes.map((r) => ({
        owned: r.owned,
        cells: [
          r.table === 254 ? "main" : String(r.table),
          r.dst === "0.0.0.0/0" || r.dst === "::/0" ? `default${r.family === "inet6" ? " (v6)" : ""}` : r.dst,
          r.gateway ?? (r.nexthops ? r.nexthops.map((n) => n.gateway ?? "").join(",") : ""),
          r.dev ?? "",
          String(r.priority),
          ({ 1: "unicast", 6: "blackhole", 7: "unreachable", 8: "prohibit" } as Record<number, string>)[r.type] ?? String(r.type),
          PROTO[r.protocol] ?? String(r.protocol),
        ],
      })),
    },
  ]
  const json = {
    links: links.map(({ owned, ...l }) => ({ ...l, owned })),
    addresses: addresses.map(({ owned, ...a }) => ({ ...a, owned })),
    routes: routes.map(({ owned, id: _id, ...r }) => ({ ...r, owned })),
  }
  return { sections, json }
}

function showNft(obs: NftObserved, ownershipIn: unknown): { sections: ShowSection[]; json: unknown } {
  const owned = new Set(((ownershipIn as { tables?: { family: string; name: string }[] } | undefined)?.tables ?? []).map((t) => `${t.family} ${t.name}`))
  const rows: ShowSection["rows"] = []
  for (const t of obs.tables) {
    const own = owned.has(`${t.family} ${t.name}`)
    rows.push({ owned: own, cells: [`${t.family} ${t.name}`, "", "", ""] })
    for (const c of t.chains ?? []) {
      rows.push({ owned: own, cells: ["", c.name, c.hook ? `${c.type} ${c.hook} ${c.priority} ${c.policy}` : "", `${c.rules.length} rules`] })
      for (const r of c.rules) rows.push({ owned: own, cells: ["", "", `#${r.handle}`, r.common ? commonText(r.common) + (r.comment ? ` comment "${r.comment}"` : "") : `raw: ${r.exprs.map((e) => e.type).join(" ")}`] })
    }
  }
  return {
    sections: [{ title: `nftables (generation ${obs.genId})`, columns: ["table", "chain", "", "rules"], rows }],
    json: { genId: obs.genId, tables: obs.tables.map((t) => ({ ...t, owned: owned.has(`${t.family} ${t.name}`) })) },
  }
}

const ENTRIES: Record<string, SourceEntry> = {
  rtnl: {
    kind: "rtnl",
    schema: RtnlDesiredSchema as StandardSchemaV1<unknown, unknown>,
    ownershipSchema: RtnlOwnershipSchema as StandardSchemaV1<unknown, unknown>,
    defaultOwnership: {},
    create: (netns) => createRtnlSource({ netns }),
    show: (o, own) => showRtnl(o as RtnlObserved, own),
  },
  netfilter: {
    kind: "netfilter",
    schema: NftDesiredSchema as StandardSchemaV1<unknown, unknown>,
    ownershipSchema: NftOwnershipSchema as StandardSchemaV1<unknown, unknown>,
    defaultOwnership: { tables: [] },
    create: (netns) => createNftSource({ netns }),
    show: (o, own) => showNft(o as NftObserved, own),
  },
  sysctl: {
    kind: "sysctl",
    schema: SysctlDesiredSchema as StandardSchemaV1<unknown, unknown>,
    ownershipSchema: SysctlOwnershipSchema as StandardSchemaV1<unknown, unknown>,
    defaultOwnership: {},
    create: (netns) => createSysctlSource({ netns }),
    async prime(source, desired, ownership) {
      source.diff(desired, await source.observe(), ownership)
    },
    show(o) {
      const obs = o as SysctlObserved
      const rows = [...obs.values].map(([k, v]) => ({ owned: true, cells: [keyName(k), v.trim().split(/\s+/).join(" ")] }))
      for (const k of obs.pending) rows.push({ owned: true, cells: [keyName(k), "(pending: its interface does not exist)"] })
      for (const [k, f] of obs.unreadable) rows.push({ owned: true, cells: [keyName(k), `(unreadable: ${f.code})`] })
      return {
        sections: [{ title: "sysctl", columns: ["key", "value"], rows }],
        json: {
          values: Object.fromEntries([...obs.values].map(([k, v]) => [keyName(k), v.trim().split(/\s+/).join(" ")])),
          pending: [...obs.pending].map(keyName),
          unreadable: Object.fromEntries([...obs.unreadable].map(([k, f]) => [keyName(k), f.code])),
        },
      }
    },
    showAll(netns) {
      // every key under /proc/sys/net of the namespace (sysctl -a net), read on the JS thread while switched
      const ns = Netns.open(netns)
      try {
        const values = ns.run(() => {
          const out: [string, string][] = []
          const walk = (dir: string) => {
            for (const name of readdirSync(dir)) {
              const p = `${dir}/${name}`
              const st = statSync(p)
              if (st.isDirectory()) walk(p)
              else if (st.mode & 0o444) {
                try {
                  out.push([keyName(keyPath(p.slice("/proc/sys/".length))), readFileSync(p, "utf8").trim().split(/\s+/).join(" ")])
                } catch {
                  // write-only or vanished
                }
              }
            }
          }
          walk("/proc/sys/net")
          return out
        })
        return {
          sections: [{ title: "sysctl net.* (no file given: nothing is owned)", columns: ["key", "value"], rows: values.map(([k, v]) => ({ owned: false, cells: [k, v] })) }],
          json: { values: Object.fromEntries(values) },
        }
      } finally {
        ns.close()
      }
    },
  },
}

export function sourceEntry(kind: string): SourceEntry | undefined {
  return ENTRIES[kind]
}

export const SOURCE_KINDS = Object.keys(ENTRIES)
