// Where a command's text goes: lines, and (a plan of a million lines) bytes a chunk at a
// time; how a command ends (exit codes, errors as messages); log levels.
import { fstatSync, writeSync } from "node:fs"
import { isatty } from "node:tty"
import { TextBytes } from "@linx/netlink/ip"

export interface Output {
  out(line: string): void
  err(line: string): void
  /**
   * Text as bytes, in order with `out`'s lines; the chunk is the caller's again once this
   * returns (copy it or write it out). Without it, text goes to `out` a block of lines at a time.
   */
  bytes?(chunk: Uint8Array): void
}

/**
 * How stdout takes bytes: a file or /dev/null takes them synchronously, all of them, so a
 * chunk is written from the caller's buffer; a pipe, socket or terminal may be non-blocking
 * (Bun makes a pipe so: a sync write fails with EAGAIN), so a copy goes through the stream,
 * which writes it when the reader takes it (and the process ends when it has, main.ts).
 * "closed": the reader went away (`linx plan big.json | head`): the rest is dropped, quietly;
 * or stdout failed otherwise (a full disk, a closed descriptor): said once on stderr, the
 * command fails, and the rest is dropped (a running loop keeps the network converged).
 */
let stdoutMode: "sync" | "stream" | "closed" | undefined

let watching = false
let failedOutput = false

/** Whether writing to stdout failed (not its reader leaving): the command's exit code is then 1. */
export const stdoutFailed = (): boolean => failedOutput

/** Stdout is gone: the rest of the output is dropped; an error other than its reader leaving is said and fails the command. */
function onStdoutError(e: unknown): void {
  if (stdoutMode === "closed") return
  stdoutMode = "closed"
  if ((e as { code?: unknown } | undefined)?.code === "EPIPE") return
  failedOutput = true
  process.exitCode = 1
  process.stderr.write(
    `linx: cannot write to stdout (${e instanceof Error ? e.message : String(e)}): the rest of the output is dropped\n`,
  )
}

/** Writes to stdout, or drops the text once stdout has failed (thrown or emitted). */
function toStdout(write: () => void): void {
  if (stdoutMode === "closed") return
  if (!watching) {
    watching = true
    process.stdout.on("error", onStdoutError)
  }
  try {
    write()
  } catch (e) {
    onStdoutError(e)
  }
}

function stdoutBytes(chunk: Uint8Array): void {
  stdoutMode ??= syncStdout() ? "sync" : "stream"
  if (stdoutMode === "sync")
    toStdout(() => {
      for (let off = 0; off < chunk.length; ) off += writeSync(1, chunk, off, chunk.length - off)
    })
  else toStdout(() => process.stdout.write(chunk.slice()))
}

function syncStdout(): boolean {
  try {
    const st = fstatSync(1)
    return st.isFile() || (st.isCharacterDevice() && !isatty(1))
  } catch {
    return false
  }
}

export const stdio: Output = {
  out: (l) => {
    // once bytes went out synchronously, lines do too (one order)
    if (stdoutMode === "sync") stdoutBytes(Buffer.from(`${l}\n`))
    else toStdout(() => process.stdout.write(`${l}\n`))
  },
  err: (l) => process.stderr.write(`${l}\n`),
  bytes: stdoutBytes,
}

/**
 * Text written as bytes to `io`: to its `bytes` when it has one, else to `out` a block of
 * whole lines at a time (the text is to end each line with "\n").
 */
export function textOut(io: Output): TextBytes {
  if (io.bytes) return new TextBytes((chunk) => io.bytes!(chunk))
  const decoder = new TextDecoder()
  let pending = ""
  return new TextBytes((chunk) => {
    pending += decoder.decode(chunk, { stream: true })
    const last = pending.lastIndexOf("\n")
    if (last < 0) return
    io.out(pending.slice(0, last))
    pending = pending.slice(last + 1)
  })
}

/** Exit codes: 0 ok / nothing pending, 1 error, 2 changes pending (plan). */
export type ExitCode = 0 | 1 | 2

/** Runs a command body, turning an error into its message and exit code 1. */
export async function guard(io: Output, name: string, fn: () => Promise<ExitCode>): Promise<ExitCode> {
  try {
    return await fn()
  } catch (e) {
    io.err(`linx ${name}: ${e instanceof Error ? e.message : String(e)}`)
    return 1
  }
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * A command's stages timed (`--timings`): each mark closes the stage since the previous one
 * (the first since the process started: Bun's start and the modules loaded), and `line()`
 * says them all, e.g. "start 160 ms, load 820 ms, observe 18 ms, diff 370 ms, print 300 ms,
 * total 1.67 s".
 */
export function stageClock(): { mark(stage: string): void; line(): string } {
  const stages: string[] = []
  let last = 0 // performance.now() counts from the process's start
  const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`)
  return {
    mark(stage) {
      const now = performance.now()
      stages.push(`${stage} ${ms(now - last)}`)
      last = now
    },
    line: () => `${stages.join(", ")}, total ${ms(last)}`,
  }
}
