// Pipelined batches over a netlink socket: many requests per datagram, one barrier ack
// per chunk, each failure mapped back to its request by sequence number. In steps (a
// chunk each), so a batch of a million requests can let the event loop in (steps.ts).
import { NetlinkError, type RequestInfo } from "./errors.ts"
import { ENOBUFS } from "./errno.ts"
import type { Steps } from "./steps.ts"
import { decodeAck } from "./wire/ack.ts"
import { NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_NOOP } from "./wire/constants.ts"
import { type Message, parseMessages } from "./wire/reader.ts"
import { MessageWriter } from "./wire/writer.ts"

export interface BatchOptions {
  /** family header size, to locate the attribute an error points at */
  headerSize?: number
  /**
   * Send everything in one datagram (an nfnetlink transaction must be one datagram).
   * Default false: requests are sent in chunks of about `chunkBytes`.
   */
  atomic?: boolean
  /** chunk size for non-atomic batches. Default 256 KiB. */
  chunkBytes?: number
}

export interface BatchFailure {
  /** index of the failing message in the writer */
  index: number
  error: NetlinkError
}

export interface BatchResult {
  failed: BatchFailure[]
  /** non-error replies addressed to the batch (e.g. NLM_F_ECHO), copied */
  replies: Message[]
  /** true when the kernel dropped replies (ENOBUFS): some failures may be missing */
  repliesLost: boolean
}

/** What a batch needs of its socket (NetlinkSocket hands it its private parts). */
export interface Wire {
  /** the sequence number the next nextSeq() returns */
  peekSeq(): number
  nextSeq(): number
  send(data: Uint8Array, request: RequestInfo): void
  /** one datagram's messages (views into a reused buffer unless `copy`) */
  receive(copy: boolean): Message[]
  failure(
    m: Message,
    errno: number,
    request: RequestInfo,
    requestBytes: Uint8Array | undefined,
    headerSize: number | undefined,
  ): NetlinkError
}

/** A batch, a chunk (with its barrier) per step. */
export function* batchSteps(wire: Wire, w: MessageWriter, options: BatchOptions): Steps<BatchResult> {
  const result: BatchResult = { failed: [], replies: [], repliesLost: false }
  const count = w.count
  if (count === 0) return result
  const base = wire.peekSeq()
  for (let i = 0; i < count; i++) {
    w.stamp(i, wire.nextSeq(), 0)
    w.addFlags(i, NLM_F_REQUEST)
  }
  const chunkBytes = options.atomic ? Number.POSITIVE_INFINITY : (options.chunkBytes ?? 256 * 1024)
  let i = 0
  while (i < count) {
    let j = i + 1
    const start = w.offsetOf(i)
    const endOf = (k: number): number => (k + 1 < count ? w.offsetOf(k + 1) : w.length)
    while (j < count && endOf(j) - start <= chunkBytes) j++
    sendChunk(wire, w, i, j, base, options, result)
    i = j
    if (i < count) yield
  }
  return result
}

function sendChunk(
  wire: Wire,
  w: MessageWriter,
  from: number,
  to: number,
  base: number,
  options: BatchOptions,
  result: BatchResult,
): void {
  const first = w.headerOf(from)
  wire.send(w.slice(from, to), { type: first.type, flags: first.flags, seq: first.seq, index: from })
  const barrier = new MessageWriter(NLMSG_HDRLEN).begin(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK).end()
  const barrierSeq = wire.nextSeq()
  barrier.stamp(0, barrierSeq, 0)
  wire.send(barrier.finish(), { type: NLMSG_NOOP, flags: NLM_F_REQUEST | NLM_F_ACK, seq: barrierSeq })
  const count = w.count
  for (;;) {
    let messages: Message[]
    try {
      messages = wire.receive(false)
    } catch (e) {
      // Replies were dropped for lack of buffer space; keep reading to the barrier.
      if (e instanceof NetlinkError && e.errno === ENOBUFS) {
        result.repliesLost = true
        continue
      }
      throw e
    }
    for (const m of messages) {
      if (m.seq === barrierSeq && m.type === NLMSG_ERROR) return
      const index = (m.seq - base) >>> 0
      if (index >= count) continue
      if (m.type === NLMSG_ERROR) {
        const ack = decodeAck(m)
        if (ack.errno === 0) continue
        const hdr = w.headerOf(index)
        const label = w.labelOf(index)
        const info: RequestInfo = { type: hdr.type, flags: hdr.flags, seq: m.seq, index, ...(label ? { label } : {}) }
        result.failed.push({
          index,
          error: wire.failure(m, ack.errno, info, w.messageBytes(index), options.headerSize),
        })
      } else {
        result.replies.push(parseMessages(m.data.slice())[0] as Message)
      }
    }
  }
}
