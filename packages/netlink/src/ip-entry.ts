// @linx/netlink/ip: IP addresses, prefixes and MACs as the kernel spells them, and text
// written as bytes (TextBytes: how a million-line plan is written).
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
  ipv4Number,
  ipv4PrefixNumber,
  ipv4NumberIn,
  ipv4PrefixNumberIn,
  macBytes,
  formatMac,
  type Family,
  type IpAddr,
  type IpPrefix,
} from "./ip.ts"
export { TextBytes } from "./text-bytes.ts"
