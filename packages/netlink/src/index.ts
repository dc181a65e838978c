// @linx/netlink: netlink sockets over libmnl, a message codec, namespaces and event streams.
export { openNetlinkSocket, NetlinkSocket, type SocketOptions, type BatchOptions, type BatchResult, type BatchFailure, type DumpOptions, type RequestOptions } from "./socket.ts"
export { subscribe, SubscriptionSet, type Subscription, type SubscribeOptions } from "./subscription.ts"
export { Netns, NetnsError, isInitialNetns, assertNotInitialNetns, type NetnsRef } from "./netns.ts"
export {
  NetlinkError,
  DecodeError,
  DumpInterruptedError,
  isNotFound,
  isExists,
  isPermission,
  isNotSupported,
  isInvalid,
  isTerminal,
  type RequestInfo,
  type ExtAck,
} from "./errors.ts"
export { LibraryError } from "./ffi/index.ts"
export { MessageWriter } from "./wire/writer.ts"
export { parseMessages, forEachAttr, indexAttrs, readString, readBytes, type Message } from "./wire/reader.ts"
export { decodeAck, decodeDone, locateAttribute, type Ack } from "./wire/ack.ts"
export { errnoCode, errnoText } from "./errno.ts"
export {
  parseIp,
  parsePrefix,
  formatIp,
  formatPrefix,
  isNetworkAddress,
  networkOf,
  canonicalIp,
  familyOf,
  canonicalMac,
  macBytes,
  formatMac,
  type Family,
  type IpAddr,
  type IpPrefix,
} from "./ip.ts"
export type { Transport } from "./transport.ts"
export * as nl from "./wire/constants.ts"
export * as nfnl from "./nfnetlink.ts"
