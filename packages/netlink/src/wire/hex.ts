// Bytes ↔ lowercase hex, the one spelling every package uses for keys, masks and recordings.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** Lowercase hex of bytes (numbers are taken modulo 256). */
export function toHex(b: Uint8Array | readonly number[]): string {
  // long byte runs (rule keys) in native code; short ones are cheaper in the loop
  if (b instanceof Uint8Array && b.length > 24) return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex")
  let s = ""
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! & 255]!
  return s
}

/** The bytes of an even-length hex string. */
export function fromHex(h: string): Uint8Array {
  const out = new Uint8Array(h.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16)
  return out
}
