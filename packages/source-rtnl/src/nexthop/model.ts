// Nexthop objects: identity is the id; ours carry nh_protocol = routeProtocol. A changed
// one is replaced in place (NLM_F_REPLACE: the routes using it follow); missing ones are
// created (members before groups), ours no longer desired deleted (groups before members).
import type { ConflictOp } from "../conflict.ts"
import type { Owner } from "../ownership.ts"
import * as c from "../wire/constants.ts"
import type { Nexthop } from "../wire/nexthop.ts"
import type { NexthopObjectSpec } from "./schema.ts"

export type { Nexthop }

export type NexthopOp =
  | { kind: "create" | "replace"; object: "nexthop"; spec: NexthopObjectSpec; protocol: number; reason?: string }
  | { kind: "delete"; object: "nexthop"; nexthop: Nexthop }

export function nexthopFamily(s: NexthopObjectSpec): "inet" | "inet6" | "unspec" {
  if (s.via) return s.via.includes(":") ? "inet6" : "inet"
  if (s.group) return "unspec"
  return s.family ?? "inet"
}

/** Why the observed nexthop is not the wanted one, or undefined. */
function differs(s: NexthopObjectSpec, o: Nexthop, linkName: (i: number) => string | undefined): string | undefined {
  if (s.group) {
    const want = s.group.map((g) => `${g.id}/${g.weight ?? 1}`).join(",")
    const have = (o.group ?? []).map((g) => `${g.id}/${g.weight}`).join(",")
    return want === have ? undefined : `group ${have || "none"} → ${want}`
  }
  if (!!s.blackhole !== o.blackhole) return "blackhole"
  if ((s.via ?? "") !== (o.gateway ?? "")) return `via ${o.gateway ?? "none"} → ${s.via ?? "none"}`
  const dev = o.oif ? linkName(o.oif) : undefined
  if (s.dev !== undefined && dev !== s.dev) return `dev ${dev ?? "none"} → ${s.dev}`
  if (!!s.onlink !== ((o.flags & c.RTNH_F_ONLINK) !== 0)) return "onlink"
  return undefined
}

export function diffNexthops(
  desired: readonly NexthopObjectSpec[] | undefined,
  observed: readonly Nexthop[],
  linkName: (i: number) => string | undefined,
  owner: Owner,
): { ops: NexthopOp[]; conflicts: ConflictOp[] } {
  const ops: NexthopOp[] = []
  const conflicts: ConflictOp[] = []
  const protocol = owner.routeProtocol
  const ours = (n: Nexthop) => n.protocol === protocol || owner.former.routeProtocols.has(n.protocol)
  const have = new Map(observed.map((n) => [n.id, n]))
  const wanted = new Set<number>()
  // members before the groups that hold them
  const sorted = [...(desired ?? [])].sort((a, b) => Number(!!a.group) - Number(!!b.group))
  for (const s of sorted) {
    wanted.add(s.id)
    const h = have.get(s.id)
    if (!h) {
      ops.push({ kind: "create", object: "nexthop", spec: s, protocol })
      continue
    }
    if (!ours(h) && !owner.adopt) {
      conflicts.push({
        kind: "conflict",
        object: "nexthop",
        key: String(s.id),
        reason: `nexthop id ${s.id} exists, made by protocol ${h.protocol} (not this loop's ${protocol}): left alone (set ownership.adopt to take it over)`,
      })
      continue
    }
    const why = differs(s, h, linkName)
    if (why || h.protocol !== protocol)
      ops.push({ kind: "replace", object: "nexthop", spec: s, protocol, reason: why ?? "marker" })
  }
  // groups before their members
  const gone = observed
    .filter((n) => !wanted.has(n.id) && ours(n))
    .sort((a, b) => Number(!!b.group) - Number(!!a.group))
  for (const n of gone) ops.push({ kind: "delete", object: "nexthop", nexthop: n })
  return { ops, conflicts }
}
