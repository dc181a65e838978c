// Ownership, resolved once per diff: which links, addresses and routes a loop may
// change and delete. See DESIGN §5: the names/globs handed in, and the kernel markers
// (IFA_PROTO on addresses, rtm_protocol on routes).
import { DEFAULT_LINK_GROUP, DEFAULT_ROUTE_PROTOCOL, type RtnlOwnership } from "./schema.ts"
import { tableNumber } from "./route/schema.ts"

export interface Owner {
  /** true when a link of this name may be created, changed and deleted by this loop */
  ownsLinkName(name: string): boolean
  /** whether links were given by name/glob (else only desired names are owned, never deleted) */
  readonly hasLinkGlobs: boolean
  readonly routeProtocol: number
  readonly addressProtocol: number
  /** route tables to observe; undefined = all but local */
  readonly tables: ReadonlySet<number> | undefined
  readonly linkGroup: number
  readonly adopt: boolean
  /** markers this owner used before: what carries them is still its own */
  readonly former: {
    readonly routeProtocols: ReadonlySet<number>
    readonly addressProtocols: ReadonlySet<number>
    readonly linkGroups: ReadonlySet<number>
  }
}

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".")
  return new RegExp(`^${body}$`)
}

/** Resolved ownership by the (immutable, validated) ownership object: one per source. */
export type OwnerMemo = WeakMap<object, Owner>

export function resolveOwnership(o: RtnlOwnership | undefined, cache?: OwnerMemo): Owner {
  const cached = o && cache?.get(o)
  if (cached) return cached
  const globs = o?.links?.map(globToRegExp)
  const exact = new Set(o?.links?.filter((g) => !/[*?]/.test(g)))
  const routeProtocol = o?.routeProtocol ?? DEFAULT_ROUTE_PROTOCOL
  const owner: Owner = {
    ownsLinkName: (name) => name !== "lo" && (exact.has(name) || (globs?.some((r) => r.test(name)) ?? false)),
    hasLinkGlobs: !!globs?.length,
    routeProtocol,
    addressProtocol: o?.addressProtocol ?? routeProtocol,
    tables: o?.tables ? new Set(o.tables.map(tableNumber)) : undefined,
    linkGroup: o?.linkGroup ?? DEFAULT_LINK_GROUP,
    adopt: o?.adopt ?? false,
    former: {
      routeProtocols: new Set(o?.former?.routeProtocols),
      addressProtocols: new Set(o?.former?.addressProtocols),
      linkGroups: new Set(o?.former?.linkGroups),
    },
  }
  if (o) cache?.set(o, owner)
  return owner
}

/**
 * May this loop change (or replace) this existing link? Links named by ownership.links
 * (names or globs); links carrying this loop's group marker (the links it created: the
 * group it gives them, `desired.group` or ownership.linkGroup), never a device, whose
 * group says nothing about who made it; with ownership.adopt, any desired link but a
 * device. Never `lo`. Naming a link in desired state alone does not make it ours: an
 * existing link that is not ours is a conflict, left alone. The diff and `linx show`
 * both ask this, so what `show` marks owned is what `plan` may touch.
 */
/**
 * The near end of a veth whose pair lives in another namespace, made from there (it does
 * not carry this owner's group): it belongs to the loop on the other side (a container's
 * loop owns its pair whole), whatever names or globs this owner was handed.
 */
function othersPair(owner: Owner, link: { kind: string; group: number; linkNetnsId?: number | undefined }): boolean {
  return link.kind === "veth" && link.linkNetnsId !== undefined && link.group !== owner.linkGroup
}

export function ownsLink(
  owner: Owner,
  link: { name: string; kind: string; group: number; linkNetnsId?: number | undefined },
  desired: { group?: number | undefined } | undefined,
): boolean {
  if (link.name === "lo" || othersPair(owner, link)) return false
  if (owner.ownsLinkName(link.name)) return true
  if (!desired || link.kind === "device") return false
  return owner.adopt || link.group === (desired.group ?? owner.linkGroup) || owner.former.linkGroups.has(link.group)
}

/** May this loop delete this link when desired state no longer names it? Only by ownership.links, never a device. */
export function deletesLink(
  owner: Owner,
  link: { name: string; kind: string; group: number; linkNetnsId?: number | undefined },
): boolean {
  return link.name !== "lo" && link.kind !== "device" && !othersPair(owner, link) && owner.ownsLinkName(link.name)
}

/** An address carrying the owner's IFA_PROTO, or (with adopt) one desired state names. */
export function ownsAddress(owner: Owner, proto: number, desiredKey: boolean): boolean {
  return proto === owner.addressProtocol || owner.former.addressProtocols.has(proto) || (owner.adopt && desiredKey)
}

/** A route carrying the owner's protocol in an owned table, or (with adopt) one desired state names. */
export function ownsRoute(owner: Owner, route: { protocol: number; table: number }, desired: boolean): boolean {
  if (owner.tables && !owner.tables.has(route.table)) return false
  return (
    route.protocol === owner.routeProtocol ||
    owner.former.routeProtocols.has(route.protocol) ||
    (owner.adopt && desired)
  )
}

/**
 * The ownership to use when it changes from `before` to `next` (a reload): every marker
 * `before` used that `next` does not is kept in `next.former`, so what carries it stays
 * this owner's and is rewritten with the new marker, never orphaned. `changed` says
 * which markers moved ("route protocol 77 → 78"), for the log.
 */
export function carryOwnership(
  before: RtnlOwnership | undefined,
  next: RtnlOwnership | undefined,
): { ownership: RtnlOwnership; changed: string[] } {
  const a = resolveOwnership(before)
  const b = resolveOwnership(next)
  const out: RtnlOwnership = { ...(next ?? {}) }
  const changed: string[] = []
  const carry = (what: string, key: "routeProtocols" | "addressProtocols" | "linkGroups", old: number, now: number) => {
    const formerly = new Set([...(next?.former?.[key] ?? []), ...(before?.former?.[key] ?? [])])
    if (old !== now) {
      formerly.add(old)
      changed.push(`${what} ${old} → ${now}`)
    }
    formerly.delete(now)
    if (formerly.size) out.former = { ...out.former, [key]: [...formerly].sort((x, y) => x - y) }
  }
  carry("route protocol", "routeProtocols", a.routeProtocol, b.routeProtocol)
  carry("address protocol", "addressProtocols", a.addressProtocol, b.addressProtocol)
  carry("link group", "linkGroups", a.linkGroup, b.linkGroup)
  return { ownership: out, changed }
}
