// What users write: tables holding chains holding ordered rules, each rule in the
// common form ({ match, counter, verdict, comment }) or raw ({ expr: [...] }).
import * as v from "valibot"
import { ExprSchema } from "./expr.ts"
import { MatchSchema, parseNatTarget, VerdictSchema } from "./rule-schema.ts"
import { SetSpecSchema } from "./set.ts"
import { ARP_HOOKS, priorityNumber } from "./wire/constants.ts"
import { TextRule, textRuleProblem } from "./text.ts"
import { compileTextRules } from "./text-compile.ts"
import { compileTableText, NftTextTable } from "./table-text.ts"
import type { NamedObject } from "./model.ts"

const Name = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(255),
  v.regex(/^[A-Za-z0-9_.-]+$/, "a name uses letters, digits, _ . -"),
)
/** An interface name as the kernel takes it (IFNAMSIZ - 1 bytes). */
const DeviceName = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(15),
  v.regex(/^[^\s/"]+$/, "an interface name has no spaces, / or quotes"),
)

export const FAMILIES = ["inet", "ip", "ip6", "arp", "bridge", "netdev"] as const
const Family = v.picklist(FAMILIES, `family must be one of ${FAMILIES.join(", ")}`)

export const CommonRuleSchema = v.strictObject({
  match: v.optional(MatchSchema),
  counter: v.optional(v.boolean()),
  verdict: v.optional(VerdictSchema),
  comment: v.optional(v.pipe(v.string(), v.maxLength(128))),
})

export const RawRuleSchema = v.strictObject({
  expr: v.pipe(v.array(ExprSchema), v.minLength(1, "a raw rule needs at least one expression")),
  comment: v.optional(v.pipe(v.string(), v.maxLength(128))),
})

/** A rule in nft's own syntax, one rule per string ("ip saddr 10.0.0.0/8 tcp dport { 22, 80 } accept"). */
export const TextRuleSchema = v.pipe(
  v.string(),
  v.minLength(1, "a rule text is not empty"),
  v.maxLength(4096, "a rule text is at most 4096 characters"),
  v.rawCheck(({ dataset, addIssue }) => {
    const problem = dataset.typed ? textRuleProblem(dataset.value) : undefined
    if (problem) addIssue({ message: problem })
  }),
)

/** A string is nft text, `{ expr: [...] }` the raw form, anything else the common form (so issues name the right fields). */
export const RuleSpecSchema = v.lazy((input) =>
  input instanceof TextRule
    ? v.instance(TextRule) // validated output validated again: already compiled
    : typeof input === "string"
      ? TextRuleSchema
      : typeof input === "object" && input !== null && "expr" in input
        ? RawRuleSchema
        : CommonRuleSchema,
)

export const ChainSpecSchema = v.pipe(
  v.strictObject({
    name: Name,
    /** base chains: type, hook and priority together */
    type: v.optional(v.picklist(["filter", "nat", "route"])),
    hook: v.optional(v.picklist(["prerouting", "input", "forward", "output", "postrouting", "ingress", "egress"])),
    /** a number, or nft's name for one: "filter", "dstnat - 10", "srcnat" (by the table's family) */
    priority: v.optional(
      v.union(
        [v.pipe(v.number(), v.integer()), v.pipe(v.string(), v.maxLength(32))],
        'a priority is a number or a name like "dstnat - 10"',
      ),
    ),
    policy: v.optional(v.picklist(["accept", "drop"])),
    device: v.optional(DeviceName),
    /** a netdev chain on several devices: `devices = { "eth0", "eth1" }` */
    devices: v.optional(
      v.pipe(
        v.array(DeviceName),
        v.minLength(1, "devices lists at least one device"),
        v.maxLength(256, "a chain hooks at most 256 devices"),
        v.check((d) => new Set(d).size === d.length, "a device is listed twice"),
      ),
    ),
    rules: v.optional(v.array(RuleSpecSchema), []),
  }),
  v.check((c) => !(c.device && c.devices), "give device or devices, not both"),
  v.check((c) => c.hook !== undefined || (!c.device && !c.devices), "only a base chain (with a hook) has devices"),
  // one device is kept as `device` (the kernel reports it so), several sorted (as it lists them)
  v.transform((c) => {
    if (!c.devices) return c
    const { devices, ...rest } = c
    return devices.length === 1 ? { ...rest, device: devices[0]! } : { ...rest, devices: [...devices].sort() }
  }),
  v.check(
    (c) => (c.type === undefined) === (c.hook === undefined),
    "a base chain needs both type and hook (a regular chain neither)",
  ),
  v.check((c) => c.hook !== undefined || c.policy === undefined, "only a base chain (with a hook) has a policy"),
)

/** What the kernel refuses of a base chain in a table of family `fam`: hooks, priorities, devices. */
function chainHookIssues(
  fam: string,
  c: {
    name: string
    hook?: string | undefined
    priority?: number | string | undefined
    device?: string | undefined
    devices?: string[] | undefined
  },
): string[] {
  const out: string[] = []
  const say = (what: string) => out.push(`chain "${c.name}": ${what}`)
  if (c.hook && fam === "arp" && !(c.hook in ARP_HOOKS))
    say(`an arp table's hooks are input, output and forward (not ${c.hook})`)
  const prio = c.priority === undefined ? undefined : priorityNumber(fam, c.priority, c.hook)
  if (typeof prio === "string") say(prio)
  if (c.hook && fam === "netdev" && c.hook !== "ingress" && c.hook !== "egress")
    say(`a netdev table's base chains hook ingress or egress (not ${c.hook})`)
  if (c.hook === "egress" && fam !== "netdev") say("the egress hook is a netdev table's")
  if (c.hook === "ingress" && fam !== "netdev" && fam !== "inet") say("the ingress hook is a netdev or inet table's")
  if ((fam === "netdev" || c.hook === "ingress") && c.hook && !c.device && !c.devices)
    say("an ingress or egress chain names its device (device: eth0, or devices: [...])")
  if (c.hook && fam !== "netdev" && c.hook !== "ingress" && (c.device || c.devices))
    say("only ingress and egress chains are on devices")
  return out
}

const TableShapeSchema = v.pipe(
  v.strictObject({
    family: Family,
    name: Name,
    /** owner: the table lives as long as this source's socket, and nobody else may change it; dormant: not active */
    flags: v.optional(v.array(v.picklist(["owner", "dormant"])), []),
    sets: v.optional(v.array(SetSpecSchema), []),
    chains: v.optional(v.array(ChainSpecSchema), []),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const names = new Set<string>()
    for (const c of dataset.value.chains) {
      const fam = dataset.value.family
      for (const message of chainHookIssues(fam, c)) addIssue({ message })
      if (names.has(c.name))
        addIssue({
          message: `chain "${c.name}" is defined twice in table ${dataset.value.family} ${dataset.value.name}`,
        })
      names.add(c.name)
    }
    const sets = new Map(dataset.value.sets.filter((x) => !x.map).map((x) => [x.name, x.type]))
    if (new Set(dataset.value.sets.map((x) => x.name)).size !== dataset.value.sets.length)
      addIssue({ message: `a set name is used twice in table ${dataset.value.name}` })
    const needs = (ref: unknown, type: string, where: string) => {
      if (typeof ref !== "string" || !ref.startsWith("@")) return
      const t = sets.get(ref.slice(1))
      if (!t) addIssue({ message: `${where} uses ${ref}, which is not a set of table ${dataset.value.name}` })
      else if (t !== type) addIssue({ message: `${where} uses ${ref}, a set of ${t}, where ${type} is needed` })
    }
    const family = dataset.value.family
    for (const c of dataset.value.chains) {
      c.rules.forEach((r, i) => {
        if (typeof r === "string" || r instanceof TextRule || "expr" in r) return
        const where = `chain ${c.name} rule ${i}`
        const m = r.match ?? {}
        // what nft refuses: a match of the other IP version than the table's, which could never match
        if (family === "ip" && m.ip6)
          addIssue({ message: `${where}: an ip6 match in an ip table never matches (use an inet or ip6 table)` })
        if (family === "ip6" && m.ip)
          addIssue({ message: `${where}: an ip match in an ip6 table never matches (use an inet or ip table)` })
        // a NAT target with a port needs the transport protocol fixed first (nft: "transport protocol mapping is only valid after transport protocol match")
        const v = "verdict" in r ? r.verdict : undefined
        const nat =
          v && typeof v === "object" && !("key" in v)
            ? "dnat" in v
              ? v.dnat
              : "snat" in v
                ? v.snat
                : undefined
            : undefined
        const l4 = m.tcp || m.udp || (m.meta?.l4proto !== undefined && m.meta.l4proto !== "icmp")
        if (typeof nat === "string" && parseNatTarget(nat)?.port !== undefined && !l4)
          addIssue({
            message: `${where}: ${nat} names a port, so the rule needs a tcp or udp match (nft refuses it otherwise)`,
          })
      })
    }
    for (const c of dataset.value.chains) {
      for (const r of c.rules) {
        if (typeof r !== "string" && !(r instanceof TextRule) && !("expr" in r) && r.match) {
          const m = r.match
          needs(m.ip?.saddr, "ipv4_addr", `chain ${c.name}`)
          needs(m.ip?.daddr, "ipv4_addr", `chain ${c.name}`)
          needs(m.ip6?.saddr, "ipv6_addr", `chain ${c.name}`)
          needs(m.ip6?.daddr, "ipv6_addr", `chain ${c.name}`)
          for (const l4 of [m.tcp, m.udp]) {
            needs(l4?.sport, "inet_service", `chain ${c.name}`)
            needs(l4?.dport, "inet_service", `chain ${c.name}`)
          }
        }
      }
    }
    for (const c of dataset.value.chains) {
      for (const r of c.rules) {
        if (typeof r === "string" || r instanceof TextRule) continue
        const target =
          "verdict" in r && r.verdict && typeof r.verdict === "object"
            ? "jump" in r.verdict
              ? r.verdict.jump
              : "goto" in r.verdict
                ? r.verdict.goto
                : undefined
            : undefined
        if ("verdict" in r && r.verdict && typeof r.verdict === "object" && "key" in r.verdict) {
          const ref = "vmap" in r.verdict ? r.verdict.vmap : "dnat" in r.verdict ? r.verdict.dnat : r.verdict.snat
          const m = dataset.value.sets.find((x) => x.name === ref.slice(1))
          if (!m?.map)
            addIssue({ message: `chain ${c.name} uses ${ref}, which is not a map of table ${dataset.value.name}` })
          else if ("vmap" in r.verdict ? m.map !== "verdict" : m.map === "verdict" || m.map === "inet_service")
            addIssue({ message: `chain ${c.name} uses ${ref}, a map to ${m.map}, which does not fit this verdict` })
        }
        if (target !== undefined && !names.has(target))
          addIssue({
            message: `chain ${c.name} jumps to "${target}", which is not a chain of table ${dataset.value.name}`,
          })
      }
    }
  }),
)

/** Path items from a table to one of its chains (and rule), for issues of the compile step. */
function rulePath(table: TableShape, chain?: number, rule?: number) {
  const chains = table.chains
  const items: [v.IssuePathItem, ...v.IssuePathItem[]] = [
    { type: "object", origin: "value", input: table, key: "chains", value: chains },
  ]
  if (chain === undefined) return items
  const c = chains[chain]!
  items.push({ type: "array", origin: "value", input: chains, key: chain, value: c })
  if (rule === undefined) return items
  items.push({ type: "object", origin: "value", input: c, key: "rules", value: c.rules })
  items.push({ type: "array", origin: "value", input: c.rules, key: rule, value: c.rules[rule] })
  return items
}

type TableShape = v.InferOutput<typeof TableShapeSchema>

/** A whole table as nft text: the body of `table inet edge { … }`, compiled by nft (table-text.ts). */
const TableTextSchema = v.pipe(
  v.strictObject({
    family: Family,
    name: Name,
    flags: v.optional(v.array(v.picklist(["owner", "dormant"])), []),
    nft: v.pipe(v.string(), v.maxLength(4 << 20, "a table text is at most 4 MiB")),
  }),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const { family, name, flags, nft } = dataset.value
    const path: [v.IssuePathItem] = [{ type: "object", origin: "value", input: dataset.value, key: "nft", value: nft }]
    try {
      const out = compileTableText(family, name, flags, nft)
      if (out instanceof NftTextTable) return out as unknown as TableSpec
      for (const message of out.issues) addIssue({ message, path })
    } catch (e) {
      addIssue({ message: (e as Error).message, path })
    }
    return NEVER
  }),
)

/** A table with its rule texts compiled by nft (once per validation: desired state changed). */
const TableShapeSpecSchema = v.pipe(
  TableShapeSchema,
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    // priorities by name become numbers (checked above)
    const t = {
      ...dataset.value,
      chains: dataset.value.chains.map((c) => ({
        ...c,
        priority: c.priority === undefined ? undefined : (priorityNumber(dataset.value.family, c.priority) as number),
      })),
    }
    let compiled: ReturnType<typeof compileTextRules>
    try {
      compiled = compileTextRules(t)
    } catch (e) {
      addIssue({ message: (e as Error).message, path: rulePath(t) })
      return NEVER
    }
    for (const i of compiled.issues) addIssue({ message: i.message, path: rulePath(t, i.chain, i.rule) })
    if (compiled.issues.length) return NEVER
    if (!compiled.rules.size) return t as TableSpec
    const chains = t.chains.map((c, ci) => ({
      ...c,
      rules: c.rules.map((r, ri) => (typeof r === "string" ? compiled.rules.get(`${ci}:${ri}`)! : r)),
    }))
    return { ...t, chains } as TableSpec
  }),
)

/** A table: chains and sets, or `nft` text; a compiled one (validated again) as it is. */
export const TableSpecSchema = v.lazy((input) =>
  input instanceof NftTextTable
    ? v.pipe(
        v.instance(NftTextTable),
        v.transform((t) => t as unknown as TableSpec),
      )
    : typeof input === "object" && input !== null && "nft" in input
      ? TableTextSchema
      : TableShapeSpecSchema,
)

export const NftDesiredSchema = v.pipe(
  v.strictObject({ tables: v.optional(v.array(TableSpecSchema), []) }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const seen = new Set<string>()
    for (const t of dataset.value.tables) {
      const k = `${t.family} ${t.name}`
      if (seen.has(k)) addIssue({ message: `table ${k} is defined twice` })
      seen.add(k)
    }
  }),
)

export const NftOwnershipSchema = v.strictObject({
  /** whole tables this loop owns: created, rewritten and deleted by it */
  tables: v.array(v.strictObject({ family: Family, name: Name })),
  /** take over a desired table that exists but is not listed as owned. Default false */
  adopt: v.optional(v.boolean()),
})

export type NftDesired = v.InferOutput<typeof NftDesiredSchema>
/** a chain after validation: its rule texts compiled */
export type ChainSpec = Omit<v.InferOutput<typeof ChainSpecSchema>, "rules" | "priority"> & {
  rules: RuleSpec[]
  priority?: number
}
export type TableSpec = Omit<TableShape, "chains"> & {
  chains: ChainSpec[]
  /** named stateful objects (a table written as nft text) */
  objects?: NamedObject[]
}
/** a rule after validation: common, raw, or nft text compiled */
export type RuleSpec = Exclude<v.InferOutput<typeof RuleSpecSchema>, string> | TextRule
export type NftOwnership = v.InferOutput<typeof NftOwnershipSchema>
