// Packs many netlink messages into one growable buffer, for one sendto().
//
//   struct nlmsghdr { __u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags;
//                     __u32 nlmsg_seq; __u32 nlmsg_pid; };          (linux/netlink.h)
//   struct nlattr   { __u16 nla_len; __u16 nla_type; };             (payload 4-aligned)
import { align4, NLA_F_NESTED, NLA_HDRLEN, NLMSG_HDRLEN } from "./constants.ts"

const encoder = new TextEncoder()

export class MessageWriter {
  #buf: Uint8Array
  #view: DataView
  #pos = 0
  #msgStart = -1
  #starts: number[] = []
  #labels: (string | undefined)[] = []

  constructor(initialSize = 16 * 1024) {
    this.#buf = new Uint8Array(initialSize)
    this.#view = new DataView(this.#buf.buffer)
  }

  /** Number of finished messages. */
  get count(): number {
    return this.#starts.length
  }

  /** Bytes the buffer holds before it must grow. */
  get capacity(): number {
    return this.#buf.byteLength
  }

  /** Total bytes written. */
  get length(): number {
    return this.#pos
  }

  /** Byte offset of message i. */
  offsetOf(i: number): number {
    const o = this.#starts[i]
    if (o === undefined) throw new RangeError(`no message ${i}`)
    return o
  }

  labelOf(i: number): string | undefined {
    return this.#labels[i]
  }

  #ensure(n: number): void {
    const need = this.#pos + n
    if (need <= this.#buf.byteLength) return
    let size = this.#buf.byteLength * 2
    while (size < need) size *= 2
    const next = new Uint8Array(size)
    next.set(this.#buf.subarray(0, this.#pos))
    this.#buf = next
    this.#view = new DataView(next.buffer)
  }

  /** Starts a message; seq and pid are filled in by the socket at send time. */
  begin(type: number, flags: number, label?: string): this {
    if (this.#msgStart >= 0) throw new Error("MessageWriter.begin: previous message not ended")
    this.#ensure(NLMSG_HDRLEN)
    this.#msgStart = this.#pos
    const v = this.#view
    v.setUint32(this.#pos, 0, true)
    v.setUint16(this.#pos + 4, type, true)
    v.setUint16(this.#pos + 6, flags, true)
    v.setUint32(this.#pos + 8, 0, true)
    v.setUint32(this.#pos + 12, 0, true)
    this.#pos += NLMSG_HDRLEN
    this.#labels.push(label)
    return this
  }

  /** Appends a complete message built elsewhere (e.g. by libnftnl), nlmsghdr included. */
  raw(message: Uint8Array, label?: string): this {
    if (this.#msgStart >= 0) throw new Error("MessageWriter.raw: a message is still open")
    const len = new DataView(message.buffer, message.byteOffset).getUint32(0, true)
    if (len > message.byteLength || len < 16)
      throw new Error(`MessageWriter.raw: nlmsg_len ${len} does not fit ${message.byteLength} bytes`)
    this.#ensure(align4(len))
    this.#starts.push(this.#pos)
    this.#labels.push(label)
    this.#buf.set(message.subarray(0, len), this.#pos)
    this.#pos += len
    this.#pad()
    return this
  }

  /** Ends the current message: writes nlmsg_len. */
  end(): this {
    if (this.#msgStart < 0) throw new Error("MessageWriter.end: no message begun")
    this.#view.setUint32(this.#msgStart, this.#pos - this.#msgStart, true)
    this.#starts.push(this.#msgStart)
    this.#msgStart = -1
    return this
  }

  /** Drops a begun message (e.g. when encoding it threw). */
  abort(): this {
    if (this.#msgStart >= 0) {
      this.#pos = this.#msgStart
      this.#msgStart = -1
      this.#labels.pop()
    }
    return this
  }

  // Raw fields of a family header (ifinfomsg, rtmsg, nfgenmsg, ...).
  u8(v: number): this {
    this.#ensure(1)
    this.#view.setUint8(this.#pos, v)
    this.#pos += 1
    return this
  }
  u16(v: number): this {
    this.#ensure(2)
    this.#view.setUint16(this.#pos, v, true)
    this.#pos += 2
    return this
  }
  u16be(v: number): this {
    this.#ensure(2)
    this.#view.setUint16(this.#pos, v, false)
    this.#pos += 2
    return this
  }
  u32(v: number): this {
    this.#ensure(4)
    this.#view.setUint32(this.#pos, v >>> 0, true)
    this.#pos += 4
    return this
  }
  i32(v: number): this {
    this.#ensure(4)
    this.#view.setInt32(this.#pos, v, true)
    this.#pos += 4
    return this
  }
  zeros(n: number): this {
    this.#ensure(n)
    this.#buf.fill(0, this.#pos, this.#pos + n)
    this.#pos += n
    return this
  }
  bytes(b: Uint8Array): this {
    this.#ensure(b.byteLength)
    this.#buf.set(b, this.#pos)
    this.#pos += b.byteLength
    return this
  }

  #attrHeader(type: number, payloadLen: number): void {
    this.#ensure(align4(NLA_HDRLEN + payloadLen))
    this.#view.setUint16(this.#pos, NLA_HDRLEN + payloadLen, true)
    this.#view.setUint16(this.#pos + 2, type, true)
    this.#pos += NLA_HDRLEN
  }
  #pad(): void {
    const aligned = align4(this.#pos)
    if (aligned !== this.#pos) {
      this.#buf.fill(0, this.#pos, aligned)
      this.#pos = aligned
    }
  }

  attrFlag(type: number): this {
    this.#attrHeader(type, 0)
    return this
  }
  attrU8(type: number, v: number): this {
    this.#attrHeader(type, 1)
    this.#view.setUint8(this.#pos, v)
    this.#pos += 1
    this.#pad()
    return this
  }
  attrU16(type: number, v: number): this {
    this.#attrHeader(type, 2)
    this.#view.setUint16(this.#pos, v, true)
    this.#pos += 2
    this.#pad()
    return this
  }
  attrU16be(type: number, v: number): this {
    this.#attrHeader(type, 2)
    this.#view.setUint16(this.#pos, v, false)
    this.#pos += 2
    this.#pad()
    return this
  }
  attrU32(type: number, v: number): this {
    this.#attrHeader(type, 4)
    this.#view.setUint32(this.#pos, v >>> 0, true)
    this.#pos += 4
    return this
  }
  attrU32be(type: number, v: number): this {
    this.#attrHeader(type, 4)
    this.#view.setUint32(this.#pos, v >>> 0, false)
    this.#pos += 4
    return this
  }
  attrI32(type: number, v: number): this {
    this.#attrHeader(type, 4)
    this.#view.setInt32(this.#pos, v, true)
    this.#pos += 4
    return this
  }
  attrU64(type: number, v: bigint): this {
    this.#attrHeader(type, 8)
    this.#view.setBigUint64(this.#pos, v, true)
    this.#pos += 8
    return this
  }
  attrU64be(type: number, v: bigint): this {
    this.#attrHeader(type, 8)
    this.#view.setBigUint64(this.#pos, v, false)
    this.#pos += 8
    return this
  }
  /** NUL-terminated string attribute (NLA_NUL_STRING / NLA_STRING). */
  attrString(type: number, s: string): this {
    const b = encoder.encode(s)
    this.#attrHeader(type, b.byteLength + 1)
    this.#buf.set(b, this.#pos)
    this.#buf[this.#pos + b.byteLength] = 0
    this.#pos += b.byteLength + 1
    this.#pad()
    return this
  }
  attrBytes(type: number, b: Uint8Array): this {
    this.#attrHeader(type, b.byteLength)
    this.#buf.set(b, this.#pos)
    this.#pos += b.byteLength
    this.#pad()
    return this
  }
  /** Opens a nested attribute; pass the returned token to nestEnd(). */
  nestStart(type: number): number {
    const at = this.#pos
    this.#attrHeader(type | NLA_F_NESTED, 0)
    return at
  }
  /** Opens a nested attribute without NLA_F_NESTED (some old families expect that). */
  nestStartPlain(type: number): number {
    const at = this.#pos
    this.#attrHeader(type, 0)
    return at
  }
  nestEnd(token: number): this {
    this.#view.setUint16(token, this.#pos - token, true)
    return this
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Uint8Array {
    if (this.#msgStart >= 0) throw new Error("MessageWriter.finish: a message is still open")
    return this.#buf.subarray(0, this.#pos)
  }

  /** A view of messages [from, to). */
  slice(from: number, to: number): Uint8Array {
    const start = this.offsetOf(from)
    const end = to >= this.#starts.length ? this.#pos : this.offsetOf(to)
    return this.#buf.subarray(start, end)
  }

  /** Writes seq (and pid) into message i. */
  stamp(i: number, seq: number, pid = 0): void {
    const o = this.offsetOf(i)
    this.#view.setUint32(o + 8, seq >>> 0, true)
    this.#view.setUint32(o + 12, pid >>> 0, true)
  }

  /** ORs flags into message i's nlmsg_flags. */
  addFlags(i: number, flags: number): void {
    const o = this.offsetOf(i)
    this.#view.setUint16(o + 6, this.#view.getUint16(o + 6, true) | flags, true)
  }

  /** Header fields of message i, as written. */
  headerOf(i: number): { type: number; flags: number; seq: number } {
    const o = this.offsetOf(i)
    return {
      type: this.#view.getUint16(o + 4, true),
      flags: this.#view.getUint16(o + 6, true),
      seq: this.#view.getUint32(o + 8, true),
    }
  }

  /** The bytes of message i. */
  messageBytes(i: number): Uint8Array {
    return this.slice(i, i + 1)
  }

  reset(): this {
    this.#pos = 0
    this.#msgStart = -1
    this.#starts = []
    this.#labels = []
    return this
  }
}
