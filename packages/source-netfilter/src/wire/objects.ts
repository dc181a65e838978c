// NFT_MSG_NEW{TABLE,CHAIN,SET,SETELEM} decoded in TypeScript (linux/netfilter/nf_tables.h;
// integers big-endian). Bytes from a socket never reach libnftnl's parsers: on malformed
// input they call exit(1) ("kernel ABI is broken") or crash. Here every length is checked
// and anything malformed is a DecodeError, nothing else.
import { DecodeError } from "@linx/netlink"
import type { Message } from "@linx/netlink/wire"

const td = new TextDecoder()

/** An object message's attributes (after the nlmsghdr and the 4-byte nfgenmsg), as a view of its bytes. */
export function messageAttrs(m: Message): Uint8Array {
  return new Uint8Array(m.view.buffer, m.view.byteOffset + m.payload + 4, m.end - m.payload - 4)
}

/** The attributes of [start, end), first of each type, bounds-checked. */
export class Attrs {
  readonly #at = new Map<number, [number, number]>()
  /** every attribute in order (for lists) */
  readonly list: [type: number, offset: number, length: number][] = []

  constructor(
    readonly view: DataView,
    start: number,
    end: number,
  ) {
    if (start > end || end > view.byteLength) throw new DecodeError(start, "attributes run past the message")
    let p = start
    while (p + 4 <= end) {
      const len = view.getUint16(p, true)
      if (len < 4 || p + len > end) throw new DecodeError(p, `nf_tables attribute length ${len} is malformed`)
      const type = view.getUint16(p + 2, true) & 0x3fff
      if (!this.#at.has(type)) this.#at.set(type, [p + 4, len - 4])
      this.list.push([type, p + 4, len - 4])
      p += (len + 3) & ~3
    }
  }

  /** Attributes of an object message: after the nlmsghdr and the 4-byte nfgenmsg. */
  static ofMessage(m: Message): { family: number; attrs: Attrs } {
    if (m.end - m.payload < 4) throw new DecodeError(m.offset, "message shorter than its nfgenmsg header")
    return { family: m.view.getUint8(m.payload), attrs: new Attrs(m.view, m.payload + 4, m.end) }
  }

  has(type: number): boolean {
    return this.#at.has(type)
  }

  str(type: number): string | undefined {
    const a = this.#at.get(type)
    if (!a) return undefined
    let n = a[1]
    while (n > 0 && this.view.getUint8(a[0] + n - 1) === 0) n--
    return td.decode(new Uint8Array(this.view.buffer, this.view.byteOffset + a[0], n))
  }

  u32(type: number): number | undefined {
    const a = this.#at.get(type)
    if (!a) return undefined
    if (a[1] < 4) throw new DecodeError(a[0], `attribute ${type} holds ${a[1]} bytes, not a 32-bit value`)
    return this.view.getUint32(a[0], false)
  }

  u64(type: number): number | undefined {
    const a = this.#at.get(type)
    if (!a) return undefined
    if (a[1] < 8) throw new DecodeError(a[0], `attribute ${type} holds ${a[1]} bytes, not a 64-bit value`)
    return Number(this.view.getBigUint64(a[0], false))
  }

  bytes(type: number): Uint8Array | undefined {
    const a = this.#at.get(type)
    return a ? new Uint8Array(this.view.buffer, this.view.byteOffset + a[0], a[1]).slice() : undefined
  }

  nested(type: number): Attrs | undefined {
    const a = this.#at.get(type)
    return a ? new Attrs(this.view, a[0], a[0] + a[1]) : undefined
  }
}

export interface TableMessage {
  family: number
  name: string
  flags: number
  handle: number
}

/** NFTA_TABLE_NAME 1, FLAGS 2, HANDLE 4 */
export function decodeTableMessage(m: Message): TableMessage {
  const { family, attrs } = Attrs.ofMessage(m)
  return { family, name: attrs.str(1) ?? "", flags: attrs.u32(2) ?? 0, handle: attrs.u64(4) ?? 0 }
}

export interface ChainMessage {
  family: number
  table: string
  name: string
  handle: number
  hook?: { num: number; priority: number; device?: string; devices?: string[] }
  policy?: number
  type?: string
}

/** NFTA_CHAIN_TABLE 1, HANDLE 2, NAME 3, HOOK 4 { HOOKNUM 1, PRIORITY 2, DEV 3, DEVS 4 { DEVICE_NAME 1 … } }, POLICY 5, TYPE 7 */
export function decodeChainMessage(m: Message): ChainMessage {
  const { family, attrs } = Attrs.ofMessage(m)
  const c: ChainMessage = { family, table: attrs.str(1) ?? "", name: attrs.str(3) ?? "", handle: attrs.u64(2) ?? 0 }
  const hook = attrs.nested(4)
  const num = hook?.u32(1)
  if (hook && num !== undefined) {
    c.hook = { num, priority: (hook.u32(2) ?? 0) | 0 }
    const dev = hook.str(3)
    if (dev) c.hook.device = dev
    // a chain on several devices lists them (the kernel dumps one device as DEV, several as DEVS)
    const devs = hook.nested(4)
    if (devs) {
      const name = (o: number, l: number) => {
        let n = l
        while (n > 0 && devs.view.getUint8(o + n - 1) === 0) n--
        return td.decode(new Uint8Array(devs.view.buffer, devs.view.byteOffset + o, n))
      }
      c.hook.devices = devs.list
        .filter(([t]) => t === 1)
        .map(([, o, l]) => name(o, l))
        .sort()
    }
  }
  const policy = attrs.u32(5)
  if (policy !== undefined) c.policy = policy
  const type = attrs.str(7)
  if (type) c.type = type
  return c
}

export interface SetMessage {
  family: number
  table: string
  name: string
  flags: number
  keyType: number
  keyLen: number
  dataType?: number
  /** milliseconds */
  timeout?: number
  handle: number
}

/** NFTA_SET_TABLE 1, NAME 2, FLAGS 3, KEY_TYPE 4, KEY_LEN 5, DATA_TYPE 6, TIMEOUT 11 (ms), HANDLE 16 */
export function decodeSetMessage(m: Message): SetMessage {
  const { family, attrs } = Attrs.ofMessage(m)
  const s: SetMessage = {
    family,
    table: attrs.str(1) ?? "",
    name: attrs.str(2) ?? "",
    flags: attrs.u32(3) ?? 0,
    keyType: attrs.u32(4) ?? 0,
    keyLen: attrs.u32(5) ?? 0,
    handle: attrs.u64(16) ?? 0,
  }
  const dataType = attrs.u32(6)
  if (dataType !== undefined) s.dataType = dataType
  const timeout = attrs.u64(11)
  if (timeout !== undefined) s.timeout = timeout
  return s
}

export interface ElementMessage {
  key: Uint8Array
  flags: number
  data?: Uint8Array
  verdict?: number
  chain?: string
  /** the element's other attributes as dumped (timeout, userdata, expressions, objref, key end), running state zeroed */
  extra?: Uint8Array
  /** its timeout, ms (to tell a set's default from its own) */
  timeout?: number
}

/** Element attributes kept as bytes: TIMEOUT 4, USERDATA 6, EXPR 7, OBJREF 9, KEY_END 10, EXPRESSIONS 11 (PAD is 8). */
const ELEMENT_EXTRA = new Set([4, 6, 7, 9, 10, 11])
/** What a per-element expression counts as it runs: zeroed, so that its key stays (counter, quota, last). */
const RUNNING: Readonly<Record<string, readonly number[]>> = { counter: [1, 2], quota: [4], last: [1, 2] }

/** Zeroes the running state of the expressions in attribute bytes b (one EXPR, or an EXPRESSIONS list). */
function zeroRunning(view: DataView, type: number, start: number, end: number): void {
  const one = (s: number, e: number) => {
    const x = new Attrs(view, s, e)
    const zero = RUNNING[x.str(1) ?? ""]
    const data = zero && x.nested(2)
    if (!data) return
    for (const [t, o, l] of data.list) if (zero.includes(t)) for (let i = 0; i < l; i++) view.setUint8(o + i, 0)
  }
  if (type === 7) one(start, end)
  else for (const [t, o, l] of new Attrs(view, start, end).list) if (t === 1) one(o, o + l)
}

/**
 * NFTA_SET_ELEM_LIST_ELEMENTS 3: NFTA_LIST_ELEM 1 { KEY 1 { VALUE 1 }, DATA 2 { VALUE 1 |
 * VERDICT 2 { CODE 1, CHAIN 2 } }, FLAGS 3 }
 */
export function decodeElementsMessage(m: Message): ElementMessage[] {
  const { attrs } = Attrs.ofMessage(m)
  const list = attrs.nested(3)
  if (!list) return []
  const out: ElementMessage[] = []
  // the kernel numbers every element 1; nft numbers them 1, 2, 3… in what it sends (the kernel reads any)
  for (const [, offset, length] of list.list) {
    const el = new Attrs(list.view, offset, offset + length)
    const e: ElementMessage = { key: el.nested(1)?.bytes(1) ?? new Uint8Array(0), flags: el.u32(3) ?? 0 }
    const extras = el.list.filter(([t]) => ELEMENT_EXTRA.has(t))
    if (extras.length) {
      const size = extras.reduce((n, [, , l]) => n + ((l + 4 + 3) & ~3), 0)
      const out = new Uint8Array(size)
      let at = 0
      for (const [t, o, l] of extras) {
        out.set(new Uint8Array(el.view.buffer, el.view.byteOffset + o - 4, l + 4), at)
        if (t === 7 || t === 11) zeroRunning(new DataView(out.buffer), t, at + 4, at + 4 + l)
        at += (l + 4 + 3) & ~3
      }
      e.extra = out
      const timeout = el.u64(4)
      if (timeout !== undefined) e.timeout = timeout
    }
    const data = el.nested(2)
    if (data) {
      const value = data.bytes(1)
      if (value) e.data = value
      const verdict = data.nested(2)
      const code = verdict?.u32(1)
      if (code !== undefined) e.verdict = code | 0
      const chain = verdict?.str(2)
      if (chain) e.chain = chain
    }
    out.push(e)
  }
  return out
}
