// show, plan, apply: one look at the kernel, or one pass, from the command line.
import { needsRoot } from "./caps.ts"
import type { ApplyReport, NetnsRef } from "@linx/netlink"
import type { AnySource } from "@linx/reconcile"
import { isConflictOp, validate } from "@linx/reconcile"
import { type DesiredFile, FileError, loadFile } from "./file.ts"
import { type ExitCode, type Output, stageClock, stdio } from "./output.ts"
import {
  type JsonList,
  type KernelCheck,
  opDetails,
  opTexts,
  printApplied,
  printPlan,
  writeJsonDocument,
} from "./plan-output.ts"
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
): Promise<KernelCheck | undefined> {
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
  opts: { netns?: string; json?: boolean; apply?: boolean; timings?: boolean },
  io: Output = stdio,
): Promise<ExitCode> {
  const clock = stageClock()
  clock.mark("start")
  const f = await loadFile(path)
  clock.mark("load")
  const source = f.entry.create(netnsOf(opts.netns, f))
  try {
    const desired = f.valid // validated by loadFile
    const ownership = await validOwnership(f.entry, f.ownership)
    // the verbs exactly as the loop calls them
    const observed = await source.observe({ desired, ownership })
    clock.mark("observe")
    const ops = source.diff(desired, observed, ownership)
    clock.mark("diff")
    // described when written, a block at a time: a million-route plan keeps no million strings
    const describe = (op: unknown) => source.describe(op)
    const conflicts = ops.filter(isConflictOp)
    // what cannot be done yet (a sysctl key whose interface does not exist): not "nothing to do"
    const waiting = f.entry.waiting?.(observed) ?? []
    if (opts.apply) return await applyOps(f, source, ops, observed, describe, conflicts.length, opts, io, clock)
    const checked = await kernelCheck(source, ops, observed, describe)
    if (checked) clock.mark("check")
    if (opts.json) {
      writeJsonDocument(io, {
        file: path,
        source: f.source,
        ops: opTexts(ops, describe),
        details: opDetails(ops, describe),
        waiting,
        check: checked,
        pending: ops.length > 0 || waiting.length > 0,
      })
    } else printPlan(io, path, ops, describe, conflicts.length, waiting, checked)
    clock.mark("print")
    if (opts.timings) io.err(`linx plan: ${clock.line()}`)
    if (checked && !checked.accepted) return 1
    return ops.length || waiting.length ? 2 : 0
  } finally {
    await source.close()
  }
}

/** `linx apply`'s second half: the ops applied (conflicts aside), and each op with what came of it. */
async function applyOps(
  f: DesiredFile,
  source: AnySource,
  ops: readonly unknown[],
  observed: unknown,
  describe: (op: unknown) => string,
  conflicts: number,
  opts: { json?: boolean; timings?: boolean },
  io: Output,
  clock: ReturnType<typeof stageClock>,
): Promise<ExitCode> {
  const denied0 = ops.length ? needsRoot("apply", f.netns !== undefined || f.source === "netfilter") : undefined
  if (denied0) {
    io.err(denied0)
    return 1
  }
  const report = await source.reconcile(
    ops.filter((op) => !isConflictOp(op)),
    observed,
  )
  clock.mark("apply")
  const failed = new Map(report.failed.map((x) => [x.op, x.error]))
  const denied = (e: Error) => ["EPERM", "EACCES"].includes(String((e as { code?: unknown }).code))
  if (report.failed.length && !report.applied.length && report.failed.every((f) => denied(f.error))) {
    // not one op allowed: say so once, not once per op
    io.err(
      `linx apply: changing the network needs root (CAP_NET_ADMIN${f.netns ? ", CAP_SYS_ADMIN for namespaces" : ""}): run it as root; nothing was applied`,
    )
    return 1
  }
  if (opts.json) {
    const result = (op: unknown) => {
      const d = describe(op)
      if (isConflictOp(op)) return { op: d, result: "conflict" as const }
      const e = failed.get(op)
      return e ? { op: d, result: "failed" as const, error: e.message } : { op: d, result: "ok" as const }
    }
    const results: JsonList = { length: ops.length, item: (i) => result(ops[i]) }
    writeJsonDocument(io, { file: f.path, source: f.source, results })
  } else
    printApplied(io, f.path, ops, describe, failed, {
      applied: report.applied.length,
      failed: report.failed.length,
      conflicts,
    })
  clock.mark("print")
  if (opts.timings) io.err(`linx apply: ${clock.line()}`)
  return report.failed.length || conflicts ? 1 : 0
}

/** Ownership as the source's schema normalises it (what the loop hands its verbs). */
async function validOwnership(entry: SourceEntry, ownership: unknown): Promise<unknown> {
  return entry.ownershipSchema
    ? validate(entry.ownershipSchema, ownership ?? entry.defaultOwnership, "ownership")
    : ownership
}
