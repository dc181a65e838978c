// Rule texts as nft lists them, for `linx show`: nft's own listing of the namespace
// (libnftables, read-only), keyed by table and rule handle. A rule nft cannot print
// (none in practice) is shown from its expressions instead.
import { Netns, type NetnsRef } from "@linx/netlink"
import { NftContext } from "./ffi/libnftables.ts"

const NFT_CTX_OUTPUT_STATELESS = 1 << 2
const NFT_CTX_OUTPUT_HANDLE = 1 << 3

/** "family table handle" → the rule as `nft list ruleset` prints it (stateless: no counter values). */
export function nftRuleTexts(netns?: NetnsRef): Map<string, string> {
  const ns = Netns.open(netns)
  const ctx = new NftContext(ns)
  try {
    ctx.setOutputFlags(NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS)
    return parseListing(ns.run(() => ctx.list("list ruleset")))
  } finally {
    ctx.close()
    ns.close()
  }
}

/**
 * Each table of the namespace as nft lists it, as the body of `table F T { … }` (stateless:
 * no counter values): what a table given as nft text (`{ family, name, nft }`) takes, so a
 * shown ruleset can be applied back.
 */
export function nftTableTexts(netns?: NetnsRef): { family: string; name: string; nft: string }[] {
  const ns = Netns.open(netns)
  const ctx = new NftContext(ns)
  try {
    ctx.setOutputFlags(NFT_CTX_OUTPUT_STATELESS)
    const text = ns.run(() => ctx.list("list ruleset"))
    const out: { family: string; name: string; nft: string }[] = []
    let current: { family: string; name: string; lines: string[] } | undefined
    for (const line of text.split("\n")) {
      const head = /^table (\S+) (\S+) \{/.exec(line)
      if (head) current = { family: head[1]!, name: head[2]!, lines: [] }
      else if (line === "}" && current) {
        out.push({
          family: current.family,
          name: current.name,
          nft: `${current.lines.map((l) => l.replace(/^\t/, "")).join("\n")}\n`,
        })
        current = undefined
      } else current?.lines.push(line)
    }
    return out
  } finally {
    ctx.close()
    ns.close()
  }
}

/** Rule lines of a listing with handles: inside `table F T {`, a line ending in `# handle N`. */
export function parseListing(text: string): Map<string, string> {
  const out = new Map<string, string>()
  let table = ""
  let depth = 0
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    const t = /^table (\S+) (\S+) \{/.exec(line)
    if (t && depth === 0) table = `${t[1]} ${t[2]}`
    const r = /^(.*\S)\s+# handle (\d+)$/.exec(line)
    // a rule is a line at chain depth (2) that is not a chain, set or map header
    if (r && depth === 2 && !line.endsWith("{")) out.set(`${table} ${r[2]}`, r[1]!)
    depth += (line.match(/\{/g)?.length ?? 0) - (line.match(/\}/g)?.length ?? 0)
  }
  return out
}
