// `linx run FILE...`: one loop per file in this process, a log line per pass, reload of
// a file when it changes (the last good desired state stays when the new one is
// invalid), a clean stop on SIGTERM/SIGINT.
import { readFileSync, statSync, watch, type FSWatcher } from "node:fs"
import { basename, dirname } from "node:path"
import { createReconciler, type PassResult, type Reconciler } from "@linx/reconcile"
import { serveStatus } from "@linx/reconcile/status"
import type { ExitCode, Output } from "./commands.ts"
import { type DesiredFile, FileError, loadFile } from "./file.ts"

export interface RunOptions {
  resyncMs: number
  json: boolean
  /** serve the status endpoint at host:port */
  status?: { hostname: string; port: number; token?: string }
  /** how often files are checked for changes besides fs.watch. Default 2000 ms */
  pollMs?: number
  signal?: AbortSignal
}

interface Running {
  path: string
  file: DesiredFile
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

export async function runCommand(paths: string[], opts: RunOptions, io: Output): Promise<ExitCode> {
  const log = (level: string, msg: string, fields: Record<string, unknown> = {}) => {
    if (opts.json) io.out(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }))
    else io.err(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}`)
  }
  const running = new Map<string, Running>()
  const names = new Set<string>()
  /** loops by name, for the status endpoint (read at every request) */
  const byName = new Map<string, Reconciler<unknown, unknown>>()

  const start = async (path: string, file: DesiredFile, text: string): Promise<Running> => {
    let name = basename(path).replace(/\.(ya?ml|json)$/, "")
    while (names.has(name)) name += "'"
    names.add(name)
    const source = file.entry.create(file.netns)
    const loop = createReconciler({
      source,
      desired: file.desired,
      ownership: file.ownership,
      resyncMs: opts.resyncMs,
      name,
    })
    loop.on("pass", (p) => {
      if (opts.json) log(p.converged ? "info" : "warn", "pass", { loop: name, ...p })
      else log(p.converged ? "info" : "warn", describePass(name, p))
    })
    loop.on("conflict", (e) => log("warn", `${name}: ${e.reason}: ${e.op}`, { loop: name, reason: e.reason, op: e.op }))
    const r: Running = { path, file, loop, text, name }
    running.set(path, r)
    byName.set(name, loop)
    await loop.start()
    return r
  }

  // Load every file first: a bad file at startup is an error before anything runs.
  const initial: [string, DesiredFile, string][] = []
  for (const path of paths) {
    const text = readFileSync(path, "utf8")
    initial.push([path, await loadFile(path, text), text])
  }
  for (const [path, file, text] of initial) {
    try {
      await start(path, file, text)
    } catch (e) {
      log("error", `${path}: ${(e as Error).message}`)
      for (const r of running.values()) await r.loop.stop()
      return 1
    }
  }
  let status: { url: string; stop(): Promise<void> } | undefined
  if (opts.status) {
    try {
      status = serveStatus(byName, {
        hostname: opts.status.hostname,
        port: opts.status.port,
        ...(opts.status.token ? { token: opts.status.token } : {}),
      })
      log(
        "info",
        `status endpoint at ${status.url}${opts.status.token ? " (writes enabled with the bearer token)" : ""}`,
      )
    } catch (e) {
      log(
        "error",
        `cannot serve the status endpoint at ${opts.status.hostname}:${opts.status.port}: ${(e as Error).message}`,
      )
      for (const r of running.values()) await r.loop.stop()
      return 1
    }
  }
  log(
    "info",
    `running ${running.size} loop(s): ${[...running.values()].map((r) => `${r.name} (${r.file.source}${r.file.netns ? ` in ${r.file.netns}` : ""})`).join(", ")}`,
  )

  const reload = async (path: string) => {
    const r = running.get(path)
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
      log("error", `${e instanceof FileError ? e.message : String(e)}\n  keeping the last good desired state`)
      return
    }
    if (
      next.source !== r.file.source ||
      next.netns !== r.file.netns ||
      JSON.stringify(next.ownership) !== JSON.stringify(r.file.ownership)
    ) {
      log("info", `${path}: source, namespace or ownership changed: restarting its loop`)
      await r.loop.stop()
      names.delete(r.name)
      byName.delete(r.name)
      running.delete(path)
      await start(path, next, text)
      return
    }
    r.file = next
    log("info", `${path}: changed, applying the new desired state`)
    try {
      await r.loop.setDesired(next.desired)
    } catch (e) {
      log("error", `${path}: ${(e as Error).message}`)
    }
  }

  // fs.watch on the directory catches editors' renames and ConfigMap symlink swaps;
  // a poll catches what watch misses. Events are debounced so a file is read once its
  // writer is done, not half-written.
  const pendingReload = new Map<string, ReturnType<typeof setTimeout>>()
  const scheduleReload = (p: string) => {
    clearTimeout(pendingReload.get(p))
    pendingReload.set(
      p,
      setTimeout(() => {
        pendingReload.delete(p)
        void reload(p)
      }, 50),
    )
  }
  const watchers: FSWatcher[] = []
  for (const dir of new Set(paths.map((p) => dirname(p)))) {
    try {
      watchers.push(watch(dir, () => paths.filter((p) => dirname(p) === dir).forEach(scheduleReload)))
    } catch {
      // no inotify: the poll still works
    }
  }
  const mtimes = new Map(paths.map((p) => [p, statSync(p).mtimeMs]))
  const poll = setInterval(() => {
    for (const p of paths) {
      try {
        const m = statSync(p).mtimeMs
        if (m !== mtimes.get(p)) {
          mtimes.set(p, m)
          scheduleReload(p)
        }
      } catch {
        // missing for a moment
      }
    }
  }, opts.pollMs ?? 2000)

  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log("info", `${sig}: stopping`)
      resolve()
    }
    const onTerm = () => stop("SIGTERM")
    const onInt = () => stop("SIGINT")
    process.once("SIGTERM", onTerm)
    process.once("SIGINT", onInt)
    opts.signal?.addEventListener("abort", () => stop("abort"), { once: true })
  })
  clearInterval(poll)
  for (const t of pendingReload.values()) clearTimeout(t)
  for (const w of watchers) w.close()
  await status?.stop()
  await Promise.all([...running.values()].map((r) => r.loop.stop()))
  log("info", "stopped")
  return 0
}
