#!/usr/bin/env bun
// The `linx` command.
import { Command, InvalidArgumentError, Option } from "commander"
import { guard, LOG_LEVELS, type LogLevel, stdio, stdoutFailed } from "./output.ts"
import type { RunOptions } from "./run.ts"

// Each command's modules are loaded when it runs: `linx plan` starts without the loop, the
// status server and the demo (~0.1 s of module loading), `linx --version` without any.
const commands = () => import("./commands.ts")

// imported, not read: a compiled linx (bun build --compile) carries it inside
import pkg from "../package.json" with { type: "json" }

const VERSION: string = pkg.version

/** "500ms", "30s", "5m", "1h"; a bare number is refused (is 30000 seconds or milliseconds?). */
export function duration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim())
  if (!m)
    throw new InvalidArgumentError(
      /^\d+(\.\d+)?$/.test(text.trim())
        ? `"${text}" needs a unit: ${text}ms or ${text}s?`
        : `"${text}" is not a duration (e.g. 500ms, 30s, 5m)`,
    )
  const ms = Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "s"])
  if (ms < 1) throw new InvalidArgumentError(`"${text}" is too short`)
  return ms
}

function hostPort(text: string): { hostname: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(text.trim())
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:9477)`)
  return { hostname: m[1] || "127.0.0.1", port: Number(m[2]) }
}

const program = new Command()
  .name("linx")
  .description(
    "Keep links, addresses, routes, nftables and sysctls in a network namespace converged on a desired state.",
  )
  .version(VERSION, "-V, --version", "the version of linx")
  .showHelpAfterError()
  .exitOverride()

let code = 0

program
  .command("show")
  .description("what the kernel holds, owned (*) vs foreign")
  .argument("<source>", "rtnl, netfilter or sysctl")
  .option("--netns <ns>", "namespace: a name under /run/netns or a path (default: this process's)")
  .option("--file <file>", "take ownership (and the namespace) from this desired-state file")
  .option("--json", "JSON output")
  .option("--desired", "a desired-state file (JSON) of what is there, for apply to take back (netfilter)")
  .action(async (source: string, opts: { netns?: string; json?: boolean; file?: string; desired?: boolean }) => {
    code = await guard(stdio, "show", async () => (await commands()).showCommand(source, opts))
  })

program
  .command("plan")
  .description("the ops a pass would apply; exit 0 when nothing is pending, 2 when changes are, 1 on error")
  .argument("<file>", "desired-state file (YAML or JSON)")
  .option("--netns <ns>", "namespace (overrides the file's)")
  .option("--json", "JSON output")
  .option("--timings", "how long each stage took (load, observe, diff, print), on stderr")
  .action(async (file: string, opts: { netns?: string; json?: boolean; timings?: boolean }) => {
    code = await guard(stdio, "plan", async () => (await commands()).planCommand(file, opts))
  })

program
  .command("apply")
  .description("one pass: each op and its result; exit 1 if any failed")
  .argument("<file>", "desired-state file (YAML or JSON)")
  .option("--netns <ns>", "namespace (overrides the file's)")
  .option("--json", "JSON output")
  .option("--timings", "how long each stage took (load, observe, diff, apply, print), on stderr")
  .action(async (file: string, opts: { netns?: string; json?: boolean; timings?: boolean }) => {
    code = await guard(stdio, "apply", async () => (await commands()).planCommand(file, { ...opts, apply: true }))
  })

program
  .command("run")
  .description("one loop per file; reloads a file when it changes; stops on SIGTERM/SIGINT")
  .argument(
    "<files...>",
    "desired-state files, or directories (every *.yaml, *.yml, *.json in them, added and removed as files come and go)",
  )
  .addOption(
    new Option("--resync <duration>", "full pass at least this often").argParser(duration).default(30_000, "30s"),
  )
  .option("--json", "structured logs, one JSON object per line")
  .addOption(
    new Option("--log-level <level>", "the least severe lines printed (no-op passes are debug)")
      .choices(LOG_LEVELS)
      .default("info"),
  )
  .option(
    "--status <host:port>",
    "serve /status, /healthz, /readyz, /metrics and a page (e.g. 127.0.0.1:9477)",
    hostPort,
  )
  .option("--pid <pid>", "bind every loop to this process: they stop when it exits (a file's lifetime wins)", (t) => {
    const n = Number(t)
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${t}" is not a process id`)
    return n
  })
  .option(
    "--token-file <file>",
    "bearer token enabling POST /loops/:name/resync and PUT /loops/:name/desired (or $LINX_STATUS_TOKEN)",
  )
  .action(
    async (
      files: string[],
      opts: {
        resync: number
        json?: boolean
        logLevel: LogLevel
        pid?: number
        status?: { hostname: string; port: number }
        tokenFile?: string
      },
    ) => {
      code = await guard(stdio, "run", async () => {
        const token = opts.tokenFile ? (await Bun.file(opts.tokenFile).text()).trim() : process.env.LINX_STATUS_TOKEN
        const run: RunOptions = {
          resyncMs: opts.resync,
          json: !!opts.json,
          logLevel: opts.logLevel,
          ...(opts.pid !== undefined ? { pid: opts.pid } : {}),
        }
        if (opts.status) run.status = { ...opts.status, ...(token ? { token } : {}) }
        const { runCommand } = await import("./run.ts")
        return runCommand(files, run, stdio)
      })
    },
  )

program
  .command("demo")
  .description("a self-contained demo in a private namespace: apply, break, watch it heal")
  .action(async () => {
    code = await guard(stdio, "demo", async () => (await import("./demo.ts")).demoCommand(stdio))
  })

program
  .command("probe")
  .description("ask a running linx's status endpoint: exit 0 when healthy (or ready), 1 otherwise; for probes")
  .argument("[what]", "healthz or readyz", "healthz")
  .addOption(
    new Option("--status <host:port>", "where `linx run --status` listens")
      .argParser(hostPort)
      .default({ hostname: "127.0.0.1", port: 9477 }, "127.0.0.1:9477"),
  )
  .addOption(new Option("--timeout <duration>", "how long to wait").argParser(duration).default(2000, "2s"))
  .action(async (what: string, opts: { status: { hostname: string; port: number }; timeout: number }) => {
    if (what !== "healthz" && what !== "readyz") {
      stdio.err(`linx probe: "${what}" is not healthz or readyz`)
      code = 1
      return
    }
    const url = `http://${opts.status.hostname}:${opts.status.port}/${what}`
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(opts.timeout) })
      const body = (await r.text()).trim()
      ;(r.ok ? stdio.out : stdio.err)(`${what}: ${r.status} ${body}`)
      code = r.ok ? 0 : 1
    } catch (e) {
      const refused = (e as { code?: string }).code === "ECONNREFUSED"
      stdio.err(
        `linx probe: ${url}: ${refused ? "nothing listens there (is linx run --status running?)" : (e as Error).message}`,
      )
      code = 1
    }
  })

program
  .command("completion")
  .description("a shell completion script: source <(linx completion bash), or zsh")
  .argument("<shell>", "bash or zsh")
  .action(async (shell: string) => {
    const { completionScript } = await import("./completion.ts")
    const script = completionScript(program, shell)
    if (script) stdio.out(script)
    else {
      stdio.err(`linx completion: "${shell}" is not bash or zsh`)
      code = 1
    }
  })

try {
  await program.parseAsync(process.argv)
} catch (e) {
  const c = (e as { code?: string; exitCode?: number }).code
  if (c === "commander.helpDisplayed" || c === "commander.version" || c === "commander.help") code = 0
  else code = (e as { exitCode?: number }).exitCode ?? 1
}
// No process.exit() straight away: it cuts a large write to a pipe (stdout flushes
// asynchronously). The exit code is set and the process ends when its output is out;
// a stray handle cannot keep it alive past the safety net.
// (stdout that failed fails the command, now or when a late write fails: output.ts)
process.exitCode = stdoutFailed() ? 1 : code
setTimeout(() => process.exit(), 10_000).unref()
