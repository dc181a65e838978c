// FDB entries: identity (link, lladdr, remote, vlan, self/master) and the diff. An entry
// is this loop's when it is static and on a link this loop owns (the kernel keeps no
// marker on FDB entries): entries the bridge learned, its ports' own MACs and the
// kernel's multicast entries are never touched.
import type { ConflictOp } from "../conflict.ts"
import type { Owner } from "../ownership.ts"
import * as c from "../wire/constants.ts"
import type { FdbEntry } from "../wire/fdb.ts"
import type { FdbSpec } from "./schema.ts"

export type { FdbEntry }

export interface WantedFdb {
  link: string
  lladdr: string
  dst?: string
  vni?: number
  vlan?: number
  flags: number
  state: number
}

export type FdbOp =
  | { kind: "create"; object: "fdb"; entry: WantedFdb }
  | { kind: "delete"; object: "fdb"; entry: FdbEntry; link: string }

export function wantedFdb(s: FdbSpec): WantedFdb {
  const master = s.master ?? (s.self === undefined ? s.dst === undefined : !s.self)
  const w: WantedFdb = {
    link: s.link,
    lladdr: s.lladdr,
    flags: master ? c.NTF_MASTER : c.NTF_SELF,
    // a vxlan's entries are permanent; a bridge port's static
    state: master ? c.NUD.noarp : c.NUD.permanent,
  }
  if (s.dst) w.dst = s.dst
  if (s.vni !== undefined) w.vni = s.vni
  if (s.vlan !== undefined) w.vlan = s.vlan
  return w
}

const side = (flags: number) => (flags & c.NTF_MASTER ? "master" : "self")
export const fdbKey = (link: string, e: { lladdr: string; dst?: string; vlan?: number; flags: number }) =>
  `${link} ${e.lladdr} ${e.dst ?? ""} ${e.vlan ?? ""} ${side(e.flags)}`

/** An entry someone put there (not learned, not the kernel's own port MAC or multicast entry). */
function isStaticEntry(e: FdbEntry): boolean {
  if (e.flags & c.NTF_MASTER) return e.state === c.NUD.noarp
  return e.dst !== undefined && (e.state & c.NUD.permanent) !== 0
}

export function diffFdb(
  desired: readonly FdbSpec[] | undefined,
  observed: readonly FdbEntry[],
  linkName: (index: number) => string | undefined,
  owner: Owner,
  /** a vxlan link's own remote or group (the kernel keeps it as an all-zeros entry of its own) */
  deviceRemote: (index: number) => string | undefined = () => undefined,
): { ops: FdbOp[]; conflicts: ConflictOp[] } {
  const ops: FdbOp[] = []
  const have = new Map<string, FdbEntry>()
  for (const e of observed) {
    const link = linkName(e.index)
    if (link !== undefined) have.set(fdbKey(link, e), e)
  }
  const wanted = new Set<string>()
  for (const spec of desired ?? []) {
    const w = wantedFdb(spec)
    const key = fdbKey(w.link, w)
    if (wanted.has(key)) continue
    wanted.add(key)
    const h = have.get(key)
    // there, with the same VNI: nothing to do (another VNI: put it right)
    if (h && (h.vni === undefined || w.vni === undefined || h.vni === w.vni)) continue
    if (h) ops.push({ kind: "delete", object: "fdb", entry: h, link: w.link })
    ops.push({ kind: "create", object: "fdb", entry: w })
  }
  for (const [key, e] of have) {
    const link = key.split(" ")[0]!
    const own = e.lladdr === "00:00:00:00:00:00" && e.dst !== undefined && e.dst === deviceRemote(e.index)
    if (!wanted.has(key) && !own && owner.ownsLinkName(link) && isStaticEntry(e))
      ops.push({ kind: "delete", object: "fdb", entry: e, link })
  }
  return { ops, conflicts: [] }
}
