// Transports for unit tests without root: one that records a real socket's traffic,
// and one that replays recorded datagrams and records what was sent to it.
import type { Transport } from "../transport.ts"
import { fromHex, toHex } from "../wire/hex.ts"

export { fromHex, toHex }

export interface Recording {
  /** the command that produced the recording (fixtures are headed by it) */
  command: string
  /** datagrams sent by us, hex */
  sent: string[]
  /** datagrams received from the kernel, hex, in order */
  received: string[]
}

/** Wraps a real transport and keeps a copy of every datagram in both directions. */
export class RecordingTransport implements Transport {
  readonly sent: Uint8Array[] = []
  readonly received: Uint8Array[] = []
  constructor(readonly inner: Transport) {}
  get portId(): number {
    return this.inner.portId
  }
  get fd(): number {
    return this.inner.fd
  }
  send(data: Uint8Array): void {
    this.sent.push(data.slice())
    this.inner.send(data)
  }
  receive(buffer: Uint8Array): number {
    const n = this.inner.receive(buffer)
    this.received.push(buffer.slice(0, n))
    return n
  }
  close(): void {
    this.inner.close()
  }
  toRecording(command: string): Recording {
    return { command, sent: this.sent.map(toHex), received: this.received.map(toHex) }
  }
}

/** Plays back recorded kernel datagrams; what it was sent is kept in `sent`. */
export class ReplayTransport implements Transport {
  readonly sent: Uint8Array[] = []
  readonly portId: number
  readonly fd = -1
  #queue: Uint8Array[]
  #closed = false

  constructor(received: readonly (Uint8Array | string)[], options: { portId?: number } = {}) {
    this.#queue = received.map((r) => (typeof r === "string" ? fromHex(r) : r))
    this.portId = options.portId ?? 4242
  }

  static fromRecording(r: Recording): ReplayTransport {
    return new ReplayTransport(r.received)
  }

  /** Queues more datagrams to hand out. */
  push(...datagrams: Uint8Array[]): void {
    this.#queue.push(...datagrams)
  }

  send(data: Uint8Array): void {
    if (this.#closed) throw Object.assign(new Error("closed"), { errno: 9 })
    this.sent.push(data.slice())
  }

  receive(buffer: Uint8Array): number {
    const next = this.#queue.shift()
    // A real socket would block; a fake with nothing to say fails like a timed-out one.
    if (!next) throw Object.assign(new Error("replay: nothing more recorded"), { errno: 11 })
    if (next.byteLength > buffer.byteLength) throw Object.assign(new Error("truncated"), { errno: 28 })
    buffer.set(next)
    return next.byteLength
  }

  close(): void {
    this.#closed = true
  }
}
