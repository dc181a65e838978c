// @linx/netlink/wire: the netlink message codec and the kernel's numbers, for sources
// that speak a netlink family (bytes only: no sockets, no policy).
export { MessageWriter } from "./wire/writer.ts"
export {
  parseMessages,
  MessageReuse,
  forEachAttr,
  indexAttrs,
  readString,
  readBytes,
  requireHeader,
  readU8,
  readU16,
  readU32,
  readI32,
  type Message,
} from "./wire/reader.ts"
export { decodeAck, decodeDone, locateAttribute, type Ack } from "./wire/ack.ts"
export { fromHex, toHex } from "./wire/hex.ts"
export { errnoCode, errnoText } from "./errno.ts"
export type { RequestInfo, ExtAck } from "./errors.ts"
export type { Transport } from "./transport.ts"
export type { BatchOptions, BatchFailure, DumpOptions, RequestOptions } from "./socket.ts"
export * as errno from "./errno.ts"
export * as nl from "./wire/constants.ts"
export * as nfnl from "./nfnetlink.ts"
