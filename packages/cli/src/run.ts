// `linx run FILE...`: one loop per file in this process, a log line per pass, reload of
// a file when it changes (the last good desired state stays when the new one is
// invalid), a clean stop on SIGTERM/SIGINT.
import { needsRoot } from "./caps.ts"
import { readFileSync, statSync } from "node:fs"
import { basename } from "node:path"
import { createReconciler, type PassResult, type Reconciler } from "@linx/reconcile"
import { serveStatus } from "@linx/reconcile/status"
import { type ExitCode, LOG_LEVELS, type LogLevel, type Output } from "./output.ts"
import { deferredSource } from "./deferred.ts"
import { filesIn, watchFiles } from "./watch.ts"
import { type DesiredFile, FileError, loadFile } from "./file.ts"

export interface RunOptions {
  resyncMs: number
  json: boolean
  /** bind every loop to this process (a file's own `lifetime` wins): they stop when it exits */
  pid?: number
  /** the least severe level printed: debug, info (default), warn, error */
  logLevel?: LogLevel
  /** serve the status endpoint at host:port */
  status?: { hostname: string; port: number; token?: string }
  /** how often files are checked for changes besides fs.watch. Default 2000 ms */
  pollMs?: number
  signal?: AbortSignal
}

interface Running {
  path: string
  /** as written */
  file: DesiredFile
  /** in force (as written, plus markers carried over from before a reload) */
  ownership: unknown
  loop: Reconciler<unknown, unknown>
  text: string
  name: string
}

function describePass(name: string, p: PassResult): string {
  const parts = [`${name}`, `pass ${p.seq}`, p.trigger, `ops=${p.ops.length}`, `applied=${p.applied.length}`]
  if (p.failed.length) parts.push(`failed=${p.failed.length}`)
  if (p.conflicts.length) parts.push(`conflicts=${p.conflicts.length}`)
  parts.push(`${p.timings.totalMs.toFixed(1)}ms`, p.converged ? "converged" : "NOT converged")
  let line = parts.join(" ")
  if (p.error) line += ` error: ${p.error}`
  for (const a of p.applied)
    line += `\n  ${p.trigger === "start" || p.trigger === "desired" ? "applied" : "healed "} ${a}`
  for (const f of p.failed) line += `\n  failed  ${f.op}: ${f.error}`
  for (const c of p.conflicts) line += `\n  ${c}`
  return line
}

export { LOG_LEVELS, type LogLevel } from "./output.ts"
type Log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void

/** The loops of one `linx run`, by file. */
class Runner {
  readonly running = new Map<string, Running>()
  /** loops by name, for the status endpoint (read at every request) */
  readonly byName = new Map<string, Reconciler<unknown, unknown>>()

  /** The file a loop runs from. */
  pathOf(name: string): string | undefined {
    for (const r of this.running.values()) if (r.name === name) return r.path
    return undefined
  }
  readonly #names = new Set<string>()
  /** called when every loop has stopped by itself */
  onEmpty: (() => void) | undefined

  constructor(
    private readonly opts: RunOptions,
    private readonly log: Log,
  ) {}

  async start(path: string, file: DesiredFile, text: string, ownership = file.ownership): Promise<Running> {
    const { opts, log } = this
    let name = basename(path).replace(/\.(ya?ml|json)$/, "")
    while (this.#names.has(name)) name += "'"
    this.#names.add(name)
    // made on the first pass, and again until it can be: a namespace that does not exist
    // (yet) is a failing, retried, unhealthy loop with the reason, never a missing one
    const source = deferredSource(file.entry, () => file.entry.create(file.netns))
    const lifetime = file.lifetime ?? (opts.pid !== undefined ? { pid: opts.pid } : undefined)
    const loop = createReconciler({
      source,
      desired: file.desired,
      ownership,
      resyncMs: opts.resyncMs,
      name,
      ...(lifetime ? { lifetime } : {}),
    })
    loop.on("stopped", ({ reason }) => {
      if (reason === undefined || this.running.get(path)?.loop !== loop) return
      // stopped by itself (its workload exited, its namespace is gone): it is done
      log("info", `${name}: stopped: ${reason}`)
      this.#names.delete(name)
      this.byName.delete(name)
      this.running.delete(path)
      if (!this.running.size) this.onEmpty?.()
    })
    loop.on("pass", (p) => {
      // a converged pass that did nothing (an echo, an event about what is not ours) is debug
      const level = !p.converged ? "warn" : p.ops.length || p.error ? "info" : "debug"
      if (opts.json) log(level, "pass", { loop: name, ...p })
      else log(level, describePass(name, p))
    })
    loop.on("conflict", (e) => log("warn", `${name}: ${e.reason}: ${e.op}`, { loop: name, reason: e.reason, op: e.op }))
    // the loop holds the desired state: the file's copies are let go (a million routes each)
    const r: Running = { path, file: { ...file, desired: undefined, valid: undefined }, ownership, loop, text, name }
    this.running.set(path, r)
    this.byName.set(name, loop)
    await loop.start()
    return r
  }

  async #restart(r: Running, next: DesiredFile, text: string, ownership?: unknown): Promise<void> {
    await r.loop.stop()
    this.#names.delete(r.name)
    this.byName.delete(r.name)
    this.running.delete(r.path)
    await this.start(r.path, next, text, ownership)
  }

  /**
   * The new loop's ownership when only ownership changed: kernel markers the old one
   * used (a route protocol, a link group) stay its own and are rewritten, never orphaned.
   */
  #carried(r: Running, next: DesiredFile): unknown {
    if (next.source !== r.file.source || next.netns !== r.file.netns || !next.entry.carryOwnership) return undefined
    const { ownership, changed } = next.entry.carryOwnership(r.ownership, next.ownership)
    if (changed.length)
      this.log("info", `${r.path}: ${changed.join(", ")}: what carries the old marker is adopted, not orphaned`)
    return ownership
  }

  /** Reads a changed file: a new desired state, a restarted loop, or the last good state kept. */
  async reload(path: string): Promise<void> {
    const r = this.running.get(path)
    if (!r) return
    let text: string
    try {
      text = readFileSync(path, "utf8")
    } catch {
      return // being replaced (ConfigMap symlink swap): the next event or poll sees it
    }
    if (text === r.text) return
    r.text = text
    let next: DesiredFile
    try {
      next = await loadFile(path, text)
    } catch (e) {
      this.log("error", `${e instanceof FileError ? e.message : String(e)}\n  keeping the last good desired state`)
      return
    }
    try {
      if (
        next.source !== r.file.source ||
        next.netns !== r.file.netns ||
        JSON.stringify(next.ownership) !== JSON.stringify(r.file.ownership)
      ) {
        this.log("info", `${path}: source, namespace or ownership changed: restarting its loop`)
        await this.#restart(r, next, text, this.#carried(r, next))
        return
      }
      r.file = { ...next, desired: undefined, valid: undefined }
      this.log("info", `${path}: changed, applying the new desired state`)
      await r.loop.setDesired(next.desired)
    } catch (e) {
      this.log("error", `${path}: ${(e as Error).message}`)
    }
  }

  /** A new file in a watched directory: its loop starts (an invalid one is retried when it changes). */
  async add(path: string): Promise<void> {
    if (this.running.has(path)) return
    try {
      const text = readFileSync(path, "utf8")
      const file = await loadFile(path, text)
      this.log("info", `${path}: new file, starting its loop`)
      await this.start(path, file, text)
    } catch (e) {
      this.log(
        "error",
        `${e instanceof FileError ? e.message : `${path}: ${(e as Error).message}`}\n  not started; fix the file`,
      )
    }
  }

  /** A file gone from a watched directory: its loop stops (what it made stays as it is). */
  async remove(path: string): Promise<void> {
    const r = this.running.get(path)
    if (!r) return
    this.log("info", `${path}: removed, stopping its loop`)
    this.running.delete(path)
    this.byName.delete(r.name)
    this.#names.delete(r.name)
    await r.loop.stop()
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.loop.stop()))
  }

  describe(): string {
    const each = [...this.running.values()].map(
      (r) => `${r.name} (${r.file.source}${r.file.netns ? ` in ${r.file.netns}` : ""})`,
    )
    return `running ${this.running.size} loop(s): ${each.join(", ")}`
  }
}

/** Resolves at SIGTERM, SIGINT or abort. Installed first: a signal during startup stops cleanly too. */
function stopRequested(
  signal: AbortSignal | undefined,
  log: Log,
): { stopped: Promise<void>; stop(why: string): void; dispose(): void } {
  let resolve = () => {}
  const stopped = new Promise<void>((r) => {
    resolve = r
  })
  const onTerm = () => stop("SIGTERM")
  const onInt = () => stop("SIGINT")
  const onAbort = () => stop("abort")
  const dispose = () => {
    process.off("SIGTERM", onTerm)
    process.off("SIGINT", onInt)
    signal?.removeEventListener("abort", onAbort)
  }
  const stop = (sig: string) => {
    dispose()
    log("info", `${sig}: stopping`)
    resolve()
  }
  process.once("SIGTERM", onTerm)
  process.once("SIGINT", onInt)
  if (signal?.aborted) stop("abort")
  else signal?.addEventListener("abort", onAbort, { once: true })
  return { stopped, stop, dispose }
}

export async function runCommand(paths: string[], opts: RunOptions, io: Output): Promise<ExitCode> {
  // (namespaces: nft's scratch namespace and other loops' need CAP_SYS_ADMIN; refuse early only without CAP_NET_ADMIN)
  const denied = needsRoot("run", false)
  if (denied) {
    io.err(denied)
    return 1
  }
  const least = LOG_LEVELS.indexOf(opts.logLevel ?? "info")
  const log: Log = (level, msg, fields = {}) => {
    if (LOG_LEVELS.indexOf(level as LogLevel) < least) return
    if (opts.json) io.out(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }))
    else io.err(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}`)
  }
  const stop = stopRequested(opts.signal, log)
  let stopping = false
  void stop.stopped.then(() => {
    stopping = true
  })
  const runner = new Runner(opts, log)
  // every loop bound to a workload that has exited: nothing is left to do
  runner.onEmpty = () => stop.stop("every loop has stopped")
  try {
    // a directory stands for every desired-state file in it, now and later
    const dirs = paths.filter((p) => statSync(p, { throwIfNoEntry: false })?.isDirectory())
    const files = [...paths.filter((p) => !dirs.includes(p)), ...dirs.flatMap(filesIn)]
    const code = await startAll(runner, files, log, () => stopping)
    if (code !== 0 || stopping) {
      await runner.stopAll()
      if (stopping) log("info", "stopped")
      return stopping ? 0 : code
    }
    const status = opts.status ? await serve(runner, opts.status, log) : undefined
    if (opts.status && !status) {
      await runner.stopAll()
      return 1
    }
    log("info", runner.describe())
    const unwatch = watchFiles(files, dirs, opts.pollMs ?? 2000, {
      changed: (p) => void (runner.running.has(p) ? runner.reload(p) : runner.add(p)),
      added: (p) => void runner.add(p),
      removed: (p) => void runner.remove(p),
    })
    await stop.stopped
    unwatch()
    await status?.stop()
    await runner.stopAll()
    log("info", "stopped")
    return 0
  } finally {
    stop.dispose()
  }
}

/** Loads every file first (a bad file at startup is an error before anything runs), then starts each. */
async function startAll(runner: Runner, paths: string[], log: Log, stopping: () => boolean): Promise<ExitCode> {
  const initial: [string, DesiredFile, string][] = []
  for (const path of paths) {
    const text = readFileSync(path, "utf8")
    initial.push([path, await loadFile(path, text), text])
  }
  for (const [path, file, text] of initial) {
    if (stopping()) return 0
    try {
      await runner.start(path, file, text)
    } catch (e) {
      log("error", `${path}: ${(e as Error).message}`)
      return 1
    }
  }
  return 0
}

async function serve(runner: Runner, at: NonNullable<RunOptions["status"]>, log: Log) {
  const status = serveStatus(runner.byName, {
    hostname: at.hostname,
    port: at.port,
    // the file is what is desired: a PUT would be undone by the next edit, or undo it
    desiredFrom: (name) => {
      const path = runner.pathOf(name)
      return path === undefined ? undefined : `the file ${path} (linx run reloads it when it changes)`
    },
    ...(at.token ? { token: at.token } : {}),
  })
  try {
    await status.listening
    log("info", `status endpoint at ${status.url}${at.token ? " (writes enabled with the bearer token)" : ""}`)
    return status
  } catch (e) {
    log("error", `cannot serve the status endpoint at ${at.hostname}:${at.port}: ${(e as Error).message}`)
    return undefined
  }
}
