// Walks a receive buffer as a sequence of netlink messages and their attributes.
// Malformed lengths raise DecodeError with the byte offset; nothing loops or reads
// past the end.
import { DecodeError } from "../errors.ts"
import { align4, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from "./constants.ts"

/** One received message. `data` is the whole message (header included); it is not copied. */
export interface Message {
  readonly type: number
  readonly flags: number
  readonly seq: number
  readonly pid: number
  /** the message bytes, nlmsghdr included (a view, made on demand) */
  readonly data: Uint8Array
  /** a DataView over the receive buffer */
  readonly view: DataView
  /** offset of the nlmsghdr within `view` */
  readonly offset: number
  /** offset of the payload (after nlmsghdr) within `view` */
  readonly payload: number
  /** offset of the end of this message within `view` */
  readonly end: number
}

/** A message in a receive buffer; `data` is made on demand (dumps hold 100k of these). */
class ReceivedMessage implements Message {
  readonly type: number
  readonly flags: number
  readonly seq: number
  readonly pid: number
  readonly payload: number
  readonly end: number
  constructor(
    readonly view: DataView,
    readonly offset: number,
    len: number,
  ) {
    this.type = view.getUint16(offset + 4, true)
    this.flags = view.getUint16(offset + 6, true)
    this.seq = view.getUint32(offset + 8, true)
    this.pid = view.getUint32(offset + 12, true)
    this.payload = offset + NLMSG_HDRLEN
    this.end = offset + len
  }
  get data(): Uint8Array {
    return new Uint8Array(this.view.buffer, this.view.byteOffset + this.offset, this.end - this.offset)
  }
}

/** The length of the message at p, checked against the header size and the bytes left. */
function messageLength(view: DataView, p: number, length: number): number {
  if (length - p < NLMSG_HDRLEN) throw new DecodeError(p, `${length - p} trailing bytes, shorter than a header`)
  const len = view.getUint32(p, true)
  if (len < NLMSG_HDRLEN) throw new DecodeError(p, `nlmsg_len ${len} is shorter than the header`)
  if (len > length - p) throw new DecodeError(p, `nlmsg_len ${len} runs past the end (${length - p} bytes left)`)
  return len
}

/**
 * Parses `length` bytes of `buf` into messages. Each message's `nlmsg_len` is checked
 * against the header size and the bytes left.
 */
export function parseMessages(buf: Uint8Array, length = buf.byteLength, out: Message[] = []): Message[] {
  const view = new DataView(buf.buffer, buf.byteOffset, length)
  let p = 0
  while (p < length) {
    const len = messageLength(view, p, length)
    out.push(new ReceivedMessage(view, p, len))
    p += align4(len)
  }
  return out
}

/** A message object reused from one datagram to the next (MessageReuse). */
class ReusedMessage implements Message {
  type = 0
  flags = 0
  seq = 0
  pid = 0
  payload = 0
  end = 0
  offset = 0
  constructor(public view: DataView) {}
  get data(): Uint8Array {
    return new Uint8Array(this.view.buffer, this.view.byteOffset + this.offset, this.end - this.offset)
  }
}

/**
 * parseMessages for a receive loop over one reused buffer: the message objects and the
 * array are reused too, so each call's messages are valid only until the next call
 * (a million-route dump then makes no object per message).
 */
export class MessageReuse {
  readonly #out: Message[] = []
  readonly #pool: ReusedMessage[] = []
  #view: DataView | undefined

  parse(buf: Uint8Array, length: number): Message[] {
    if (!this.#view || this.#view.buffer !== buf.buffer || this.#view.byteOffset !== buf.byteOffset) {
      this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
      for (const m of this.#pool) m.view = this.#view
    }
    const view = this.#view
    const out = this.#out
    out.length = 0
    let p = 0
    while (p < length) {
      const len = messageLength(view, p, length)
      let m = this.#pool[out.length]
      if (!m) {
        m = new ReusedMessage(view)
        this.#pool.push(m)
      }
      m.type = view.getUint16(p + 4, true)
      m.flags = view.getUint16(p + 6, true)
      m.seq = view.getUint32(p + 8, true)
      m.pid = view.getUint32(p + 12, true)
      m.offset = p
      m.payload = p + NLMSG_HDRLEN
      m.end = p + len
      out.push(m)
      p += align4(len)
    }
    return out
  }
}

/**
 * Calls `visit(type, offset, length)` for each attribute in [start, end) of `view`
 * (type without NLA_F_NESTED/NLA_F_NET_BYTEORDER; offset of the payload).
 */
export function forEachAttr(
  view: DataView,
  start: number,
  end: number,
  visit: (type: number, offset: number, length: number) => void,
): void {
  let p = start
  while (p + NLA_HDRLEN <= end) {
    const len = view.getUint16(p, true)
    if (len < NLA_HDRLEN) throw new DecodeError(p, `nla_len ${len} is shorter than the attribute header`)
    if (p + len > end) throw new DecodeError(p, `nla_len ${len} runs past the end of its container`)
    visit(view.getUint16(p + 2, true) & NLA_TYPE_MASK, p + NLA_HDRLEN, len - NLA_HDRLEN)
    p += align4(len)
  }
}

/** Attributes of [start, end) as an array indexed by type: [payloadOffset, length] pairs. */
export function indexAttrs(view: DataView, start: number, end: number): (readonly [number, number] | undefined)[] {
  const table: (readonly [number, number] | undefined)[] = []
  forEachAttr(view, start, end, (type, off, len) => {
    table[type] = [off, len]
  })
  return table
}

const decoder = new TextDecoder()

/** A NUL-terminated (or not) string attribute. */
export function readString(view: DataView, offset: number, length: number): string {
  let n = length
  while (n > 0 && view.getUint8(offset + n - 1) === 0) n--
  return decoder.decode(new Uint8Array(view.buffer, view.byteOffset + offset, n))
}

/** A copy of the bytes of an attribute. */
export function readBytes(view: DataView, offset: number, length: number): Uint8Array {
  return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + length))
}

/** A message's fixed family header (ifinfomsg, ifaddrmsg, rtmsg, nfgenmsg): whole, or DecodeError. */
export function requireHeader(m: Message, length: number, name: string): void {
  if (m.end - m.payload < length)
    throw new DecodeError(m.offset, `message type ${m.type} holds ${m.end - m.payload} bytes, shorter than its ${name}`)
}

function requireLength(offset: number, length: number, need: number): void {
  if (length < need) throw new DecodeError(offset, `attribute holds ${length} bytes where ${need} are needed`)
}

/** The host-order u32 of an attribute, which must hold 4 bytes. */
export function readU32(view: DataView, offset: number, length: number): number {
  requireLength(offset, length, 4)
  return view.getUint32(offset, true)
}

/** The host-order i32 of an attribute, which must hold 4 bytes. */
export function readI32(view: DataView, offset: number, length: number): number {
  requireLength(offset, length, 4)
  return view.getInt32(offset, true)
}

/** The u16 of an attribute (host order unless `bigEndian`), which must hold 2 bytes. */
export function readU16(view: DataView, offset: number, length: number, bigEndian = false): number {
  requireLength(offset, length, 2)
  return view.getUint16(offset, !bigEndian)
}

/** The u8 of an attribute, which must hold a byte. */
export function readU8(view: DataView, offset: number, length: number): number {
  requireLength(offset, length, 1)
  return view.getUint8(offset)
}
