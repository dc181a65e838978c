// The seam between the source and the kernel: typed dumps and typed request batches.
// `createNetlinkKernel` is the real one (rtnetlink over @linx/netlink);
// `@linx/source-rtnl/testing` has an in-memory fake with the kernel's rules.
import {
  createTunDevice,
  NetlinkError,
  SyscallError,
  assertNetnsThere,
  isNotFound,
  type NetlinkSocket,
  Netns,
  type NetnsRef,
  openNetlinkSocket,
} from "@linx/netlink"
import { MessageWriter, nl } from "@linx/netlink/wire"
import type { Family } from "@linx/netlink/ip"
import { startMonitor } from "./monitor.ts"
import type { RtnlHint } from "./scope.ts"
import {
  type Address,
  type AddressRequest,
  decodeAddress,
  familyNumber,
  encodeAddressDump,
  encodeAddressRequest,
} from "./wire/addr.ts"
import * as c from "./wire/constants.ts"
import {
  encodeAltnames,
  decodeLink,
  encodeLinkDump,
  encodeLinkGet,
  encodeLinkRequest,
  type Link,
  type LinkRequest,
} from "./wire/link.ts"
import {
  decodeNexthop,
  encodeNexthopDump,
  encodeNexthopRequest,
  type Nexthop,
  type NexthopRequest,
} from "./wire/nexthop.ts"
import { decodeFdb, encodeFdbDump, encodeFdbRequest, type FdbEntry, type FdbRequest, isFdbMessage } from "./wire/fdb.ts"
import {
  decodeNeighbor,
  encodeNeighborDump,
  encodeNeighborRequest,
  isIpNeighbor,
  type Neighbor,
  type NeighborRequest,
} from "./wire/neigh.ts"
import { decodeRule, encodeRuleDump, encodeRuleRequest, type FibRule, type RuleRequest } from "./wire/rule.ts"
import { encodeRouteDump, encodeRouteRequest, type RouteRequest } from "./wire/route.ts"
import type { RouteTable } from "./wire/route-table.ts"

export type RtnlRequest =
  | { object: "link"; request: LinkRequest; label: string /** send from a socket in this namespace */; via?: string }
  | { object: "address"; request: AddressRequest; label: string }
  | { object: "route"; request: RouteRequest; label: string }
  | { object: "rule"; request: RuleRequest; label: string }
  | { object: "neighbor"; request: NeighborRequest; label: string }
  | { object: "fdb"; request: FdbRequest; label: string }
  | { object: "nexthop"; request: NexthopRequest; label: string }
  /** a tun/tap device: made through /dev/net/tun in the namespace (no rtnetlink message creates one) */
  | { object: "tun"; request: { name: string; mode: "tun" | "tap" }; label: string }
  | { object: "altnames"; request: { op: "add" | "del"; index: number; names: string[] }; label: string }

export interface RouteFilter {
  family: Family
  /** one table (the kernel filters); undefined = all */
  table?: number
  protocol?: number
  oif?: number
}

/** Whether a dumped route (its table and type) goes into the table. */
export type RouteKeep = (table: number, type: number) => boolean
const keepAll: RouteKeep = () => true

/**
 * A route dump (ip route show [table T] [proto P] [dev D]) packed into `into`: no object per
 * route, no datagram copied. A dump the kernel interrupts (NLM_F_DUMP_INTR) is started
 * again, and so are its routes in the table.
 */
export async function dumpRoutesInto(
  sock: NetlinkSocket,
  f: RouteFilter,
  into: RouteTable,
  keep: RouteKeep = keepAll,
): Promise<void> {
  const start = into.length
  await sock.dumpIntoAsync(
    (w) => {
      into.truncate(start) // built again for each attempt: what an interrupted one added goes
      const filter: { family: number; table?: number; protocol?: number; oif?: number } = {
        family: familyNumber(f.family),
      }
      if (f.table !== undefined) filter.table = f.table
      if (f.protocol !== undefined) filter.protocol = f.protocol
      if (f.oif !== undefined) filter.oif = f.oif
      encodeRouteDump(w, filter)
    },
    (m) => into.add(m, keep),
    { copy: false },
  )
}

export interface RtnlKernel {
  links(): Link[]
  addresses(): Address[]
  /**
   * Appends the routes `filter` selects, and `keep` (given the table and type) keeps, to
   * `into`: packed, no object per route (the real kernel's dump lets the event loop run
   * between datagrams: a promise)
   */
  routes(filter: RouteFilter, into: RouteTable, keep?: RouteKeep): void | Promise<void>
  /** policy rules of both families (ip rule show; ip -6 rule show) */
  rules(): FibRule[]
  /** IPv4 and IPv6 neighbour entries (ip neigh show) */
  neighbors(): Neighbor[]
  /** bridge forwarding entries (bridge fdb show) */
  fdb(): FdbEntry[]
  /** nexthop objects (ip nexthop show) */
  nexthops(): Nexthop[]
  /** sends the requests as one pipelined batch; returns the failures by request index (the real kernel: a promise, letting the event loop run between chunks) */
  send(requests: readonly RtnlRequest[]): Map<number, NetlinkError> | Promise<Map<number, NetlinkError>>
  /** ifindex of a link in another namespace (a macvlan/vlan parent), or undefined */
  linkIndexIn(netns: string, name: string): number | undefined
  /** one link of another namespace (a veth's far end, its master), or undefined */
  linkIn(netns: string, which: { index: number } | { name: string }): Link | undefined
  /** a descriptor of another namespace, for IFLA_NET_NS_FD (kept open until close) */
  netnsFd(netns: string): number
  /** a descriptor of the source's own namespace */
  ownNetnsFd(): number
  /** change hints from the kernel's multicast groups (the fake sends its own) */
  subscribe(onHint: (h: RtnlHint) => void): Disposable & { close(): Promise<void> }
  /** throws NetnsGoneError when the namespace is gone (the fake kernel never is) */
  assertThere?(): void
  close(): void
}

function encode(w: MessageWriter, r: RtnlRequest): void {
  switch (r.object) {
    case "link":
      encodeLinkRequest(w, r.request, r.label)
      return
    case "address":
      encodeAddressRequest(w, r.request, r.label)
      return
    case "route":
      encodeRouteRequest(w, r.request, r.label)
      return
    case "rule":
      encodeRuleRequest(w, r.request, r.label)
      return
    case "neighbor":
      encodeNeighborRequest(w, r.request, r.label)
      return
    case "fdb":
      encodeFdbRequest(w, r.request, r.label)
      return
    case "nexthop":
      encodeNexthopRequest(w, r.request, r.label)
      return
    case "altnames":
      encodeAltnames(w, r.request.op, r.request.index, r.request.names, r.label)
      return
    case "tun":
      throw new Error("a tun device is made by ioctl, not by a message")
  }
}

const HEADER_SIZE = {
  link: c.IFINFOMSG_LEN,
  address: c.IFADDRMSG_LEN,
  route: c.RTMSG_LEN,
  rule: c.FIB_RULE_HDR_LEN,
  neighbor: c.NDMSG_LEN,
  fdb: c.NDMSG_LEN,
  nexthop: c.NHMSG_LEN,
  tun: 0,
  altnames: c.IFINFOMSG_LEN,
} as const

/**
 * Sends requests as pipelined batches from this namespace's socket; the ones that must
 * come from another namespace's socket (`via`) go one by one, in order.
 */
async function sendRequests(
  sock: NetlinkSocket,
  otherSocket: (netns: string) => NetlinkSocket,
  requests: readonly RtnlRequest[],
  makeTun: (name: string, mode: "tun" | "tap") => NetlinkError | undefined,
): Promise<Map<number, NetlinkError>> {
  const failures = new Map<number, NetlinkError>()
  // Requests that must come from another namespace's socket go one by one, in order.
  let i = 0
  while (i < requests.length) {
    const r = requests[i]!
    if (r.object === "tun") {
      const e = makeTun(r.request.name, r.request.mode)
      i++
      if (!e) continue
      failures.set(i - 1, e)
      // the settings that follow for the same device are not sent: it is not ours (it may be another agent's)
      while (i < requests.length && requests[i]!.label === r.label) failures.set(i++, e)
      continue
    }
    if (r.object === "link" && r.via) {
      const w = new MessageWriter(512)
      encode(w, r)
      const res = otherSocket(r.via).batch(w, { headerSize: HEADER_SIZE.link })
      for (const f of res.failed) failures.set(i, f.error)
      i++
      continue
    }
    let j = i
    const w = new MessageWriter(64 * 1024)
    const apart = (x: RtnlRequest) => x.object === "tun" || (x.object === "link" && !!x.via)
    while (j < requests.length && !apart(requests[j]!)) {
      encode(w, requests[j]!)
      j++
    }
    const res = await sock.batchAsync(w, { headerSize: HEADER_SIZE[r.object] })
    for (const f of res.failed) failures.set(i + f.index, f.error)
    i = j
  }
  return failures
}

/** One link of a socket's namespace, by name or index, or undefined when there is none. */
function linkGet(sock: NetlinkSocket, which: { index: number } | { name: string }): Link | undefined {
  const w = new MessageWriter(128)
  encodeLinkGet(w, which)
  try {
    return sock.request(w).map(decodeLink)[0]
  } catch (e) {
    if (isNotFound(e)) return undefined
    throw e
  }
}

/** The real kernel: one request socket in the namespace, plus sockets in parents' namespaces on demand. */
export function createNetlinkKernel(netns: NetnsRef): RtnlKernel {
  const ns = Netns.open(netns)
  let sock: NetlinkSocket
  try {
    sock = openNetlinkSocket(nl.NETLINK_ROUTE, { netns: ns })
  } catch (e) {
    ns.close()
    throw e
  }
  const others = new Map<string, { ns: Netns; sock?: NetlinkSocket }>()
  let ownFd: Netns | undefined

  const other = (name: string) => {
    let o = others.get(name)
    if (!o) {
      o = { ns: Netns.open(name) }
      others.set(name, o)
    }
    return o
  }
  const otherSocket = (name: string) => {
    const o = other(name)
    o.sock ??= openNetlinkSocket(nl.NETLINK_ROUTE, { netns: o.ns })
    return o.sock
  }

  return {
    links: () => sock.dumpInto(encodeLinkDump, decodeLink),
    addresses: () => sock.dumpInto((w) => encodeAddressDump(w), decodeAddress, { copy: false }),
    routes: (f, into, keep) => dumpRoutesInto(sock, f, into, keep),
    rules: () =>
      (["inet", "inet6"] as const).flatMap((f) =>
        sock.dumpInto((w) => encodeRuleDump(w, f), decodeRule, { copy: false }),
      ),
    neighbors: () =>
      (["inet", "inet6"] as const).flatMap((f) =>
        sock.dumpInto(
          (w) => encodeNeighborDump(w, f),
          (m) => (isIpNeighbor(m) ? decodeNeighbor(m) : undefined),
          { copy: false },
        ),
      ),
    fdb: () => sock.dumpInto(encodeFdbDump, (m) => (isFdbMessage(m) ? decodeFdb(m) : undefined)),
    nexthops: () => sock.dumpInto(encodeNexthopDump, decodeNexthop),
    send: (requests) =>
      sendRequests(sock, otherSocket, requests, (name, mode) => {
        try {
          ns.run(() => createTunDevice(name, mode))
          return undefined
        } catch (e) {
          // EBUSY from IFF_TUN_EXCL: a device of that name is there, like EEXIST for a message
          const errno = e instanceof SyscallError ? (e.errno === 16 ? 17 : e.errno) : 22
          return new NetlinkError(errno, { context: `tun device ${name}: ${(e as Error).message}` })
        }
      }),
    // one link by name or index (RTM_GETLINK, no dump): a node namespace may hold a
    // thousand container far ends, and every pass of every container loop asks
    linkIndexIn: (netnsName, name) => linkGet(otherSocket(netnsName), { name })?.index,
    linkIn: (netnsName, which) => linkGet(otherSocket(netnsName), which),
    netnsFd: (name) => other(name).ns.fd,
    subscribe: (onHint) => startMonitor(netns, onHint),
    assertThere: () => assertNetnsThere(ns),
    ownNetnsFd() {
      if (!ns.isCurrent) return ns.fd
      ownFd ??= Netns.open({ path: "/proc/thread-self/ns/net" })
      return ownFd.fd
    },
    close() {
      sock.close()
      for (const o of others.values()) {
        o.sock?.close()
        o.ns.close()
      }
      others.clear()
      ownFd?.close()
      ns.close()
    },
  }
}
