// An in-memory /proc/sys: keys with values, interfaces that come and go, keys that are
// read-only or refuse some values, the kernel's whitespace normalisation.
import type { KeyFailure, SysctlIo, SysctlKernel } from "../kernel.ts"
import { interfaceOf } from "../key.ts"

export class FakeSysctlKernel implements SysctlKernel {
  readonly values = new Map<string, string>()
  readonly interfaces = new Set<string>(["lo"])
  readonly readOnly = new Set<string>()
  /** a validator per key: false refuses the value with EINVAL */
  readonly accepts = new Map<string, (v: string) => boolean>()
  readonly writes: [string, string][] = []
  closed = false

  constructor(values: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(values)) this.values.set(k, v)
  }

  #exists(path: string): boolean {
    const iface = interfaceOf(path)
    if (iface && !this.interfaces.has(iface)) return false
    return this.values.has(path)
  }

  read(path: string): string | KeyFailure {
    if (!this.#exists(path)) return { code: "ENOENT", message: "No such file or directory" }
    return `${this.values.get(path)}\n`
  }

  write(path: string, value: string): KeyFailure | undefined {
    if (!this.#exists(path)) return { code: "ENOENT", message: "No such file or directory" }
    if (this.readOnly.has(path)) return { code: "EACCES", message: "Permission denied" }
    if (this.accepts.get(path)?.(value) === false) return { code: "EINVAL", message: "Invalid argument" }
    this.writes.push([path, value])
    this.values.set(path, value.trim().split(/\s+/).join("\t"))
    return undefined
  }

  batch<T>(fn: (io: SysctlIo) => T): T {
    return fn(this)
  }

  close(): void {
    this.closed = true
  }
}
