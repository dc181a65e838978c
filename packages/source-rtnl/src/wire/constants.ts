// rtnetlink constants, kernel spelling. Sources: include/uapi/linux/rtnetlink.h,
// if_link.h, if_addr.h, veth.h, if.h, neighbour.h.

export const AF_UNSPEC = 0
export const AF_INET = 2
export const AF_INET6 = 10

export const RTM_NEWLINK = 16
export const RTM_DELLINK = 17
export const RTM_GETLINK = 18
export const RTM_SETLINK = 19
export const RTM_NEWADDR = 20
export const RTM_DELADDR = 21
export const RTM_GETADDR = 22
export const RTM_NEWROUTE = 24
export const RTM_DELROUTE = 25
export const RTM_GETROUTE = 26

// multicast groups (enum rtnetlink_groups)
export const RTNLGRP_LINK = 1
export const RTNLGRP_IPV4_IFADDR = 5
export const RTNLGRP_IPV4_ROUTE = 7
export const RTNLGRP_IPV6_IFADDR = 9
export const RTNLGRP_IPV6_ROUTE = 11
export const RTNLGRP_IPV4_RULE = 8
export const RTNLGRP_IPV6_RULE = 19

// nexthop objects (linux/nexthop.h)
export const RTNLGRP_NEXTHOP = 32
export const RTM_NEWNEXTHOP = 104
export const RTM_DELNEXTHOP = 105
export const RTM_GETNEXTHOP = 106
/** struct nhmsg { u8 nh_family; u8 nh_scope; u8 nh_protocol; u8 resvd; u32 nh_flags; } */
export const NHMSG_LEN = 8
export const NHA = { ID: 1, GROUP: 2, GROUP_TYPE: 3, BLACKHOLE: 4, OIF: 5, GATEWAY: 6 } as const
/** RTA_NH_ID: a route through a nexthop object */
export const RTA_NH_ID = 30

// neighbours (linux/neighbour.h)
export const RTNLGRP_NEIGH = 3
export const RTM_NEWNEIGH = 28
export const RTM_DELNEIGH = 29
export const RTM_GETNEIGH = 30
/** struct ndmsg { u8 family; u8 pad1; u16 pad2; s32 ifindex; u16 state; u8 flags; u8 type; } */
export const NDMSG_LEN = 12
export const NDA = { DST: 1, LLADDR: 2, VLAN: 5, VNI: 7, MASTER: 9, PROTOCOL: 12 } as const
export const AF_BRIDGE = 7
/** NTF_SELF: an entry of the device itself (a vxlan's remotes); NTF_MASTER: of the bridge the port is in */
export const NTF_SELF = 0x02
export const NTF_MASTER = 0x04
export const NUD = {
  incomplete: 0x01,
  reachable: 0x02,
  stale: 0x04,
  delay: 0x08,
  probe: 0x10,
  failed: 0x20,
  noarp: 0x40,
  permanent: 0x80,
} as const
/** NTF_ROUTER: an IPv6 neighbour that is a router */
export const NTF_ROUTER = 0x80

// policy routing rules (linux/fib_rules.h)
export const RTM_NEWRULE = 32
export const RTM_DELRULE = 33
export const RTM_GETRULE = 34
/** struct fib_rule_hdr { u8 family, dst_len, src_len, tos, table, res1, res2, action; u32 flags; } */
export const FIB_RULE_HDR_LEN = 12
export const FIB_RULE_INVERT = 0x2
export const FRA = {
  DST: 1,
  SRC: 2,
  IIFNAME: 3,
  GOTO: 4,
  PRIORITY: 6,
  FWMARK: 10,
  SUPPRESS_IFGROUP: 13,
  SUPPRESS_PREFIXLEN: 14,
  TABLE: 15,
  FWMASK: 16,
  OIFNAME: 17,
  L3MDEV: 19,
  UID_RANGE: 20,
  PROTOCOL: 21,
  IP_PROTO: 22,
  SPORT_RANGE: 23,
  DPORT_RANGE: 24,
} as const
/** FR_ACT_*: what a rule does when it matches */
export const FR_ACT = { lookup: 1, goto: 2, nop: 3, blackhole: 6, unreachable: 7, prohibit: 8 } as const

// struct ifinfomsg { u8 ifi_family; u8 pad; u16 ifi_type; s32 ifi_index; u32 ifi_flags; u32 ifi_change; }
export const IFINFOMSG_LEN = 16
export const IFF_UP = 0x1
export const IFF_PROMISC = 0x100
export const IFLA_TXQLEN = 13
/** rtm_flags: a cached clone, not a FIB route (linux/rtnetlink.h) */
export const RTM_F_CLONED = 0x200

export const IFLA_ADDRESS = 1
export const IFLA_IFNAME = 3
export const IFLA_MTU = 4
export const IFLA_LINK = 5
export const IFLA_MASTER = 10
export const IFLA_OPERSTATE = 16
export const IFLA_LINKINFO = 18
export const IFLA_IFALIAS = 20
export const IFLA_GROUP = 27
export const IFLA_NET_NS_FD = 28
export const IFLA_EXT_MASK = 29
export const IFLA_LINK_NETNSID = 37
/** alternative names (ip link property add … altname): RTM_NEWLINKPROP / RTM_DELLINKPROP, IFLA_PROP_LIST { IFLA_ALT_IFNAME … } */
export const RTM_NEWLINKPROP = 108
export const RTM_DELLINKPROP = 109
export const IFLA_PROP_LIST = 52
export const IFLA_ALT_IFNAME = 53

export const IFLA_INFO_KIND = 1
export const IFLA_INFO_DATA = 2

export const VETH_INFO_PEER = 1

export const IFLA_BR_STP_STATE = 5
export const IFLA_BR_VLAN_FILTERING = 7

export const IFLA_MACVLAN_MODE = 1
export const MACVLAN_MODE: Record<string, number> = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 }

export const IFLA_IPVLAN_MODE = 1
export const IPVLAN_MODE: Record<string, number> = { l2: 0, l3: 1, l3s: 2 }

export const IFLA_VLAN_ID = 1
/** IFLA_TUN_TYPE: IFF_TUN 1, IFF_TAP 2 */
export const IFLA_TUN_TYPE = 3
/** IFLA_VXLAN_* (linux/if_link.h) */
export const VXLAN = {
  ID: 1,
  GROUP: 2,
  LINK: 3,
  LOCAL: 4,
  TTL: 5,
  LEARNING: 7,
  PORT: 15,
  GROUP6: 16,
  LOCAL6: 17,
} as const
export const IFLA_VLAN_PROTOCOL = 5
export const ETH_P_8021Q = 0x8100
export const ETH_P_8021AD = 0x88a8

// RTEXT_FILTER_SKIP_STATS: leave the 64-bit stats out of link dumps (they are most of a link's bytes)
export const RTEXT_FILTER_SKIP_STATS = 1 << 3

// struct ifaddrmsg { u8 ifa_family; u8 ifa_prefixlen; u8 ifa_flags; u8 ifa_scope; u32 ifa_index; }
export const IFADDRMSG_LEN = 8
export const IFA_ADDRESS = 1
export const IFA_LOCAL = 2
export const IFA_LABEL = 3
export const IFA_FLAGS = 8
export const IFA_PROTO = 11
export const IFA_F_NODAD = 0x02
export const IFA_F_NOPREFIXROUTE = 0x200
export const IFA_F_HOMEADDRESS = 0x10
export const IFA_F_MANAGETEMPADDR = 0x100
export const IFA_F_MCAUTOJOIN = 0x400
/** IFA_CACHEINFO: struct ifa_cacheinfo { u32 ifa_prefered, ifa_valid, cstamp, tstamp } (seconds; ~0 forever) */
export const IFA_CACHEINFO = 6
export const LIFETIME_FOREVER = 0xffffffff

// struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags; }
export const RTMSG_LEN = 12
export const RTA_DST = 1
export const RTA_OIF = 4
export const RTA_GATEWAY = 5
export const RTA_PRIORITY = 6
export const RTA_PREFSRC = 7
export const RTA_METRICS = 8
export const RTA_MULTIPATH = 9
export const RTA_TABLE = 15
export const RTAX_MTU = 2
/** the other route metrics people set (linux/rtnetlink.h RTAX_*), by their desired-state names */
export const RTAX = { advmss: 8, hoplimit: 10, initcwnd: 11, rtoMin: 13, initrwnd: 14, quickack: 15 } as const
export type RouteMetric = keyof typeof RTAX

// struct rtnexthop { u16 rtnh_len; u8 rtnh_flags; u8 rtnh_hops; s32 rtnh_ifindex; }
export const RTNH_LEN = 8
export const RTNH_F_ONLINK = 4

export const RTN_UNICAST = 1
export const RTN_LOCAL = 2
export const RTN_BROADCAST = 3
export const RTN_BLACKHOLE = 6
export const RTN_UNREACHABLE = 7
export const RTN_PROHIBIT = 8
/** a lookup in this table ends here and goes on with the next rule */
export const RTN_THROW = 9
/** RTA_PREF: an IPv6 route's preference (ICMPV6_ROUTER_PREF_*) */
export const RTA_PREF = 20
export const ROUTE_PREF = { medium: 0, high: 1, low: 3 } as const

export const RT_SCOPE_UNIVERSE = 0
export const RT_SCOPE_SITE = 200
export const RT_SCOPE_LINK = 253
export const RT_SCOPE_HOST = 254
/** in a delete request: match a route of any scope */
export const RT_SCOPE_NOWHERE = 255

export const RT_TABLE_UNSPEC = 0
export const RT_TABLE_COMPAT = 252
export const RT_TABLE_MAIN = 254
export const RT_TABLE_LOCAL = 255

export const RTPROT_KERNEL = 2

export const RTM_F_FIB_MATCH = 0x2000

/** rtm_type names as `ip route` spells them (linux/rtnetlink.h RTN_*). */
export const ROUTE_TYPE_NAMES: Readonly<Record<number, string>> = {
  [RTN_UNICAST]: "unicast",
  [RTN_LOCAL]: "local",
  [RTN_BROADCAST]: "broadcast",
  [RTN_BLACKHOLE]: "blackhole",
  [RTN_UNREACHABLE]: "unreachable",
  [RTN_PROHIBIT]: "prohibit",
  [RTN_THROW]: "throw",
}

/** rtm_protocol names as /etc/iproute2/rt_protos spells them (routes only). */
export const ROUTE_PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: "unspec",
  1: "redirect",
  2: "kernel",
  3: "boot",
  4: "static",
}

/** ifa_proto names as iproute2 spells them (linux/if_addr.h IFAPROT_*: addresses only). */
export const ADDRESS_PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: "unspec",
  1: "kernel_lo",
  2: "kernel_ra",
  3: "kernel_ll",
}
