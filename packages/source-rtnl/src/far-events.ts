// Link events of the namespaces where veths' far ends live, shared by every source of the
// process: one subscription per namespace, each event decoded once and handed to the
// sources whose far end it names. (One subscription per container loop would deliver
// every node link event to a thousand sockets: measured, 54 s to converge 1000 pairs
// and 81 ms heals; shared, like here, it stays one socket.)
import { type Subscription, subscribe } from "@linx/netlink"
import { nl } from "@linx/netlink/wire"
import * as c from "./wire/constants.ts"
import { decodeLink } from "./wire/link.ts"

type OnChange = (overrun: boolean) => void

interface Watched {
  sub: Subscription
  /** far-end name → who to tell */
  byName: Map<string, Set<OnChange>>
}

export class FarLinkEvents {
  readonly #namespaces = new Map<string, Watched>()

  /** Calls `onChange(false)` when link `name` of `netns` changes, `onChange(true)` when events were lost. */
  watch(netns: string, name: string, onChange: OnChange): Disposable {
    let w = this.#namespaces.get(netns)
    if (!w) {
      const byName = new Map<string, Set<OnChange>>()
      const sub = subscribe(nl.NETLINK_ROUTE, {
        netns,
        groups: [c.RTNLGRP_LINK],
        receiveBufferBytes: 8 << 20,
        onMessages(ms) {
          for (const m of ms) {
            if (m.type !== c.RTM_NEWLINK && m.type !== c.RTM_DELLINK) continue
            for (const f of byName.get(decodeLink(m).name) ?? []) f(false)
          }
        },
        onOverrun: () => {
          for (const set of byName.values()) for (const f of set) f(true)
        },
        onError: () => {
          for (const set of byName.values()) for (const f of set) f(true)
        },
      })
      w = { sub, byName }
      this.#namespaces.set(netns, w)
    }
    let set = w.byName.get(name)
    if (!set) {
      set = new Set()
      w.byName.set(name, set)
    }
    set.add(onChange)
    const watched = w
    const mine = set
    return {
      [Symbol.dispose]: () => {
        mine.delete(onChange)
        if (!mine.size) watched.byName.delete(name)
        if (watched.byName.size || this.#namespaces.get(netns) !== watched) return
        this.#namespaces.delete(netns)
        void watched.sub.close()
      },
    }
  }
}

/** The process's far-end events (one subscription per namespace for every source). */
export const sharedFarLinkEvents = new FarLinkEvents()
