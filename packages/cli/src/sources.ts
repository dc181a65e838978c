// The sources the CLI knows, and how `show` presents what each observes.
import type { NetnsRef } from "@linx/netlink"
import { type AnySource, validate } from "@linx/reconcile"
import {
  carryOwnership,
  createRtnlSource,
  type RtnlDesired,
  RtnlDesiredSchema,
  type RtnlObserved,
  type RtnlOwnership,
  RtnlOwnershipSchema,
  rtnlAsDesired,
  scanRouteListJson,
  showRtnl,
} from "@linx/source-rtnl"
import type { PackedReader } from "./json-packed.ts"
import type { StandardSchemaV1 } from "@standard-schema/spec"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { Netns } from "@linx/netlink"
import {
  createNftSource,
  type NftDesired,
  NftDesiredSchema,
  type NftObserved,
  type NftOwnership,
  NftOwnershipSchema,
  nftRuleTexts,
  nftTableTexts,
  showNft,
} from "@linx/source-netfilter"
import {
  createSysctlSource,
  interfaceOf,
  keyName,
  keyPath,
  SysctlDesiredSchema,
  SysctlOwnershipSchema,
  type SysctlObserved,
} from "@linx/source-sysctl"

export interface ShowSection {
  title: string
  columns: string[]
  rows: { cells: string[]; owned: boolean }[]
}

export interface SourceEntry {
  kind: string
  schema: StandardSchemaV1<unknown, unknown>
  ownershipSchema?: StandardSchemaV1<unknown, unknown>
  defaultOwnership: unknown
  create(netns: NetnsRef): AnySource
  /** what `show` prints, and its JSON form: the source's own rows, owned exactly as its diff decides */
  show(
    observed: unknown,
    desired: unknown,
    ownership: unknown,
    netns?: NetnsRef,
  ): { sections: ShowSection[]; json: unknown }
  /**
   * Ownership after a reload changed it: kernel markers the old one used stay this
   * loop's (rewritten with the new ones), and `changed` says which moved.
   */
  carryOwnership?(before: unknown, next: unknown): { ownership: unknown; changed: string[] }
  /** what cannot be applied yet and is waited for (shown by `plan`) */
  waiting?(observed: unknown): string[]
  /**
   * For `show --desired`: what the kernel holds as a desired-state document (source,
   * ownership, desired) that `apply` takes back (show → edit → apply).
   */
  asDesired?(netns: NetnsRef, file?: { desired: unknown; ownership: unknown }): Promise<unknown> | unknown
  /** for `show` without a file: what to list when no desired state says what to look at */
  showAll?(netns: NetnsRef): { sections: ShowSection[]; json: unknown }
  /** lists under `desired` read packed from a JSON file's bytes (json-packed.ts), by key */
  packedJson?: Readonly<Record<string, PackedReader>>
}

const ENTRIES: Record<string, SourceEntry> = {
  rtnl: {
    kind: "rtnl",
    schema: RtnlDesiredSchema as StandardSchemaV1<unknown, unknown>,
    ownershipSchema: RtnlOwnershipSchema as StandardSchemaV1<unknown, unknown>,
    defaultOwnership: {},
    create: (netns) => createRtnlSource({ netns }),
    packedJson: { routes: scanRouteListJson },
    carryOwnership: (before, next) =>
      carryOwnership(before as RtnlOwnership | undefined, next as RtnlOwnership | undefined),
    show: (o, d, own) => showRtnl(o as RtnlObserved, d as RtnlDesired | undefined, own as RtnlOwnership | undefined),
    // what the file's ownership covers, as desired state
    async asDesired(netns, file) {
      if (!file) throw new Error("rtnl: give --file, whose ownership says which objects are shown")
      const own = await validate(RtnlOwnershipSchema, file.ownership ?? {})
      const source = createRtnlSource({ netns })
      try {
        const desired = rtnlAsDesired(await source.observe(), own)
        return { source: "rtnl", ownership: file.ownership ?? {}, desired }
      } finally {
        await source.close()
      }
    },
  },
  netfilter: {
    kind: "netfilter",
    schema: NftDesiredSchema as StandardSchemaV1<unknown, unknown>,
    ownershipSchema: NftOwnershipSchema as StandardSchemaV1<unknown, unknown>,
    defaultOwnership: { tables: [] },
    create: (netns) => createNftSource({ netns }),
    // every table as nft text (nft's own listing): owned ones as the file says, all of them without a file
    asDesired(netns, file) {
      const tables = nftTableTexts(netns)
      const owned = (file?.ownership as NftOwnership | undefined)?.tables
      const keep = owned?.length
        ? tables.filter((t) => owned.some((o) => o.family === t.family && o.name === t.name))
        : tables
      return {
        source: "netfilter",
        ownership: { tables: keep.map((t) => ({ family: t.family, name: t.name })) },
        desired: { tables: keep },
      }
    },
    // rules outside the common form are shown as nft lists them
    show: (o, d, own, netns) =>
      showNft(o as NftObserved, d as NftDesired | undefined, own as NftOwnership | undefined, nftRuleTexts(netns)),
  },
  sysctl: {
    kind: "sysctl",
    schema: SysctlDesiredSchema as StandardSchemaV1<unknown, unknown>,
    ownershipSchema: SysctlOwnershipSchema as StandardSchemaV1<unknown, unknown>,
    defaultOwnership: {},
    create: (netns) => createSysctlSource({ netns }),
    // the keys a file names, with the values the kernel holds now
    async asDesired(netns, file) {
      if (!file)
        throw new Error("sysctl has thousands of keys: give --file, whose keys are shown with their values now")
      const source = createSysctlSource({ netns })
      try {
        const desired = await validate(SysctlDesiredSchema, file.desired)
        const o = await source.observe({ desired })
        const values = Object.fromEntries([...o.values].map(([k, v]) => [keyName(k), v.trim().split(/\s+/).join(" ")]))
        return { source: "sysctl", ownership: file.ownership ?? {}, desired: values }
      } finally {
        await source.close()
      }
    },
    waiting: (o) =>
      [...(o as SysctlObserved).pending].map(
        (k) => `${keyName(k)}: interface ${interfaceOf(k) ?? "?"} does not exist yet (applied when it appears)`,
      ),
    show(o) {
      const obs = o as SysctlObserved
      const rows = [...obs.values].map(([k, v]) => ({
        owned: true,
        cells: [keyName(k), v.trim().split(/\s+/).join(" ")],
      }))
      for (const k of obs.pending)
        rows.push({ owned: true, cells: [keyName(k), "(pending: its interface does not exist)"] })
      for (const [k, f] of obs.unreadable) rows.push({ owned: true, cells: [keyName(k), `(unreadable: ${f.code})`] })
      return {
        sections: [{ title: "sysctl", columns: ["key", "value"], rows }],
        json: {
          values: Object.fromEntries([...obs.values].map(([k, v]) => [keyName(k), v.trim().split(/\s+/).join(" ")])),
          pending: [...obs.pending].map(keyName),
          unreadable: Object.fromEntries([...obs.unreadable].map(([k, f]) => [keyName(k), f.code])),
        },
      }
    },
    showAll(netns) {
      // every key under /proc/sys/net of the namespace (sysctl -a net), read on the JS thread while switched
      const ns = Netns.open(netns)
      try {
        const values = ns.run(() => {
          const out: [string, string][] = []
          const walk = (dir: string) => {
            for (const name of readdirSync(dir)) {
              const p = `${dir}/${name}`
              const st = statSync(p)
              if (st.isDirectory()) walk(p)
              else if (st.mode & 0o444) {
                try {
                  out.push([
                    keyName(keyPath(p.slice("/proc/sys/".length))),
                    readFileSync(p, "utf8").trim().split(/\s+/).join(" "),
                  ])
                } catch {
                  // write-only or vanished
                }
              }
            }
          }
          walk("/proc/sys/net")
          return out
        })
        return {
          sections: [
            {
              title: "sysctl net.* (no file given: nothing is owned)",
              columns: ["key", "value"],
              rows: values.map(([k, v]) => ({ owned: false, cells: [k, v] })),
            },
          ],
          json: { values: Object.fromEntries(values) },
        }
      } finally {
        ns.close()
      }
    },
  },
}

export function sourceEntry(kind: string): SourceEntry | undefined {
  return ENTRIES[kind]
}

export const SOURCE_KINDS = Object.keys(ENTRIES)
