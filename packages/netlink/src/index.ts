// @linx/netlink: netlink sockets over libmnl, namespaces, event streams, errors.
// The message codec and kernel constants are under "@linx/netlink/wire"; IP and MAC
// helpers under "@linx/netlink/ip"; recorded transports under "@linx/netlink/testing".
export { openNetlinkSocket, NetlinkSocket, type SocketOptions, type BatchResult } from "./socket.ts"
export { runSteps, runStepsAsync, yieldToEventLoop, type Steps } from "./steps.ts"
export { subscribe, SubscriptionSet, type Subscription, type SubscribeOptions } from "./subscription.ts"
export {
  Netns,
  NetnsError,
  NetnsGoneError,
  assertNetnsThere,
  assertNotInitialNetns,
  type NetnsRef,
} from "./netns.ts"
export { NetlinkError, DecodeError, DumpInterruptedError, isNotFound, isExists, isTerminal } from "./errors.ts"
export { LibraryError, createTunDevice, SyscallError } from "./ffi/index.ts"
export { ApplyError, reportFailure, type ApplyReport } from "./report.ts"
