// The ops a sysctl pass applies, and the `sysctl -w` line each is equivalent to.
import { keyName } from "./key.ts"

export type SysctlOp =
  /** sysctl -w key=value; `from` is the value observed, normalised (undefined: not read yet) */
  | { kind: "set"; key: string; value: string; from?: string }
  /** put back the value found before the first write (restoreOnRelease) */
  | { kind: "restore"; key: string; value: string }
  /** a key this loop may not write (a machine-global key without allowGlobalKeys) */
  | { kind: "conflict"; key: string; reason: string }

export function describeSysctlOp(op: SysctlOp): string {
  const q = (v: string) => (/\s/.test(v) ? `"${v}"` : v)
  switch (op.kind) {
    case "set":
      return `sysctl -w ${keyName(op.key)}=${q(op.value)}${op.from === undefined ? "" : `  # was ${q(op.from)}`}`
    case "restore":
      return `sysctl -w ${keyName(op.key)}=${q(op.value)}  # restore`
    case "conflict":
      return `# conflict: ${op.reason}`
  }
}
