// Text written as bytes into one reused buffer and handed on a chunk at a time: a plan of
// a million routes is a million lines, and written this way no string or buffer is made
// per line (what made per line is garbage the heap grows for on the first pass).

const encoder = new TextEncoder()

/** The ASCII bytes of "0"…"9". */
const ZERO = 48

export class TextBytes {
  readonly #buf: Uint8Array
  readonly #flush: (chunk: Uint8Array) => void
  #n = 0

  /**
   * `flush` is handed each full chunk (and the rest on `end()`): a view of the buffer, valid
   * only during the call (copy it, or write it out before returning). `size`: bytes per chunk,
   * at least 64.
   */
  constructor(flush: (chunk: Uint8Array) => void, size = 1 << 16) {
    this.#buf = new Uint8Array(Math.max(64, size))
    this.#flush = flush
  }

  /** Any string, as UTF-8 (an ASCII line or word copied char by char: the common case, fast). */
  text(s: string): this {
    const len = s.length
    if (len <= 256 && len <= this.#buf.length) {
      if (this.#n + len > this.#buf.length) this.flush()
      const buf = this.#buf
      let n = this.#n
      for (let i = 0; i < len; i++) {
        const ch = s.charCodeAt(i)
        if (ch >= 128) {
          this.#n = n
          return this.#encode(s.slice(i))
        }
        buf[n++] = ch
      }
      this.#n = n
      return this
    }
    return this.#encode(s)
  }

  /** s in as many chunks as it takes (encodeInto stops before a character that does not fit). */
  #encode(s: string): this {
    let rest = s
    for (;;) {
      const { read, written } = encoder.encodeInto(rest, this.#buf.subarray(this.#n))
      this.#n += written
      if (read === rest.length) return this
      rest = rest.slice(read)
      this.flush()
    }
  }

  /** A non-negative integer in decimal (up to 2^53; others as String(n) says them). */
  uint(x: number): this {
    if (!(Number.isSafeInteger(x) && x >= 0)) return this.text(String(x))
    let digits = 1
    for (let p = 10; p <= x; p *= 10) digits++
    if (this.#n + digits > this.#buf.length) this.flush()
    const buf = this.#buf
    let n = this.#n + digits
    this.#n = n
    do {
      buf[--n] = ZERO + (x % 10)
      x = Math.floor(x / 10)
    } while (x > 0)
    return this
  }

  /** An IPv4 address given as its 32-bit value (10.1.2.3 = 0x0a010203), dotted. */
  ipv4(a: number): this {
    return this.uint(a >>> 24)
      .byte(46)
      .uint((a >>> 16) & 255)
      .byte(46)
      .uint((a >>> 8) & 255)
      .byte(46)
      .uint(a & 255)
  }

  /** Bytes as they are (UTF-8 already, or whatever the reader expects). */
  bytes(b: Uint8Array): this {
    let from = 0
    while (from < b.length) {
      if (this.#n === this.#buf.length) this.flush()
      const k = Math.min(b.length - from, this.#buf.length - this.#n)
      this.#buf.set(b.subarray(from, from + k), this.#n)
      this.#n += k
      from += k
    }
    return this
  }

  /** One byte (an ASCII character's code). */
  byte(b: number): this {
    if (this.#n === this.#buf.length) this.flush()
    this.#buf[this.#n++] = b
    return this
  }

  /** What is written since the last chunk was handed on (a view: valid until the next write). */
  written(): Uint8Array {
    return this.#buf.subarray(0, this.#n)
  }

  /** Forgets what is written since the last chunk was handed on. */
  clear(): void {
    this.#n = 0
  }

  /** Hands on what is written so far (nothing when nothing is). */
  flush(): void {
    if (this.#n === 0) return
    const chunk = this.#buf.subarray(0, this.#n)
    this.#n = 0
    this.#flush(chunk)
  }

  /** The end of the text: hands on the rest. */
  end(): void {
    this.flush()
  }
}
