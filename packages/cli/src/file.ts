// Desired-state files: YAML or JSON with `source`, optional `netns`, `ownership`,
// `desired`. Every problem names the file; schema issues come as `path: message`.
import { readFileSync } from "node:fs"
import { DesiredStateError, validate } from "@linx/reconcile"
import { sourceEntry, type SourceEntry } from "./sources.ts"

export interface DesiredFile {
  path: string
  source: string
  netns?: string
  ownership: unknown
  /** desired state as written */
  desired: unknown
  entry: SourceEntry
}

/** A file that cannot be used: unreadable, unparsable, or invalid. Exit code 1. */
export class FileError extends Error {
  override readonly name = "FileError"
  constructor(
    readonly path: string,
    readonly issues: string[],
  ) {
    super(`${path}: ${issues.length === 1 ? issues[0] : `invalid:\n  ${issues.join("\n  ")}`}`)
  }
}

const KEYS = new Set(["source", "netns", "ownership", "desired"])

export function parseText(path: string, text: string): unknown {
  try {
    if (path.endsWith(".json")) return JSON.parse(text)
    const doc = Bun.YAML.parse(text)
    return doc
  } catch (e) {
    throw new FileError(path, [`cannot parse ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`])
  }
}

/** Reads, parses and validates a desired-state file. */
export async function loadFile(path: string, text?: string): Promise<DesiredFile> {
  let body = text
  if (body === undefined) {
    try {
      body = readFileSync(path, "utf8")
    } catch (e) {
      throw new FileError(path, [
        `cannot read: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
      ])
    }
  }
  const doc = parseText(path, body)
  if (Array.isArray(doc) && !path.endsWith(".json"))
    throw new FileError(path, ["holds several YAML documents; put one desired state per file"])
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new FileError(path, ["must be a mapping with source, ownership and desired"])
  const o = doc as Record<string, unknown>
  const issues: string[] = []
  for (const k of Object.keys(o))
    if (!KEYS.has(k)) issues.push(`${k}: unknown key (expected source, netns, ownership, desired)`)
  if (typeof o.source !== "string") issues.push('source: required: "rtnl", "netfilter" or "sysctl"')
  if (o.netns !== undefined && (typeof o.netns !== "string" || !o.netns))
    issues.push("netns: must be a namespace name or path")
  if (o.desired === undefined) issues.push("desired: required")
  if (issues.length) throw new FileError(path, issues)
  const entry = sourceEntry(o.source as string)
  if (!entry) throw new FileError(path, [`source: unknown source "${o.source}": use rtnl, netfilter or sysctl`])
  try {
    await validate(entry.schema, o.desired)
  } catch (e) {
    if (e instanceof DesiredStateError)
      throw new FileError(
        path,
        e.issues.map((i) => `desired.${i}`),
      )
    throw e
  }
  if (entry.ownershipSchema && o.ownership !== undefined) {
    try {
      await validate(entry.ownershipSchema, o.ownership, "ownership")
    } catch (e) {
      if (e instanceof DesiredStateError)
        throw new FileError(
          path,
          e.issues.map((i) => `ownership.${i}`),
        )
      throw e
    }
  }
  const f: DesiredFile = {
    path,
    source: entry.kind,
    ownership: o.ownership ?? entry.defaultOwnership,
    desired: o.desired,
    entry,
  }
  if (typeof o.netns === "string") f.netns = o.netns
  return f
}
