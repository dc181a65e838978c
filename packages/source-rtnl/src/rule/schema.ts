// Desired policy rules (ip rule): what a rule matches, where it sends the lookup, and at
// which priority. A rule has no name: it is what it matches and does, at its priority.
import * as v from "valibot"
import { familyOf, formatPrefix, isNetworkAddress, parsePrefix } from "@linx/netlink/ip"
import { clip, LinkName, U32 } from "../schema-common.ts"

const Network = v.pipe(
  v.string(),
  v.check(
    (s) => {
      const p = parsePrefix(s.includes("/") ? s : s.includes(":") ? `${s}/128` : `${s}/32`)
      return p !== undefined && isNetworkAddress(p)
    },
    (i) => `"${clip(i.input)}" is not an address or a network with its host bits zero (10.0.0.0/8)`,
  ),
  v.transform((s) => formatPrefix(parsePrefix(s.includes("/") ? s : s.includes(":") ? `${s}/128` : `${s}/32`)!)),
)

/** A port or a range "1000-2000". */
const PortRange = v.pipe(
  v.union([v.number(), v.string()]),
  v.transform((x) => String(x)),
  v.check((s) => {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s)
    return !!m && Number(m[1]) <= 65535 && Number(m[2] ?? m[1]) <= 65535 && Number(m[1]) <= Number(m[2] ?? m[1])
  }, "a port is 0–65535, a range 1000-2000"),
)

const UidRange = v.pipe(
  v.union([v.number(), v.string()]),
  v.transform((x) => String(x)),
  v.check((s) => {
    const m = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(s)
    return !!m && Number(m[2] ?? m[1]) <= 0xffffffff && Number(m[1]) <= Number(m[2] ?? m[1])
  }, "a uid range is 1000 or 1000-1999"),
)

const PROTOS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, ipv6: 41, gre: 47, esp: 50, icmpv6: 58, sctp: 132 }

/** A mark: a number or "0x4000" (ip rule's fwmark). */
const Mark = v.pipe(
  v.union([U32, v.pipe(v.string(), v.regex(/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/, "a mark is a number or 0x…"))]),
  v.transform((x) => (typeof x === "number" ? x : Number(x))),
  v.check((n) => n <= 0xffffffff, "a mark is at most 0xffffffff"),
)

export const RuleSpecSchema = v.pipe(
  v.strictObject({
    /** its place in the rule list: 1–4294967295 (0 is the kernel's `lookup local` rule) */
    priority: v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1, "priority 0 is the kernel's local rule"),
      v.maxValue(0xffffffff),
    ),
    /** inet or inet6; given by from/to when they are there (default inet) */
    family: v.optional(v.picklist(["inet", "inet6"])),
    from: v.optional(Network),
    to: v.optional(Network),
    /** ip rule not …: the rule applies to what does not match */
    not: v.optional(v.boolean()),
    fwmark: v.optional(Mark),
    /** the fwmark's mask (default: all bits) */
    mask: v.optional(Mark),
    iif: v.optional(LinkName),
    oif: v.optional(LinkName),
    tos: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255))),
    ipproto: v.optional(
      v.union([v.picklist(Object.keys(PROTOS)), v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255))]),
    ),
    sport: v.optional(PortRange),
    dport: v.optional(PortRange),
    uidrange: v.optional(UidRange),
    /** lookup (default), blackhole, unreachable, prohibit, goto (another rule's priority), nop */
    action: v.optional(v.picklist(["lookup", "blackhole", "unreachable", "prohibit", "goto", "nop"])),
    /** the table a lookup rule sends to: a number, "main" or "default" (default main) */
    table: v.optional(
      v.union([
        v.picklist(["main", "default"]),
        v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff)),
      ]),
    ),
    /** goto: the priority of the rule to continue at */
    goto: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff))),
    /** ignore a lookup's result whose prefix is this long or shorter (0: the default route) */
    suppressPrefixlength: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(128))),
    /** lookup in the table of the VRF the packet came in on */
    l3mdev: v.optional(v.boolean()),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const r = dataset.value
    const fams = new Set([r.from, r.to].filter((x) => x !== undefined).map((x) => familyOf(x!.split("/")[0]!)))
    if (fams.size > 1) addIssue({ message: "from and to are of different families" })
    if (r.family && fams.size === 1 && !fams.has(r.family))
      addIssue({ message: `family ${r.family} but from/to are not` })
    const action = r.action ?? "lookup"
    if (action === "goto" && r.goto === undefined)
      addIssue({ message: "a goto rule names the priority it goes to (goto: N)" })
    if (action !== "goto" && r.goto !== undefined) addIssue({ message: "goto is for action: goto" })
    if (action === "goto" && r.goto !== undefined && r.goto <= r.priority)
      addIssue({ message: "a goto goes to a later rule (a higher priority number)" })
    if (action !== "lookup" && (r.table !== undefined || r.suppressPrefixlength !== undefined || r.l3mdev))
      addIssue({ message: `table, suppressPrefixlength and l3mdev are for lookup rules, not ${action}` })
    if (r.l3mdev && r.table !== undefined) addIssue({ message: "l3mdev picks the table itself: give one or the other" })
    if (r.mask !== undefined && r.fwmark === undefined) addIssue({ message: "mask goes with fwmark" })
    if ((r.sport !== undefined || r.dport !== undefined) && r.ipproto === undefined)
      addIssue({ message: "sport and dport need ipproto (tcp, udp or sctp)" })
  }),
)

export type RuleSpec = v.InferOutput<typeof RuleSpecSchema>

/** ip rule's protocol numbers by name. */
export function ipProtoNumber(p: string | number | undefined): number | undefined {
  return p === undefined ? undefined : typeof p === "number" ? p : PROTOS[p]
}
