// nf_tables constants, kernel spelling (linux/netfilter.h, netfilter/nf_tables.h,
// libnftnl/{table,chain,rule,expr}.h attribute numbers).

export const NFPROTO: Record<string, number> = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 }
export const NFPROTO_IPV4 = 2
export const NFPROTO_IPV6 = 10
export const NFNLGRP_NFTABLES = 7

/** nft's standard chain priority names by family (nftables src/rule.c, std_prios). */
const STD_PRIORITIES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  inet: { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 },
  bridge: { dstnat: -300, filter: -200, out: 100, srcnat: 300 },
  netdev: { filter: 0 },
  arp: { filter: 0 },
}

/** Names nft allows only on one hook (nftables src/rule.c, std_prio_family_hook_compat). */
const PRIORITY_HOOK: Readonly<Record<string, string>> = { dstnat: "prerouting", srcnat: "postrouting", out: "output" }

/** A priority as nft writes it ("dstnat - 10", "filter", -110) as a number, or an error message. */
export function priorityNumber(family: string, p: number | string, hook?: string): number | string {
  if (typeof p === "number") return p
  const m = /^([a-z]+)\s*(?:([+-])\s*(\d+))?$/.exec(p.trim())
  const names = STD_PRIORITIES[family === "ip" || family === "ip6" ? "inet" : family] ?? {}
  const base = m ? names[m[1]!] : undefined
  if (!m || base === undefined)
    return `priority "${p}": a number or one of ${Object.keys(names).join(", ")} (± n) in a ${family} table`
  const only = PRIORITY_HOOK[m[1]!]
  if (only && hook !== undefined && hook !== only)
    return `priority "${p}" is for the ${only} hook only, as nft has it (write a number for ${hook}: ${base})`
  return base + (m[2] === "-" ? -1 : 1) * Number(m[3] ?? 0)
}

/** An arp table's hooks are numbered apart (NF_ARP_IN 0, NF_ARP_OUT 1, NF_ARP_FORWARD 2). */
export const ARP_HOOKS: Record<string, number> = { input: 0, output: 1, forward: 2 }

/** The hook number of a chain of `family`. */
export function hookNumber(family: string, hook: string): number | undefined {
  if (family === "netdev") return NETDEV_HOOKS[hook]
  return family === "arp" ? ARP_HOOKS[hook] : HOOKS[hook]
}

/** A netdev table's hooks (NF_NETDEV_INGRESS 0, NF_NETDEV_EGRESS 1). */
export const NETDEV_HOOKS: Record<string, number> = { ingress: 0, egress: 1 }

/** The hook name of number `n` in `family`. */
export function hookNameOf(family: string, n: number): string | undefined {
  if (family === "netdev") return n === 1 ? "egress" : "ingress"
  const table = family === "arp" ? ARP_HOOKS : HOOKS
  return Object.keys(table).find((k) => table[k] === n)
}

export const HOOKS: Record<string, number> = {
  prerouting: 0,
  input: 1,
  forward: 2,
  output: 3,
  postrouting: 4,
  /** NF_INET_INGRESS (an inet table's ingress chain, on a device) */
  ingress: 5,
}

// verdicts (linux/netfilter.h, nf_tables.h)
export const NF_DROP = 0
export const NF_ACCEPT = 1
export const NFT_CONTINUE = -1
export const NFT_BREAK = -2
export const NFT_JUMP = -3
export const NFT_GOTO = -4
export const NFT_RETURN = -5

export const NFT_REG_VERDICT = 0
export const NFT_REG_1 = 1

export const NFT_PAYLOAD_BASES = ["ll", "network", "transport", "inner"] as const
export const NFT_CMP_OPS = ["eq", "neq", "lt", "lte", "gt", "gte"] as const
export const NFT_RANGE_OPS = ["eq", "neq"] as const

export const NFT_META_KEYS = [
  "len",
  "protocol",
  "priority",
  "mark",
  "iif",
  "oif",
  "iifname",
  "oifname",
  "iiftype",
  "oiftype",
  "skuid",
  "skgid",
  "nftrace",
  "rtclassid",
  "secmark",
  "nfproto",
  "l4proto",
  "bri_iifname",
  "bri_oifname",
  "pkttype",
  "cpu",
  "iifgroup",
  "oifgroup",
  "cgroup",
  "prandom",
] as const
export const NFT_CT_KEYS = [
  "state",
  "direction",
  "status",
  "mark",
  "secmark",
  "expiration",
  "helper",
  "l3protocol",
  "src",
  "dst",
  "protocol",
  "proto_src",
  "proto_dst",
] as const
export const CT_STATE_BITS: Record<string, number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 }

// libnftnl attribute numbers
export const TABLE = { NAME: 0, FAMILY: 1, FLAGS: 2, USE: 3, HANDLE: 4 } as const
/** nft_table_flags */
export const NFT_TABLE_F_DORMANT = 0x1
export const NFT_TABLE_F_OWNER = 0x2
export const CHAIN = {
  NAME: 0,
  FAMILY: 1,
  TABLE: 2,
  HOOKNUM: 3,
  PRIO: 4,
  POLICY: 5,
  HANDLE: 9,
  TYPE: 10,
  DEV: 11,
  DEVICES: 12,
} as const
export const RULE = { FAMILY: 0, TABLE: 1, CHAIN: 2, HANDLE: 3, POSITION: 6, USERDATA: 7 } as const
export const EXPR = {
  payload: { DREG: 1, BASE: 2, OFFSET: 3, LEN: 4 },
  meta: { KEY: 1, DREG: 2, SREG: 3 },
  cmp: { SREG: 1, OP: 2, DATA: 3 },
  range: { SREG: 1, OP: 2, FROM: 3, TO: 4 },
  immediate: { DREG: 1, DATA: 2, VERDICT: 3, CHAIN: 4 },
  counter: { PACKETS: 1, BYTES: 2 },
  bitwise: { SREG: 1, DREG: 2, LEN: 3, MASK: 4, XOR: 5 },
  lookup: { SREG: 1, DREG: 2, SET: 3, SET_ID: 4, FLAGS: 5 },
  log: { PREFIX: 1, GROUP: 2, LEVEL: 5 },
  ct: { DREG: 1, KEY: 2, DIR: 3 },
  limit: { RATE: 1, UNIT: 2, BURST: 3, TYPE: 4, FLAGS: 5 },
  reject: { TYPE: 1, CODE: 2 },
  masq: { FLAGS: 1 },
  fib: { DREG: 1, RESULT: 2, FLAGS: 3 },
  nat: { TYPE: 1, FAMILY: 2, REG_ADDR_MIN: 3, REG_ADDR_MAX: 4, REG_PROTO_MIN: 5, REG_PROTO_MAX: 6, FLAGS: 7 },
} as const

// nf_tables attributes for dump filters (NFTA_CHAIN_TABLE, NFTA_RULE_TABLE)
export const NFTA_CHAIN_TABLE = 1
export const NFTA_RULE_TABLE = 1
export const NFTA_RULE_CHAIN = 2

// rule comments: libnftnl/udata.h NFTNL_UDATA_RULE_COMMENT
export const NFTNL_UDATA_RULE_COMMENT = 0

/** Verdict codes by the name nft prints (NF_* and NFT_* above), and back. */
export const VERDICT_CODES = {
  accept: NF_ACCEPT,
  drop: NF_DROP,
  return: NFT_RETURN,
  continue: NFT_CONTINUE,
  break: NFT_BREAK,
  jump: NFT_JUMP,
  goto: NFT_GOTO,
} as const satisfies Record<string, number>
export const VERDICT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(VERDICT_CODES).map(([k, v]) => [v, k]),
)

// sets (nf_tables.h nft_set_flags, NFT_SET_ELEM_INTERVAL_END; libnftnl/set.h attribute numbers)
export const NFT_SET_ANONYMOUS = 0x1
export const NFT_SET_CONSTANT = 0x2
export const NFT_SET_INTERVAL = 0x4
export const NFT_SET_TIMEOUT = 0x10
/** NFT_SET_EVAL: updated from the packet path ("flags dynamic") */
export const NFT_SET_EVAL = 0x20
/** NFT_SET_ELEM_INTERVAL_END: this element ends an interval (the key is one past it) */
export const ELEM_INTERVAL_END = 0x1
export const SET = {
  TABLE: 0,
  NAME: 1,
  FLAGS: 2,
  KEY_TYPE: 3,
  KEY_LEN: 4,
  DATA_TYPE: 5,
  DATA_LEN: 6,
  FAMILY: 7,
  ID: 8,
  TIMEOUT: 11,
  HANDLE: 15,
} as const
export const NFT_SET_MAP = 0x8
/** NFT_DATA_VERDICT: the data type of a verdict map */
export const NFT_DATA_VERDICT = 0xffffff00

// expressions' enumerations, by their kernel numbers (nf_tables.h)
export const FIB_RESULTS = ["", "oif", "oifname", "type"] as const
export const FIB_FLAGS = ["saddr", "daddr", "mark", "iif", "oif", "present"] as const
export const fibFlagNames = (bits: number) => FIB_FLAGS.filter((_, i) => bits & (1 << i))
export const fibResultName = (n: number) => (FIB_RESULTS[n] || "oif") as "oif" | "oifname" | "type"
/** limit units in seconds */
export const LIMIT_UNITS = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 } as const
/** NFT_REJECT_ICMP_UNREACH, NFT_REJECT_TCP_RST, NFT_REJECT_ICMPX_UNREACH */
export const REJECT_KINDS = ["icmp", "tcp-reset", "icmpx"] as const

/** NFT_OBJECT_* → the word nft uses for it. */
export const OBJECT_KINDS: Readonly<Record<number, string>> = {
  1: "counter",
  2: "quota",
  3: "ct helper",
  4: "limit",
  5: "connlimit",
  7: "ct timeout",
  8: "secmark",
  9: "ct expectation",
  10: "synproxy",
}
