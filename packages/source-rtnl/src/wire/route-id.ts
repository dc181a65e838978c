// A route's identity packed into a short flat string, and IPv4 text: what the route
// decoder (route.ts) builds for each route it makes an object of.
/**
 * The kernel's route key, packed into a short flat string (family, table, priority,
 * tos, dst/len as UTF-16 units): cheap to build and to hash. Equal ids = the same route.
 */
export function packRouteId(
  familyNum: number,
  table: number,
  priority: number,
  tos: number,
  dstLen: number,
  dst: Uint8Array | undefined,
): string {
  // IPv4 (a full table's million routes): no array, no spread; the same units as below
  if (dst && dstLen !== 0 && dst.length === 4)
    return String.fromCharCode(
      familyNum,
      table >>> 16,
      table & 0xffff,
      priority >>> 16,
      priority & 0xffff,
      tos,
      dstLen,
      (dst[0]! << 8) | dst[1]!,
      (dst[2]! << 8) | dst[3]!,
    )
  const head = [familyNum, table >>> 16, table & 0xffff, priority >>> 16, priority & 0xffff, tos, dstLen]
  if (!dst || dstLen === 0) return String.fromCharCode(...head)
  // bytes read directly: touching `dst.buffer` makes the engine materialise a small array's buffer (slow)
  for (let i = 0; i + 1 < dst.length; i += 2) head.push((dst[i]! << 8) | dst[i + 1]!)
  return String.fromCharCode(...head)
}

export function packRouteIdAt(
  familyNum: number,
  table: number,
  priority: number,
  tos: number,
  dstLen: number,
  v: DataView,
  off: number,
  len: number,
): string {
  if (len === 4) {
    return String.fromCharCode(
      familyNum,
      table >>> 16,
      table & 0xffff,
      priority >>> 16,
      priority & 0xffff,
      tos,
      dstLen,
      v.getUint16(off, false),
      v.getUint16(off + 2, false),
    )
  }
  const units = [familyNum, table >>> 16, table & 0xffff, priority >>> 16, priority & 0xffff, tos, dstLen]
  for (let i = 0; i + 1 < len; i += 2) units.push(v.getUint16(off + i, false))
  return String.fromCharCode(...units)
}

export function ipv4Fresh(v: DataView, off: number): string {
  return `${v.getUint8(off)}.${v.getUint8(off + 1)}.${v.getUint8(off + 2)}.${v.getUint8(off + 3)}`
}
