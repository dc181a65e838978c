// Neighbours in kernel terms: identity (link, address), and what a desired entry is.
import * as c from "../wire/constants.ts"
import type { Neighbor } from "../wire/neigh.ts"
import type { NeighborSpec } from "./schema.ts"

export type { Neighbor }

/** A desired entry, by link name (resolved to an ifindex at apply). */
export interface WantedNeighbor {
  link: string
  family: "inet" | "inet6"
  address: string
  lladdr?: string
  state: number
  flags: number
}

export type NeighborOp =
  | { kind: "create" | "replace"; object: "neighbor"; neighbor: WantedNeighbor; protocol: number; reason?: string }
  | { kind: "delete"; object: "neighbor"; neighbor: Neighbor; link: string }

export function wantedNeighbor(s: NeighborSpec): WantedNeighbor {
  const w: WantedNeighbor = {
    link: s.link,
    family: s.address.includes(":") ? "inet6" : "inet",
    address: s.address,
    state: c.NUD[s.state],
    flags: s.router ? c.NTF_ROUTER : 0,
  }
  if (s.lladdr) w.lladdr = s.lladdr
  return w
}

/** States the kernel moves a `reachable` entry through as it ages: still the entry asked for. */
const AGING = c.NUD.reachable | c.NUD.stale | c.NUD.delay | c.NUD.probe

/** Why an observed entry is not the desired one (undefined: it is). */
export function neighborDiffers(want: WantedNeighbor, have: Neighbor): string | undefined {
  // a noarp entry without one gets the device's broadcast address from the kernel
  if (want.lladdr !== undefined && want.lladdr !== have.lladdr)
    return `lladdr ${have.lladdr ?? "none"} → ${want.lladdr}`
  const stateOk = want.state === c.NUD.reachable ? (have.state & AGING) !== 0 : have.state === want.state
  if (!stateOk) return `state ${stateName(have.state)} → ${stateName(want.state)}`
  if ((want.flags & c.NTF_ROUTER) !== (have.flags & c.NTF_ROUTER)) return "router flag"
  return undefined
}

export function stateName(state: number): string {
  const names = Object.entries(c.NUD).filter(([, bit]) => state & bit)
  return names.length ? names.map(([n]) => n).join(",") : "none"
}

/** A static entry someone made on purpose (not one the kernel learned). */
export function isStatic(n: Neighbor): boolean {
  return (n.state & (c.NUD.permanent | c.NUD.noarp)) !== 0
}
