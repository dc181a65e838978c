// NLMSG_ERROR payload:
//   struct nlmsgerr { int error; struct nlmsghdr msg; };             (linux/netlink.h)
// followed, when NLM_F_ACK_TLVS is set, by nlmsgerr_attrs TLVs. With NETLINK_CAP_ACK
// (NLM_F_CAPPED) only the original header is echoed, not its payload.
import { DecodeError, type ExtAck } from "../errors.ts"
import {
  align4,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
} from "./constants.ts"
import { forEachAttr, type Message, readString } from "./reader.ts"

export interface Ack {
  /** positive errno; 0 for a plain acknowledgement */
  errno: number
  /** seq of the request this acknowledges (from the echoed header) */
  requestSeq: number
  requestType: number
  extAck: ExtAck
}

export function decodeAck(m: Message): Ack {
  const v = m.view
  const p = m.payload
  if (m.end - p < 4 + NLMSG_HDRLEN) throw new DecodeError(m.offset, "NLMSG_ERROR shorter than struct nlmsgerr")
  const error = v.getInt32(p, true)
  const reqLen = v.getUint32(p + 4, true)
  const requestType = v.getUint16(p + 8, true)
  const requestSeq = v.getUint32(p + 12, true)
  const extAck: ExtAck = {}
  if (m.flags & NLM_F_ACK_TLVS) {
    const echoed = m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(reqLen)
    const tlvStart = p + 4 + echoed
    if (tlvStart <= m.end) readExtAck(v, tlvStart, m.end, extAck)
  }
  return { errno: -error, requestSeq, requestType, extAck }
}

/**
 * Finds which attribute of a request the kernel's NLMSGERR_ATTR_OFFS points into:
 * a path of attribute types, outermost first. `headerSize` is the family header
 * (e.g. 16 for ifinfomsg) that precedes the attributes.
 */
export function locateAttribute(request: Uint8Array, headerSize: number, offset: number): number[] | undefined {
  const view = new DataView(request.buffer, request.byteOffset, request.byteLength)
  const path: number[] = []
  let start = NLMSG_HDRLEN + headerSize
  let end = request.byteLength
  if (offset < start || offset >= end) return undefined
  for (;;) {
    let found = false
    let p = start
    while (p + 4 <= end) {
      const len = view.getUint16(p, true)
      if (len < 4) return path.length ? path : undefined
      if (offset >= p && offset < p + len) {
        path.push(view.getUint16(p + 2, true) & 0x3fff)
        if (offset === p) return path
        // Try to descend when the payload looks like nested attributes.
        const inner = p + 4
        const innerLen = view.getUint16(inner, true)
        if (len > 8 && innerLen >= 4 && inner + innerLen <= p + len) {
          start = inner
          end = p + len
          found = true
        }
        break
      }
      p += align4(len)
    }
    if (!found) return path.length ? path : undefined
  }
}

/**
 * NLMSG_DONE payload: `int error` (negative errno when the dump failed), followed by
 * nlmsgerr_attrs TLVs when NLM_F_ACK_TLVS is set (no echoed header).
 */
export function decodeDone(m: Message): { errno: number; extAck: ExtAck } {
  const v = m.view
  const extAck: ExtAck = {}
  if (m.end - m.payload < 4) return { errno: 0, extAck }
  const errno = -v.getInt32(m.payload, true)
  if (m.flags & NLM_F_ACK_TLVS) readExtAck(v, m.payload + 4, m.end, extAck)
  return { errno, extAck }
}

function readExtAck(v: DataView, start: number, end: number, extAck: ExtAck): void {
  forEachAttr(v, start, end, (type, off, len) => {
    if (type === NLMSGERR_ATTR_MSG) extAck.message = readString(v, off, len)
    else if (type === NLMSGERR_ATTR_OFFS && len >= 4) extAck.offset = v.getUint32(off, true)
    else if (type === NLMSGERR_ATTR_MISS_TYPE && len >= 4) extAck.missingType = v.getUint32(off, true)
  })
}
