// Ownership, resolved once per diff: which links, addresses and routes a loop may
// change and delete. See DESIGN §5: the names/globs handed in, and the kernel markers
// (IFA_PROTO on addresses, rtm_protocol on routes).
import { DEFAULT_LINK_GROUP, DEFAULT_ROUTE_PROTOCOL, type RtnlOwnership } from "./schema.ts"
import { RT_TABLE_MAIN } from "./wire/constants.ts"

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
}

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")
  return new RegExp(`^${body}$`)
}

export function tableNumber(t: number | "main" | undefined): number {
  return t === undefined || t === "main" ? RT_TABLE_MAIN : t
}

const cache = new WeakMap<object, Owner>()

export function resolveOwnership(o: RtnlOwnership | undefined): Owner {
  if (o && cache.has(o)) return cache.get(o)!
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
  }
  if (o) cache.set(o, owner)
  return owner
}
