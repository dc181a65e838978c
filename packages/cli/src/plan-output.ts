// What `linx plan` and `linx apply` write: a line per op, or a JSON document, both written
// as bytes a chunk at a time (a full routing table is a million ops: no million-line string,
// no million writes, no whole document as one string).
import { TextBytes } from "@linx/netlink/ip"
import { isConflictOp } from "@linx/reconcile"
import { type Output, textOut } from "./output.ts"

/** An op that writes its own description as bytes (a packed route create: no string made). */
interface DescribedInto {
  describeInto(out: TextBytes): void
}

const isDescribedInto = (op: unknown): op is DescribedInto =>
  typeof (op as Partial<DescribedInto> | undefined)?.describeInto === "function"

/** Writes what `describe(op)` says (the op's own bytes when it has them). */
function writeOp(out: TextBytes, op: unknown, describe: (op: unknown) => string): void {
  if (isDescribedInto(op)) op.describeInto(out)
  else out.text(describe(op))
}

export interface KernelCheck {
  accepted: boolean
  refused: { op: string; error: string }[]
}

/** `linx plan`'s text: a count, then each op as `ip`/`nft`/`sysctl` text, what waits, the kernel's word. */
export function printPlan(
  io: Output,
  path: string,
  ops: readonly unknown[],
  describe: (op: unknown) => string,
  conflicts: number,
  waiting: readonly string[],
  checked: KernelCheck | undefined,
): void {
  if (!ops.length && !waiting.length) {
    io.out(`${path}: nothing to do, the kernel matches the desired state`)
    return
  }
  const out = textOut(io)
  const line = (text: string) => out.text(text).byte(10)
  line(
    `${path}: ${ops.length - conflicts} change(s) pending${conflicts ? `, ${conflicts} conflict(s)` : ""}${waiting.length ? `, ${waiting.length} waiting` : ""}`,
  )
  for (const op of ops) {
    out.text("  ")
    writeOp(out, op, describe)
    out.byte(10)
  }
  for (const w of waiting) line(`  # waiting: ${w}`)
  if (checked?.accepted) line("  # the kernel accepts these changes (checked, nothing committed)")
  const [first, ...rest] = checked?.refused ?? []
  if (first) line(`  # the kernel would refuse: ${first.op}: ${first.error}`)
  if (rest.length) line(`  # (and ${rest.length} more op(s) after it; --json lists them)`)
  out.end()
}

/** `linx apply`'s text: each op with what came of it, then the count. */
export function printApplied(
  io: Output,
  path: string,
  ops: readonly unknown[],
  describe: (op: unknown) => string,
  failed: ReadonlyMap<unknown, Error>,
  counts: { applied: number; failed: number; conflicts: number },
): void {
  if (!ops.length) {
    io.out(`${path}: nothing to do, the kernel matches the desired state`)
    return
  }
  const out = textOut(io)
  for (const op of ops) {
    const e = failed.get(op)
    out.text(isConflictOp(op) ? "skip    " : e ? "FAILED  " : "ok      ")
    writeOp(out, op, describe)
    if (e) out.text("\n        ").text(e.message)
    out.byte(10)
  }
  out.text(`${counts.applied} applied, ${counts.failed} failed, ${counts.conflicts} conflict(s)`).byte(10)
  out.end()
}

/** A list written item by item into a JSON document (its items made as they are written). */
export interface JsonList {
  readonly length: number
  item(i: number): unknown
  /** writes item i's JSON as an item of a top-level list (what `item(i)` would give), without making it */
  write?(out: TextBytes, i: number): void
}

const isJsonList = (v: unknown): v is JsonList =>
  typeof v === "object" && v !== null && typeof (v as Partial<JsonList>).item === "function"

/**
 * Writes `JSON.stringify(doc, null, 2)` — the same bytes — with each JsonList member of
 * `doc` written as an array, an item at a time.
 */
export function writeJsonDocument(io: Output, doc: Record<string, unknown>): void {
  const out = textOut(io)
  const keys = Object.keys(doc).filter((k) => doc[k] !== undefined)
  out.text("{")
  keys.forEach((k, n) => {
    out
      .text(n ? ",\n  " : "\n  ")
      .text(JSON.stringify(k))
      .text(": ")
    const v = doc[k]
    if (!isJsonList(v)) out.text(indented(v, "\n  "))
    else if (!v.length) out.text("[]")
    else {
      for (let i = 0; i < v.length; i++) {
        out.text(i ? ",\n    " : "[\n    ")
        if (v.write) v.write(out, i)
        else out.text(indented(v.item(i), "\n    "))
      }
      out.text("\n  ]")
    }
  })
  out.text(keys.length ? "\n}\n" : "}\n")
  out.end()
}

/** JSON.stringify(v, null, 2) as it reads nested: each line after the first indented by `newline`. */
function indented(v: unknown, newline: string): string {
  const s = JSON.stringify(v, null, 2) ?? "null"
  return s.includes("\n") ? s.replaceAll("\n", newline) : s
}

/** What kind of op it is, for `plan --json` (every source's ops have a kind; most an object). */
export interface OpDetail {
  kind?: string
  object?: string
  /** what the op changes, as observed (null: nothing there yet); absent when the op does not say */
  before?: unknown
  /** what it makes it (null: removed) */
  after?: unknown
}

/**
 * An op's kind, object, and before/after where the op carries them: a link update's
 * observed values and changes, a sysctl's old and new value, a create's spec.
 */
export function detailOf(op: unknown): OpDetail {
  const o = op as { kind?: unknown; object?: unknown; was?: unknown; changes?: unknown; spec?: unknown }
  const out: OpDetail = {}
  if (typeof o.kind === "string") out.kind = o.kind
  if (typeof o.object === "string") out.object = o.object
  if (o.changes !== undefined) {
    out.before = o.was ?? null
    out.after = o.changes
  } else if (o.kind === "set" && "value" in (op as object)) {
    const s = op as { value: unknown; from?: unknown }
    out.before = s.from ?? null
    out.after = s.value
  } else if (o.kind === "create" && o.spec !== undefined) {
    out.before = null
    out.after = o.spec
  } else if (o.kind === "delete") out.after = null
  return out
}

/** `plan --json`'s ops: each op's text, described as it is written (nothing kept). */
export function opTexts(ops: readonly unknown[], describe: (op: unknown) => string): JsonList {
  return { length: ops.length, item: (i) => describe(ops[i]), write: (out, i) => writeOpJson(out, ops[i], describe) }
}

/** `plan --json`'s details: each op's kind, object, before/after, and its text. */
export function opDetails(ops: readonly unknown[], describe: (op: unknown) => string): JsonList {
  const heads = new Map<string, string>()
  const item = (i: number) => ({ ...detailOf(ops[i]), op: describe(ops[i]) })
  return {
    length: ops.length,
    item,
    write(out, i) {
      const op = ops[i]
      if (!isDescribedInto(op)) {
        out.text(indented(item(i), "\n    "))
        return
      }
      // the detail's JSON without its closing brace (the same for every op of a kind when
      // it says no before/after: made once), then the op's text from its own bytes
      const detail = detailOf(op)
      const plain = !("before" in detail) && !("after" in detail)
      const key = `${detail.kind}/${detail.object}`
      let head = plain ? heads.get(key) : undefined
      if (head === undefined) {
        const whole = JSON.stringify(detail, null, 2)
        head = whole === "{}" ? "{" : `${whole.slice(0, -2).replaceAll("\n", "\n    ")},`
        if (plain) heads.set(key, head)
      }
      out.text(head)
      out.text('\n      "op": ')
      writeOpJson(out, op, describe)
      out.text("\n    }")
    },
  }
}

/** Set when an op's text did not fit the scratch: it is then written the string way. */
let overflowed = false
/** Where an op that writes its own bytes writes them, to be escaped as JSON on the way out. */
const scratch = new TextBytes(() => {
  overflowed = true
}, 4096)

/** JSON.stringify(describe(op)), from the op's own bytes when it writes them (escaped as JSON.stringify escapes). */
function writeOpJson(out: TextBytes, op: unknown, describe: (op: unknown) => string): void {
  if (isDescribedInto(op)) {
    overflowed = false
    scratch.clear()
    op.describeInto(scratch)
    if (!overflowed) {
      const b = scratch.written()
      out.byte(34)
      let plain = 0 // bytes before here and after the last escape: copied at once
      for (let k = 0; k < b.length; k++) {
        const x = b[k]!
        if (x !== 34 && x !== 92 && x >= 0x20) continue
        out.bytes(b.subarray(plain, k)).text(JSON.stringify(String.fromCharCode(x)).slice(1, -1))
        plain = k + 1
      }
      out.bytes(b.subarray(plain)).byte(34)
      return
    }
  }
  out.text(JSON.stringify(describe(op)))
}
