// Whether this process may change the network: its effective capabilities, read from
// /proc/self/status, so that apply and run say "needs root" once, before trying.
import { readFileSync } from "node:fs"

const CAP_NET_ADMIN = 12n
const CAP_SYS_ADMIN = 21n

/** The effective capability set, or undefined where /proc does not say. */
export function effectiveCaps(status = readStatus()): bigint | undefined {
  const m = status === undefined ? null : /^CapEff:\s*([0-9a-f]+)$/m.exec(status)
  return m ? BigInt(`0x${m[1]}`) : undefined
}

function readStatus(): string | undefined {
  try {
    return readFileSync("/proc/self/status", "utf8")
  } catch {
    return undefined
  }
}

/**
 * The one line to print when this process cannot change the network (`verb`: "apply",
 * "run"), or undefined when it can (or cannot tell: then the kernel's answer decides).
 */
export function needsRoot(verb: string, namespaces: boolean, caps = effectiveCaps()): string | undefined {
  if (caps === undefined) return undefined
  const missing: string[] = []
  if (!((caps >> CAP_NET_ADMIN) & 1n)) missing.push("CAP_NET_ADMIN")
  if (namespaces && !((caps >> CAP_SYS_ADMIN) & 1n)) missing.push("CAP_SYS_ADMIN for namespaces")
  if (!missing.length) return undefined
  return `linx ${verb}: changing the network needs root (${missing.join(", ")}): run it as root; nothing was changed`
}
