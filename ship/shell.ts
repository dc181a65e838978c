// Commands for the ship tests: run one and keep its output, or require it to succeed.
export interface Ran {
  code: number
  /** stdout then stderr */
  out: string
}

export function run(argv: string[], cwd: string, env: Record<string, string> = {}): Ran {
  const p = Bun.spawnSync(argv, { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" })
  return { code: p.exitCode ?? -1, out: p.stdout.toString() + p.stderr.toString() }
}

/** Runs `argv`; returns its stdout, or throws with all it printed when it fails. */
export function must(argv: string[], cwd: string, env: Record<string, string> = {}): string {
  const p = Bun.spawnSync(argv, { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" })
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${p.exitCode}):\n${p.stdout}${p.stderr}`)
  return p.stdout.toString()
}
