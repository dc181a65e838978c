// The far end of a veth whose peer lives in another namespace (a container's pair, seen
// from the container's loop): the loop owns the pair whole, so it keeps the far end's
// settings (up, mtu, mac, master — a bridge there, read by name, never changed) and heals
// them. A link of that name there that is not our pair is another agent's: a conflict,
// never touched.
import type { ConflictOp } from "../conflict.ts"
import type { FarEnd } from "../observe.ts"
import type { LinkSpec } from "../schema.ts"
import type { Link, LinkChanges, LinkOp } from "./diff.ts"

/** Is `far` the other end of `ours`? Each end names the other's ifindex (IFLA_LINK), across namespaces. */
function isOurPair(ours: Link, far: Link): boolean {
  return far.kind === "veth" && far.linkIndex === ours.index && ours.linkIndex === far.index
}

export function diffFarEnds(
  desired: readonly LinkSpec[],
  observed: readonly Link[],
  far: readonly FarEnd[] | undefined,
): { ops: LinkOp[]; conflicts: ConflictOp[]; blocked: Set<string> } {
  const ops: LinkOp[] = []
  const conflicts: ConflictOp[] = []
  /** desired veths that cannot be created: their far end's name is taken there */
  const blocked = new Set<string>()
  if (!far?.length) return { ops, conflicts, blocked }
  const byName = new Map(observed.map((l) => [l.name, l]))
  for (const w of desired) {
    const netns = w.kind === "veth" ? w.peer.netns : undefined
    if (w.kind !== "veth" || !netns) continue
    const ours = byName.get(w.name)
    const f = far.find((x) => x.netns === w.peer.netns && x.name === w.peer.name)
    if (!ours && f?.link) {
      // the pair cannot be made: its far end's name is another agent's link there
      blocked.add(w.name)
      conflicts.push({
        kind: "conflict",
        object: "link",
        key: `${netns} ${w.peer.name}`,
        reason: `${w.peer.name} already exists in ${netns} and is not ours: ${w.name} cannot be created with that peer (left alone)`,
      })
      continue
    }
    // not created yet (the create makes both ends), or ours is gone: nothing to keep
    if (!ours || ours.linkNetnsId === undefined || !f?.link) continue
    if (!isOurPair(ours, f.link)) {
      conflicts.push({
        kind: "conflict",
        object: "link",
        key: `${w.peer.netns} ${w.peer.name}`,
        reason: `${w.peer.name} in ${w.peer.netns} is not the peer of ${w.name} (another agent's link there): left alone`,
      })
      continue
    }
    const p = w.peer
    const ch: LinkChanges = {}
    const up = p.up ?? w.up
    if (up !== undefined && up !== f.link.up) ch.up = up
    const mtu = p.mtu ?? w.mtu
    if (mtu !== undefined && mtu !== f.link.mtu) ch.mtu = mtu
    if (p.mac !== undefined && p.mac !== f.link.mac) ch.mac = p.mac
    if (p.master !== undefined && (f.master ?? null) !== p.master) ch.master = p.master
    if (Object.keys(ch).length) {
      const was: LinkChanges = {}
      if (ch.up !== undefined) was.up = f.link.up
      if (ch.mtu !== undefined) was.mtu = f.link.mtu
      if (ch.mac !== undefined && f.link.mac !== undefined) was.mac = f.link.mac
      if (ch.master !== undefined) was.master = f.master ?? null
      ops.push({
        kind: "update",
        object: "link",
        name: p.name,
        index: f.link.index,
        linkKind: "veth",
        changes: ch,
        was,
        netns,
      })
    }
  }
  return { ops, conflicts, blocked }
}
