// The seam to nf_tables: a consistent look (observe.ts) and one transaction per apply
// (transaction.ts) over one @linx/netlink socket. The fake in testing/ keeps a ruleset
// in memory with the same rules.
import type { Writer } from "./learn.ts"
import { assertNetnsThere, type NetlinkSocket, Netns, type NetnsRef, openNetlinkSocket } from "@linx/netlink"
import { nfnl, nl } from "@linx/netlink/wire"
import type { NftObserved, TableParts } from "./model.ts"
import type { NftHint } from "./monitor.ts"
import { createNftObserver } from "./observe.ts"
import type { NftOp } from "./ops.ts"
import { createNftTransaction } from "./transaction.ts"

export interface NftKernel {
  /** a consistent look (generation before and after equal); chains and rules only for `tables` when given */
  observe(tables?: ReadonlySet<string>, parts?: ReadonlyMap<string, TableParts>): NftObserved
  /** one transaction; failures by op index (all ops fail when any does: nothing was applied) */
  apply(ops: readonly NftOp[], options: { genId?: number; check?: boolean; writer?: Writer }): Map<number, Error>
  /** a fake's own change events (the real kernel's come from the nftables multicast group) */
  subscribe?(onHint: (h: NftHint) => void): Disposable & { close(): Promise<void> }
  /** the port id of the socket transactions are sent on: events it caused are echoes */
  readonly portId?: number
  /** throws NetnsGoneError when the namespace is gone (the fake kernel never is) */
  assertThere?(): void
  close(): void
}

/** Looks taken while the ruleset keeps changing before observe gives up. */
const LOOKS = 6

export function createNftKernel(netns: NetnsRef): NftKernel {
  const ns = Netns.open(netns)
  let sock: NetlinkSocket
  try {
    sock = openNetlinkSocket(nl.NETLINK_NETFILTER, {
      netns: ns,
      strict: false,
      sendBufferBytes: 64 << 20,
      receiveBufferBytes: 32 << 20,
    })
  } catch (e) {
    ns.close()
    throw e
  }
  const look = createNftObserver(sock)
  const transaction = createNftTransaction(sock)
  return {
    observe(tables, chains) {
      for (let attempt = 1; ; attempt++) {
        const o = look(tables, chains)
        if (nfnl.getGeneration(sock) === o.genId) return o
        if (attempt >= LOOKS)
          throw new Error(`the nftables ruleset kept changing during ${LOOKS} consecutive looks; try again`)
      }
    },
    apply: (ops, options) => transaction.apply(ops, options),
    get portId() {
      return sock.portId
    },
    assertThere: () => assertNetnsThere(ns),
    close() {
      sock.close()
      ns.close()
    },
  }
}
