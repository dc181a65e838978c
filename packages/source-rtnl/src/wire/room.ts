// Room for a million records, made without zeroing it.
//
// A typed array is zeroed when made: from fresh pages that is free (the kernel's pages are
// zero), but a large one made after a collection freed another (a file's 60 MB read, say)
// reuses that memory and zeroes it first: 94 MB of room took ~150 ms that way here, where
// uninitialised room takes none. Whoever takes room from this zeroes each record before it
// writes one (RouteTable's #append, DesiredRoutes' #pack), and reads none past its count.

let poison: number | undefined

/** Tests: room made from now on is filled with `word` (undefined: left as it comes), to show no reader relies on zeros. */
export function poisonRoom(word: number | undefined): void {
  poison = word
}

/** n 32-bit words, not zeroed: their contents are whatever the memory held. */
export function roomWords(n: number): Uint32Array {
  const count = Math.max(1, n)
  const bytes = Bun.allocUnsafe(count * 4)
  // (a large allocation is its own buffer, at offset 0; a small one may sit in a pool)
  const words =
    bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, count) : new Uint32Array(count)
  if (poison !== undefined) words.fill(poison)
  return words
}
