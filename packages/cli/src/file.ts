// Desired-state files: YAML or JSON with `source`, optional `netns`, `ownership`,
// `desired`. Every problem names the file; schema issues come as `path: message`.
import { readFileSync } from "node:fs"
import { DesiredStateError, validate } from "@linx/reconcile"
import { parsePackedJson } from "./json-packed.ts"
import { sourceEntry, type SourceEntry } from "./sources.ts"

export interface DesiredFile {
  path: string
  source: string
  netns?: string
  /** the loop stops when this process exits */
  lifetime?: { pid: number }
  ownership: unknown
  /** desired state as written */
  desired: unknown
  /** desired state as the source's schema made it (validated once, here) */
  valid: unknown
  entry: SourceEntry
}

/** What one issue line may hold: a bad value is echoed, never a megabyte of it. */
const MAX_ISSUE = 400
const clipIssue = (s: string) =>
  s.length > MAX_ISSUE ? `${s.slice(0, MAX_ISSUE)}… (${s.length - MAX_ISSUE} more characters)` : s

/** A file that cannot be used: unreadable, unparsable, or invalid. Exit code 1. */
export class FileError extends Error {
  override readonly name = "FileError"
  /** each at most MAX_ISSUE characters */
  readonly issues: string[]
  constructor(
    readonly path: string,
    issues: string[],
  ) {
    const lines = issues.map(clipIssue)
    super(`${path}: ${lines.length === 1 ? lines[0] : `invalid:\n  ${lines.join("\n  ")}`}`)
    this.issues = lines
  }
}

const KEYS = new Set(["source", "netns", "lifetime", "ownership", "desired"])

/**
 * YAML with the traps closed: duplicate keys refused, alias expansion bounded, one document.
 * (The parser is loaded when a YAML file is read: a JSON file's command starts without it.)
 */
async function parseYaml(path: string, text: string): Promise<unknown> {
  const { parseAllDocuments } = await import("yaml")
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true })
  if (docs.length > 1)
    throw new FileError(path, [`holds ${docs.length} YAML documents; put one desired state per file`])
  const doc = docs[0]
  if (!doc) return null
  const error = doc.errors[0]
  if (error) throw new FileError(path, [`cannot parse YAML: ${error.message}`])
  try {
    // an alias repeated past this bound is a "billion laughs" document, not a network
    return doc.toJS({ maxAliasCount: 50 })
  } catch (e) {
    throw new FileError(path, [`cannot parse YAML: ${(e as Error).message}`])
  }
}

async function parseText(path: string, text: string): Promise<unknown> {
  if (!path.endsWith(".json")) return await parseYaml(path, text)
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new FileError(path, [`cannot parse JSON: ${(e as Error).message}`])
  }
}

/** Reads, parses and validates a desired-state file. */
export async function loadFile(path: string, text?: string): Promise<DesiredFile> {
  let doc: unknown
  if (text === undefined) {
    let bytes: Buffer
    try {
      bytes = readFileSync(path)
    } catch (e) {
      throw new FileError(path, [
        `cannot read: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
      ])
    }
    // a JSON file's big lists (a full routing table) read packed when they are plain
    doc = path.endsWith(".json") ? parsePackedJson(bytes, (source) => sourceEntry(source)?.packedJson) : undefined
    doc ??= await parseText(path, bytes.toString("utf8"))
  } else doc = await parseText(path, text)
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new FileError(path, [
      `must be a mapping with source, ownership and desired (it is ${Array.isArray(doc) ? "a list" : doc === null ? "empty" : `a ${typeof doc}`})`,
    ])
  const o = doc as Record<string, unknown>
  const issues: string[] = []
  for (const k of Object.keys(o))
    if (!KEYS.has(k)) issues.push(`${k}: unknown key (expected source, netns, lifetime, ownership, desired)`)
  if (typeof o.source !== "string") issues.push('source: required: "rtnl", "netfilter" or "sysctl"')
  if (o.netns !== undefined && (typeof o.netns !== "string" || !o.netns))
    issues.push("netns: must be a namespace name or path")
  if (o.desired === undefined) issues.push("desired: required")
  const pid = (o.lifetime as { pid?: unknown } | undefined)?.pid
  if (
    o.lifetime !== undefined &&
    (typeof o.lifetime !== "object" ||
      o.lifetime === null ||
      Object.keys(o.lifetime).some((k) => k !== "pid") ||
      !Number.isInteger(pid) ||
      (pid as number) <= 0)
  )
    issues.push("lifetime: must be { pid: N }: the loop stops when that process exits")
  if (issues.length) throw new FileError(path, issues)
  const entry = sourceEntry(o.source as string)
  if (!entry) throw new FileError(path, [`source: unknown source "${o.source}": use rtnl, netfilter or sysctl`])
  let valid: unknown
  try {
    valid = await validate(entry.schema, o.desired)
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
    valid,
    entry,
  }
  if (typeof o.netns === "string") f.netns = o.netns
  if (o.lifetime !== undefined) f.lifetime = { pid: pid as number }
  return f
}
