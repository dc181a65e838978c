// @linx/netlink/ip: IP addresses, prefixes and MACs as the kernel spells them.
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
  macBytes,
  formatMac,
  type Family,
  type IpAddr,
  type IpPrefix,
} from "./ip.ts"
