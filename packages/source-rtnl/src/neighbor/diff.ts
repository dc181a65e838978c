// The diff of neighbours: an entry is (link, address). Ours carry NDA_PROTOCOL =
// routeProtocol. A missing desired entry is added; one of ours that differs, or one the
// kernel learned (reachable, stale, …: nobody's), is replaced; a static entry someone
// else made is a conflict unless `adopt`; ours no longer desired are deleted.
import type { ConflictOp } from "../conflict.ts"
import type { Owner } from "../ownership.ts"
import { isStatic, type Neighbor, type NeighborOp, neighborDiffers, wantedNeighbor } from "./model.ts"
import type { NeighborSpec } from "./schema.ts"

export function diffNeighbors(
  desired: readonly NeighborSpec[] | undefined,
  observed: readonly Neighbor[],
  linkName: (index: number) => string | undefined,
  owner: Owner,
): { ops: NeighborOp[]; conflicts: ConflictOp[] } {
  const ops: NeighborOp[] = []
  const conflicts: ConflictOp[] = []
  const protocol = owner.routeProtocol
  const ours = (n: Neighbor) => n.protocol === protocol || owner.former.routeProtocols.has(n.protocol)
  const have = new Map<string, Neighbor>()
  for (const n of observed) {
    const link = linkName(n.index)
    if (link !== undefined) have.set(`${link} ${n.address}`, n)
  }
  const wanted = new Set<string>()
  for (const spec of desired ?? []) {
    const want = wantedNeighbor(spec)
    const key = `${want.link} ${want.address}`
    if (wanted.has(key)) continue
    wanted.add(key)
    const h = have.get(key)
    if (!h) {
      ops.push({ kind: "create", object: "neighbor", neighbor: want, protocol })
      continue
    }
    const why = neighborDiffers(want, h)
    if (ours(h)) {
      if (why || h.protocol !== protocol)
        ops.push({ kind: "replace", object: "neighbor", neighbor: want, protocol, reason: why ?? "marker" })
      continue
    }
    if (isStatic(h) && !owner.adopt) {
      conflicts.push({
        kind: "conflict",
        object: "neighbor",
        key,
        reason: `neighbour ${h.address} on ${want.link} is a static entry made by someone else (protocol ${h.protocol}): left alone (set ownership.adopt to take it over)`,
      })
      continue
    }
    // learned by the kernel (or adopted): made ours
    ops.push({ kind: "replace", object: "neighbor", neighbor: want, protocol, reason: why ?? "marker" })
  }
  for (const [key, n] of have)
    if (!wanted.has(key) && ours(n))
      ops.push({ kind: "delete", object: "neighbor", neighbor: n, link: key.split(" ")[0]! })
  return { ops, conflicts }
}
