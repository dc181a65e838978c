// Requests over one netlink socket: a request with its ack, a consistent dump, and a
// pipelined batch. All calls are synchronous: the kernel answers netlink requests while
// we wait, and nothing else runs while the JS thread might be switched into a namespace.
import { type BatchOptions, type BatchResult, batchSteps, type Wire } from "./batch.ts"
import { runSteps, runStepsAsync, type Steps } from "./steps.ts"
import { ENOSPC, EPERM } from "./errno.ts"
import { DecodeError, DumpInterruptedError, NetlinkError, type RequestInfo } from "./errors.ts"
import { MnlSocket, setSocketOptionBytes, setSocketOptionInt } from "./ffi/index.ts"
import { Netns, type NetnsRef } from "./netns.ts"
import type { Transport } from "./transport.ts"
import { decodeAck, decodeDone, locateAttribute } from "./wire/ack.ts"
import {
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_GET_STRICT_CHK,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_RCVTIMEO,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
  SOL_SOCKET,
} from "./wire/constants.ts"
import { type Message, MessageReuse, parseMessages } from "./wire/reader.ts"
import { MessageWriter } from "./wire/writer.ts"

export interface SocketOptions {
  /** namespace to open the socket in (default: the caller's own) */
  netns?: NetnsRef
  /** NETLINK_GET_STRICT_CHK: strict header checking of dump requests (rtnetlink). Default true. */
  strict?: boolean
  /** SO_RCVBUFFORCE in bytes (falls back to SO_RCVBUF without CAP_NET_ADMIN). Default 8 MiB. */
  receiveBufferBytes?: number
  /** SO_SNDBUFFORCE in bytes. Default 8 MiB (large nftables batches need it). */
  sendBufferBytes?: number
  /** SO_RCVTIMEO: how long a receive may block before failing with EAGAIN. Default 10 s. */
  timeoutMs?: number
}

export interface RequestOptions {
  /** size of the family header before the attributes, to locate the attribute the kernel blamed */
  headerSize?: number
  label?: string
}

export interface DumpOptions {
  /** how many times an interrupted dump (NLM_F_DUMP_INTR) is retried. Default 5. */
  retries?: number
  /**
   * false: each message handed to `decode` is a view into a receive buffer the next read
   * reuses, so decode must keep nothing of it (a decoder that makes strings and numbers):
   * a million-route dump then copies no datagram. Default true (each datagram copied).
   */
  copy?: boolean
}

export type { BatchFailure, BatchOptions, BatchResult } from "./batch.ts"

const DEFAULT_RCVBUF = 8 << 20
const DEFAULT_SNDBUF = 8 << 20
const RECV_BYTES = 256 * 1024

/** struct timeval { long tv_sec; long tv_usec; } (64-bit) */
function timeval(ms: number): Uint8Array {
  const b = new Uint8Array(16)
  const v = new DataView(b.buffer)
  v.setBigInt64(0, BigInt(Math.floor(ms / 1000)), true)
  v.setBigInt64(8, BigInt((ms % 1000) * 1000), true)
  return b
}

function errnoOf(e: unknown): number | undefined {
  const n = (e as { errno?: unknown } | null)?.errno
  return typeof n === "number" ? n : undefined
}

function forceBuffer(fd: number, force: number, plain: number, bytes: number): void {
  try {
    setSocketOptionInt(fd, SOL_SOCKET, force, bytes)
  } catch (e) {
    if (errnoOf(e) !== EPERM) throw e
    setSocketOptionInt(fd, SOL_SOCKET, plain, bytes)
  }
}

/** Opens a request socket for `protocol` (NETLINK_ROUTE, NETLINK_NETFILTER, ...) in a namespace. */
export function openNetlinkSocket(protocol: number, options: SocketOptions = {}): NetlinkSocket {
  const ns = Netns.open(options.netns)
  try {
    const sock = ns.run(() => MnlSocket.open(protocol))
    try {
      sock.setNetlinkOption(NETLINK_EXT_ACK, 1)
      sock.setNetlinkOption(NETLINK_CAP_ACK, 1)
      if (options.strict ?? true) {
        try {
          sock.setNetlinkOption(NETLINK_GET_STRICT_CHK, 1)
        } catch {
          // older kernels: strict checking unavailable, dumps still work unfiltered
        }
      }
      forceBuffer(sock.fd, SO_RCVBUFFORCE, SO_RCVBUF, options.receiveBufferBytes ?? DEFAULT_RCVBUF)
      forceBuffer(sock.fd, SO_SNDBUFFORCE, SO_SNDBUF, options.sendBufferBytes ?? DEFAULT_SNDBUF)
      setSocketOptionBytes(sock.fd, SOL_SOCKET, SO_RCVTIMEO, timeval(options.timeoutMs ?? 10_000))
    } catch (e) {
      sock.close()
      throw e
    }
    return new NetlinkSocket(sock)
  } finally {
    ns.close()
  }
}

export class NetlinkSocket {
  readonly #t: Transport
  #seq: number
  #recvBuf = new Uint8Array(RECV_BYTES)

  constructor(transport: Transport, options: { firstSeq?: number } = {}) {
    this.#t = transport
    this.#seq = options.firstSeq ?? 1
  }

  /** What a batch (batch.ts) needs of this socket. */
  readonly #wire: Wire = {
    peekSeq: () => this.#seq,
    nextSeq: () => this.#nextSeq(),
    send: (data, request) => this.#send(data, request),
    receive: (copy) => this.#receive(copy),
    failure: (m, errno, request, bytes, headerSize) => this.#failure(m, errno, request, bytes, headerSize),
  }

  get portId(): number {
    return this.#t.portId
  }

  get fd(): number {
    return this.#t.fd
  }

  #nextSeq(): number {
    const s = this.#seq
    this.#seq = (this.#seq + 1) >>> 0 || 1
    return s
  }

  #send(data: Uint8Array, request: RequestInfo): void {
    try {
      this.#t.send(data)
    } catch (e) {
      const errno = errnoOf(e)
      if (errno === undefined) throw e
      throw new NetlinkError(errno, { request, context: "send" })
    }
  }

  /** Receives one datagram; returns its messages (views into a buffer that the next call reuses, unless `copy`). */
  #receive(copy: boolean): Message[] {
    let n: number
    try {
      n = this.#t.receive(this.#recvBuf)
    } catch (e) {
      const errno = errnoOf(e)
      if (errno === undefined) throw e
      if (errno === ENOSPC)
        throw new DecodeError(0, `datagram larger than the ${this.#recvBuf.byteLength}-byte receive buffer`)
      throw new NetlinkError(errno, { context: "receive" })
    }
    return copy ? parseMessages(this.#recvBuf.slice(0, n), n) : this.#reuse.parse(this.#recvBuf, n)
  }

  /** the messages of receive(false): reused, as the buffer is */
  readonly #reuse = new MessageReuse()

  #failure(
    m: Message,
    errno: number,
    request: RequestInfo,
    requestBytes: Uint8Array | undefined,
    headerSize: number | undefined,
  ): NetlinkError {
    const ack = decodeAck(m)
    const extAck = { ...ack.extAck }
    if (extAck.offset !== undefined && requestBytes && headerSize !== undefined) {
      const path = locateAttribute(requestBytes, headerSize, extAck.offset)
      if (path) extAck.attributePath = path
    }
    return new NetlinkError(errno, { request, extAck })
  }

  /**
   * Sends one request (the writer's single message) with NLM_F_REQUEST|NLM_F_ACK and
   * waits for its acknowledgement. Returns the replies that came before the ack
   * (e.g. with NLM_F_ECHO). Throws NetlinkError with the kernel's message on a NACK.
   */
  request(w: MessageWriter, options: RequestOptions = {}): Message[] {
    if (w.count !== 1) throw new Error(`request() takes exactly one message, got ${w.count}`)
    const seq = this.#nextSeq()
    w.stamp(0, seq, 0)
    const bytes = w.finish()
    const view = new DataView(bytes.buffer, bytes.byteOffset)
    view.setUint16(6, view.getUint16(6, true) | NLM_F_REQUEST | NLM_F_ACK, true)
    const hdr = w.headerOf(0)
    const label = options.label ?? w.labelOf(0)
    const info: RequestInfo = { type: hdr.type, flags: hdr.flags, seq, ...(label ? { label } : {}) }
    this.#send(bytes, info)
    const replies: Message[] = []
    for (;;) {
      for (const m of this.#receive(true)) {
        if (m.seq !== seq) continue
        if (m.type === NLMSG_ERROR) {
          const ack = decodeAck(m)
          if (ack.errno !== 0) throw this.#failure(m, ack.errno, info, bytes, options.headerSize)
          return replies
        }
        replies.push(m)
      }
    }
  }

  /**
   * Dumps: sends `build`'s request with NLM_F_REQUEST|NLM_F_DUMP and collects every
   * reply until NLMSG_DONE. When any message carries NLM_F_DUMP_INTR (the kernel's
   * table changed during the dump) the whole dump is repeated, at most `retries` times.
   */
  dump(build: (w: MessageWriter) => void, options: DumpOptions = {}): Message[] {
    return this.dumpInto(build, (m) => m, { ...options, copy: true })
  }

  /**
   * Like dump(), but each reply is handed to `decode` as it is read and only what it
   * returns is kept (undefined drops the message): no array of raw messages for a
   * 100k-object dump. A retried dump starts a fresh result.
   */
  dumpInto<T>(
    build: (w: MessageWriter) => void,
    decode: (m: Message) => T | undefined,
    options: DumpOptions = {},
  ): T[] {
    const retries = options.retries ?? 5
    for (let attempt = 0; ; attempt++) {
      const r = runSteps(this.#dumpSteps(build, decode, options.copy !== false))
      if (!r.interrupted) return r.items
      if (attempt >= retries) throw new DumpInterruptedError(attempt + 1)
    }
  }

  /**
   * dumpInto() that lets the event loop run every `sliceMs` of work (default 2 ms): a
   * dump of a million routes then does not hold back other loops' heals, timers or the
   * status endpoint. The kernel keeps the dump's place between reads. Do not use the
   * socket for anything else until it resolves.
   */
  async dumpIntoAsync<T>(
    build: (w: MessageWriter) => void,
    decode: (m: Message) => T | undefined,
    options: DumpOptions & { sliceMs?: number } = {},
  ): Promise<T[]> {
    const retries = options.retries ?? 5
    for (let attempt = 0; ; attempt++) {
      const r = await runStepsAsync(this.#dumpSteps(build, decode, options.copy !== false), options.sliceMs)
      if (!r.interrupted) return r.items
      if (attempt >= retries) throw new DumpInterruptedError(attempt + 1)
    }
  }

  /** One dump, a datagram per step. */
  *#dumpSteps<T>(
    build: (w: MessageWriter) => void,
    decode: (m: Message) => T | undefined,
    copy: boolean,
  ): Steps<{ items: T[]; interrupted: boolean }> {
    const w = new MessageWriter(256)
    build(w)
    if (w.count !== 1) throw new Error(`dump() takes exactly one request message, got ${w.count}`)
    const seq = this.#nextSeq()
    w.stamp(0, seq, 0)
    const bytes = w.finish()
    const view = new DataView(bytes.buffer, bytes.byteOffset)
    view.setUint16(6, view.getUint16(6, true) | NLM_F_REQUEST | NLM_F_DUMP, true)
    const hdr = w.headerOf(0)
    const info: RequestInfo = { type: hdr.type, flags: hdr.flags, seq }
    this.#send(bytes, info)
    const items: T[] = []
    let interrupted = false
    for (;;) {
      for (const m of this.#receive(copy)) {
        if (m.seq !== seq) continue
        if (m.flags & NLM_F_DUMP_INTR) interrupted = true
        if (m.type === NLMSG_DONE) {
          // NLMSG_DONE carries an int: a negative errno when the dump failed.
          const done = decodeDone(m)
          if (done.errno > 0) throw new NetlinkError(done.errno, { request: info, extAck: done.extAck })
          return { items, interrupted }
        }
        if (m.type === NLMSG_ERROR) {
          const ack = decodeAck(m)
          if (ack.errno !== 0) throw this.#failure(m, ack.errno, info, bytes, undefined)
          continue
        }
        if (m.type === NLMSG_NOOP || m.type === NLMSG_OVERRUN) continue
        const item = decode(m)
        if (item !== undefined) items.push(item)
      }
      yield
    }
  }

  /**
   * Pipelined batch: sends all of the writer's messages, many per datagram, then one
   * NLMSG_NOOP with NLM_F_ACK as a barrier, and reads replies until the barrier's ack.
   * The kernel processes a datagram's messages in order while sending it, so every
   * error (and NLM_F_ECHO reply) for the batch arrives before the barrier's ack. Only
   * failures are acknowledged (add NLM_F_ACK to a message yourself to see its ack).
   * Each error is mapped back to its message by sequence number. NLM_F_REQUEST is
   * added to every message.
   */
  batch(w: MessageWriter, options: BatchOptions = {}): BatchResult {
    return runSteps(batchSteps(this.#wire, w, options))
  }

  /** batch() that lets the event loop run between chunks once `sliceMs` of work has passed (default 2 ms). */
  batchAsync(w: MessageWriter, options: BatchOptions & { sliceMs?: number } = {}): Promise<BatchResult> {
    return runStepsAsync(batchSteps(this.#wire, w, options), options.sliceMs)
  }

  close(): void {
    this.#t.close()
  }

  [Symbol.dispose](): void {
    this.close()
  }
}
