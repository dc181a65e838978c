// A JSON desired-state file whose big lists a source reads packed, straight from the bytes
// (a million routes: JSON.parse and validation would make two objects and a string per
// route). The document is walked without parsing it; each list found at `desired.<key>`
// goes to the source's reader, the rest of the text to JSON.parse with a placeholder in the
// list's place. Anything unusual on the way — an escaped or repeated key, a list its reader
// gives up on, text JSON.parse refuses — gives up, and the file is read the usual way: its
// result and every error message are that way's.

/** Reads the list at bytes[at] packed and says where it ends; undefined gives up. */
export type PackedReader = (bytes: Uint8Array, at: number) => { list: unknown; end: number } | undefined

const QUOTE = 34
const BACKSLASH = 92
const keyText = new TextDecoder()

/** Walks JSON bytes without making values; every step returns the position after it, or -1. */
class Walk {
  constructor(readonly b: Uint8Array) {}

  ws(i: number): number {
    const b = this.b
    while (i < b.length && (b[i] === 32 || b[i] === 10 || b[i] === 13 || b[i] === 9)) i++
    return i
  }

  /** A string at i (escapes allowed); -1 if unterminated. */
  string(i: number): number {
    const b = this.b
    if (b[i] !== QUOTE) return -1
    for (i++; i < b.length; i++) {
      if (b[i] === BACKSLASH) i++
      else if (b[i] === QUOTE) return i + 1
    }
    return -1
  }

  /** Any value at i: strings and nesting followed, scalars up to the next delimiter. */
  value(i: number): number {
    const b = this.b
    let depth = 0
    for (; i < b.length; ) {
      const x = b[i]!
      if (x === QUOTE) {
        i = this.string(i)
        if (i < 0) return -1
      } else if (x === 123 || x === 91) {
        depth++
        i++
      } else if (x === 125 || x === 93) {
        if (depth === 0) return i
        depth--
        i++
      } else if (depth === 0 && x === 44) return i
      else i++
      if (depth === 0 && (x === QUOTE || x === 125 || x === 93)) return i
    }
    return depth === 0 ? i : -1
  }

  /** The raw text of the key at i (no escapes: an escaped key gives up) and the position after it. */
  key(i: number): { key: string; next: number } | undefined {
    const end = this.string(i)
    if (end < 0) return undefined
    const raw = this.b.subarray(i + 1, end - 1)
    if (raw.includes(BACKSLASH)) return undefined
    return { key: keyText.decode(raw), next: end }
  }

  /**
   * The members of the object at i: `member(key, valueStart)` returns where the value ends
   * (or -1 to give up, or undefined: skip the value). Returns the position after the object.
   */
  object(i: number, member: (key: string, at: number) => number | undefined): number {
    const b = this.b
    i = this.ws(i)
    if (b[i] !== 123) return -1
    i = this.ws(i + 1)
    if (b[i] === 125) return i + 1
    for (;;) {
      const k = this.key(i)
      if (!k) return -1
      i = this.ws(k.next)
      if (b[i] !== 58) return -1
      i = this.ws(i + 1)
      const end = member(k.key, i) ?? this.value(i)
      if (end < 0) return -1
      i = this.ws(end)
      if (b[i] === 125) return i + 1
      if (b[i] !== 44) return -1
      i = this.ws(i + 1)
    }
  }
}

/**
 * The document with each `desired.<key>` that its source's readers name read packed (the
 * source said before `desired`, as files are written): the parsed document holds those
 * lists in place. Undefined: read it the usual way.
 */
export function parsePackedJson(
  bytes: Uint8Array,
  readersOf: (source: string) => Readonly<Record<string, PackedReader>> | undefined,
): unknown {
  const walk = new Walk(bytes)
  const spans: { start: number; end: number; key: string; list: unknown }[] = []
  const seen = new Set<string>()
  const once = (key: string) => !seen.has(key) && !!seen.add(key)
  let readers: Readonly<Record<string, PackedReader>> | undefined
  let source: string | undefined
  /** the source whose readers read the lists (a `source` said again later must be the same) */
  let readFor: string | undefined
  const end = walk.object(0, (key, at) => {
    if (key === "source") {
      const s = walk.key(at) // a plain string, read as a key is
      source = s?.key
      return s ? s.next : -1
    }
    if (key !== "desired") return undefined
    readers = source === undefined ? undefined : readersOf(source)
    readFor = source
    if (!readers || !once(key)) return -1
    return walk.object(at, (k, start) => {
      const read = Object.hasOwn(readers!, k) ? readers![k] : undefined
      if (!read) return undefined
      if (!once(`desired.${k}`)) return -1
      const r = read(bytes, start)
      if (!r) return -1
      spans.push({ start, end: r.end, key: k, list: r.list })
      return r.end
    })
  })
  if (end < 0 || !spans.length) return undefined
  // the rest as text, each list's place holding a placeholder the file cannot know
  const mark = `linx-packed-${crypto.randomUUID()}`
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true })
  let text = ""
  let from = 0
  for (const s of spans) {
    text += `${decoder.decode(bytes.subarray(from, s.start))}"${mark}"`
    from = s.end
  }
  text += decoder.decode(bytes.subarray(from))
  let doc: { desired?: Record<string, unknown> }
  try {
    doc = JSON.parse(text)
  } catch {
    return undefined // its error is the whole text's to say
  }
  const desired = doc?.desired
  if (typeof desired !== "object" || desired === null || (doc as { source?: unknown }).source !== readFor)
    return undefined
  for (const s of spans) {
    if (desired[s.key] !== mark) return undefined
    desired[s.key] = s.list
  }
  return doc
}
