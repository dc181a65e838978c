// show, plan, apply: one look at the kernel, or one pass, from the command line.
import { needsRoot } from "./caps.ts"
import type { ApplyReport, NetnsRef } from "@linx/netlink"
import type { TextBytes } from "@linx/netlink/ip"
import type { AnySource } from "@linx/reconcile"
import { isConflictOp, validate } from "@linx/reconcile"
import { type DesiredFile, FileError, loadFile } from "./file.ts"
import { type ExitCode, type Output, stdio, textOut } from "./output.ts"
import { type ShowSection, type SourceEntry, sourceEntry, SOURCE_KINDS } from "./sources.ts"

export { type ExitCode, guard, type Output, stdio } from "./output.ts"

function table(s: ShowSection): string[] {
  const head = [" ", ...s.columns]
  const rows = s.rows.map((r) => [r.owned ? "*" : " ", ...r.cells])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  return [`${s.title} (${s.rows.length}, * = owned)`, line(head), ...rows.map(line)]
}

function netnsOf(opt: string | undefined, file?: DesiredFile): NetnsRef {
  return opt ?? file?.netns
}

/** `show --desired`: a desired-state document (JSON) of what the kernel holds, for `apply` to take back. */
async function showDesired(
  entry: NonNullable<ReturnType<typeof sourceEntry>>,
  kind: string,
  opts: { netns?: string; file?: string },
  io: Output,
): Promise<ExitCode> {
  if (!entry.asDesired) {
    io.err(
      `linx show --desired: not for ${kind} yet (netfilter: every table as nft text; rtnl and sysctl: with --file)`,
    )
    return 1
  }
  const file = opts.file ? await loadFile(opts.file) : undefined
  if (file && file.source !== kind) throw new FileError(opts.file!, [`is a ${file.source} file, not ${kind}`])
  const netns = netnsOf(opts.netns, file)
  const doc = (await entry.asDesired(netns, file)) as Record<string, unknown>
  if (typeof netns === "string") doc.netns = netns
  io.out(JSON.stringify(doc, null, 2))
  return 0
}

export async function showCommand(
  kind: string,
  opts: { netns?: string; json?: boolean; file?: string; desired?: boolean },
  io: Output = stdio,
): Promise<ExitCode> {
  const entry = sourceEntry(kind)
  if (!entry) {
    io.err(`linx show: unknown source "${kind}": use ${SOURCE_KINDS.join(", ")}`)
    return 1
  }
  if (opts.desired) return showDesired(entry, kind, opts, io)
  let ownership = entry.defaultOwnership
  let netns: NetnsRef = opts.netns
  let file: DesiredFile | undefined
  if (opts.file) {
    file = await loadFile(opts.file)
    if (file.source !== kind) throw new FileError(opts.file, [`is a ${file.source} file, not ${kind}`])
    ownership = file.ownership
    netns = netnsOf(opts.netns, file)
  } else if (entry.showAll) {
    const shown = entry.showAll(netns)
    if (opts.json) io.out(JSON.stringify(shown.json, null, 2))
    else for (const s of shown.sections) io.out([...table(s), ""].join("\n"))
    return 0
  }
  const source = entry.create(netns)
  try {
    // with a file: observe as the loop would, and mark owned what the diff may touch
    const desired = file?.valid
    const own = file ? await validOwnership(entry, ownership) : undefined
    const observed = await source.observe({ desired, ownership: own })
    const shown = entry.show(observed, desired, own, netns)
    if (opts.json) io.out(JSON.stringify(shown.json, null, 2))
    else for (const s of shown.sections) io.out([...table(s), ""].join("\n"))
    return 0
  } finally {
    await source.close()
  }
}

/**
 * A source that can send its ops without committing them (netfilter: the transaction in
 * check mode) has the kernel judge the plan: what it would refuse is known before apply.
 */
async function kernelCheck(
  source: AnySource,
  ops: readonly unknown[],
  observed: unknown,
  describe: (op: unknown) => string,
): Promise<{ accepted: boolean; refused: { op: string; error: string }[] } | undefined> {
  const check = (source as { check?: (ops: readonly unknown[], o: unknown) => Promise<ApplyReport<unknown>> }).check
  const real = ops.filter((op) => !isConflictOp(op))
  if (!check || !real.length) return undefined
  const report = await check.call(source, real, observed)
  const refused = report.failed
    .filter((x) => !x.error.message.startsWith("not applied:")) // the ops aborted with the one refused
    .map((x) => ({ op: describe(x.op), error: x.error.message }))
  return { accepted: report.failed.length === 0, refused }
}

export async function planCommand(
  path: string,
  opts: { netns?: string; json?: boolean; apply?: boolean },
  io: Output = stdio,
): Promise<ExitCode> {
  const f = await loadFile(path)
  const source = f.entry.create(netnsOf(opts.netns, f))
  try {
    const desired = f.valid // validated by loadFile
    const ownership = await validOwnership(f.entry, f.ownership)
    // the verbs exactly as the loop calls them
    const observed = await source.observe({ desired, ownership })
    const ops = source.diff(desired, observed, ownership)
    // described when written, a block at a time: a million-route plan keeps no million strings
    const describe = (op: unknown) => source.describe(op)
    const conflicts = ops.filter(isConflictOp)
    // what cannot be done yet (a sysctl key whose interface does not exist): not "nothing to do"
    const waiting = f.entry.waiting?.(observed) ?? []
    if (!opts.apply) {
      const checked = await kernelCheck(source, ops, observed, describe)
      if (opts.json) {
        const described = ops.map(describe)
        const details = ops.map((op, i) => ({ ...detailOf(op), op: described[i] }))
        io.out(
          JSON.stringify(
            {
              file: path,
              source: f.source,
              ops: described,
              details,
              waiting,
              ...(checked ? { check: checked } : {}),
              pending: ops.length > 0 || waiting.length > 0,
            },
            null,
            2,
          ),
        )
      } else printPlan(io, path, ops, describe, conflicts.length, waiting, checked)
      if (checked && !checked.accepted) return 1
      return ops.length || waiting.length ? 2 : 0
    }
    const denied0 = ops.length ? needsRoot("apply", f.netns !== undefined || f.source === "netfilter") : undefined
    if (denied0) {
      io.err(denied0)
      return 1
    }
    const report = await source.reconcile(
      ops.filter((op) => !isConflictOp(op)),
      observed,
    )
    const failed = new Map(report.failed.map((x) => [x.op, x.error]))
    const denied = (e: Error) => ["EPERM", "EACCES"].includes(String((e as { code?: unknown }).code))
    if (report.failed.length && !report.applied.length && report.failed.every((f) => denied(f.error))) {
      // not one op allowed: say so once, not once per op
      io.err(
        `linx apply: changing the network needs root (CAP_NET_ADMIN${f.netns ? ", CAP_SYS_ADMIN for namespaces" : ""}): run it as root; nothing was applied`,
      )
      return 1
    }
    const results = ops.map((op) => {
      const d = describe(op)
      if (d.startsWith("# conflict")) return { op: d, result: "conflict" as const }
      const e = failed.get(op)
      return e ? { op: d, result: "failed" as const, error: e.message } : { op: d, result: "ok" as const }
    })
    if (opts.json) io.out(JSON.stringify({ file: path, source: f.source, results }, null, 2))
    else {
      if (!ops.length) io.out(`${path}: nothing to do, the kernel matches the desired state`)
      for (const r of results)
        io.out(
          r.result === "ok"
            ? `ok      ${r.op}`
            : r.result === "conflict"
              ? `skip    ${r.op}`
              : `FAILED  ${r.op}\n        ${r.error}`,
        )
      if (ops.length)
        io.out(`${report.applied.length} applied, ${report.failed.length} failed, ${conflicts.length} conflict(s)`)
    }
    return report.failed.length || conflicts.length ? 1 : 0
  } finally {
    await source.close()
  }
}

/** An op that writes its own description as bytes (a packed route create: no string made). */
interface DescribedInto {
  describeInto(out: TextBytes): void
}

const isDescribedInto = (op: unknown): op is DescribedInto =>
  typeof (op as Partial<DescribedInto> | undefined)?.describeInto === "function"

/** `linx plan`'s text: a count, then each op as `ip`/`nft`/`sysctl` text, what waits, the kernel's word. */
function printPlan(
  io: Output,
  path: string,
  ops: readonly unknown[],
  describe: (op: unknown) => string,
  conflicts: number,
  waiting: readonly string[],
  checked: { accepted: boolean; refused: { op: string; error: string }[] } | undefined,
): void {
  if (!ops.length && !waiting.length) {
    io.out(`${path}: nothing to do, the kernel matches the desired state`)
    return
  }
  // written as bytes through one buffer, each op described as written: a million-route plan
  // is a million lines, not a million writes, strings or buffers
  const out = textOut(io)
  const line = (text: string) => out.text(text).byte(10)
  line(
    `${path}: ${ops.length - conflicts} change(s) pending${conflicts ? `, ${conflicts} conflict(s)` : ""}${waiting.length ? `, ${waiting.length} waiting` : ""}`,
  )
  for (const op of ops) {
    out.text("  ")
    if (isDescribedInto(op)) op.describeInto(out)
    else out.text(describe(op))
    out.byte(10)
  }
  for (const w of waiting) line(`  # waiting: ${w}`)
  if (checked?.accepted) line("  # the kernel accepts these changes (checked, nothing committed)")
  const [first, ...rest] = checked?.refused ?? []
  if (first) line(`  # the kernel would refuse: ${first.op}: ${first.error}`)
  if (rest.length) line(`  # (and ${rest.length} more op(s) after it; --json lists them)`)
  out.end()
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

/** Ownership as the source's schema normalises it (what the loop hands its verbs). */
async function validOwnership(entry: SourceEntry, ownership: unknown): Promise<unknown> {
  return entry.ownershipSchema
    ? validate(entry.ownershipSchema, ownership ?? entry.defaultOwnership, "ownership")
    : ownership
}
