// IP and MAC helpers live in @linx/netlink (shared with the netfilter source).
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
} from "@linx/netlink"
