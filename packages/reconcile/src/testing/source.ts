// A fake source over a key/value "kernel", for testing the loop without root. It has
// the knobs the loop's semantics need: failures (retryable or terminal), foreign keys
// (conflicts), stubborn keys (the kernel never takes the value), hints, slow observes.
import type { StandardSchemaV1 } from "@standard-schema/spec"
import type { ApplyReport, Hint, Scope, Source, Want } from "../source.ts"

export type KvDesired = Record<string, string>
export type KvOp =
  | { kind: "set"; key: string; value: string }
  | { kind: "delete"; key: string }
  | { kind: "conflict"; key: string }
export interface KvOwnership {
  /** keys with this prefix may be deleted when not desired */
  prefix: string
}

/** A hand-written Standard Schema: an object of string values. */
export const kvSchema: StandardSchemaV1<unknown, KvDesired> = {
  "~standard": {
    version: 1,
    vendor: "linx-test",
    validate(value) {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return { issues: [{ message: "desired state must be an object" }] }
      const issues: StandardSchemaV1.Issue[] = []
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") issues.push({ message: `expected a string, got ${typeof v}`, path: [k] })
      }
      return issues.length ? { issues } : { value: { ...(value as KvDesired) } }
    },
  },
}

/** Ownership: `{ prefix }`, or the prefix alone as shorthand (normalised to `{ prefix }`). */
export const kvOwnershipSchema: StandardSchemaV1<unknown, KvOwnership> = {
  "~standard": {
    version: 1,
    vendor: "linx-test",
    validate(value) {
      if (typeof value === "string") return { value: { prefix: value } }
      if (typeof value === "object" && value !== null && typeof (value as KvOwnership).prefix === "string")
        return { value: { prefix: (value as KvOwnership).prefix } }
      return { issues: [{ message: "ownership is { prefix } or a prefix string", path: ["prefix"] }] }
    },
  },
}

export class FakeSource implements Source<KvDesired, Record<string, string>, KvOp, KvOwnership> {
  readonly kind = "kv"
  readonly schema = kvSchema
  readonly ownershipSchema = kvOwnershipSchema
  /** the "kernel" */
  readonly kernel = new Map<string, string>()
  /** keys owned by someone else: desired values for them are conflicts */
  readonly foreign = new Set<string>()
  /** keys whose writes never take effect */
  readonly stubborn = new Set<string>()
  readonly calls = { observe: 0, diff: 0, reconcile: 0, subscribe: 0, close: 0 }
  readonly scopes: (Scope | undefined)[] = []
  readonly applied: KvOp[] = []
  /** the next N reconcile() calls throw this error */
  failures: Error[] = []
  /** observe() waits for this promise when set (to hold a pass open) */
  gate: Promise<void> | undefined
  #hint: ((h: Hint) => void) | undefined
  subscribed = false
  /** send a hint for every applied key, as the kernel multicasts our own changes. Default true */
  echo = true

  /** what each reconcile() was handed as the observation its ops came from */
  readonly observations: Record<string, string>[] = []

  async observe(want: Want<KvDesired, KvOwnership>): Promise<Record<string, string>> {
    this.calls.observe++
    this.scopes.push(want.scope)
    if (this.gate) await this.gate
    return Object.fromEntries(this.kernel)
  }

  diff(desired: KvDesired, observed: Record<string, string>, ownership: KvOwnership): KvOp[] {
    this.calls.diff++
    const ops: KvOp[] = []
    for (const [key, value] of Object.entries(desired).sort()) {
      if (this.foreign.has(key)) ops.push({ kind: "conflict", key })
      else if (observed[key] !== value) ops.push({ kind: "set", key, value })
    }
    for (const key of Object.keys(observed).sort()) {
      if (!(key in desired) && key.startsWith(ownership.prefix) && !this.foreign.has(key))
        ops.push({ kind: "delete", key })
    }
    return ops
  }

  async reconcile(ops: readonly KvOp[], observed: Record<string, string>): Promise<ApplyReport<KvOp>> {
    this.calls.reconcile++
    this.observations.push(observed)
    const failure = this.failures.shift()
    if (failure) throw failure
    const report: ApplyReport<KvOp> = { applied: [], failed: [] }
    for (const op of ops) {
      if (op.kind === "set") {
        if (!this.stubborn.has(op.key)) this.kernel.set(op.key, op.value)
      } else if (op.kind === "delete") this.kernel.delete(op.key)
      this.applied.push(op)
      report.applied.push(op)
    }
    // like a kernel's event stream, our own writes come back as events
    if (this.echo && ops.length) {
      const keys = ops.filter((op) => op.kind !== "conflict").map((op) => op.key)
      queueMicrotask(() => this.hint({ scope: keys.map((key) => ({ kind: "key", key })) }))
    }
    return report
  }

  /** the next subscribe calls throw this (a namespace not there yet, a socket refused) */
  subscribeFailures: Error[] = []

  subscribe(onHint: (h: Hint) => void): Disposable {
    this.calls.subscribe++
    const failure = this.subscribeFailures.shift()
    if (failure) throw failure
    this.subscribed = true
    this.#hint = onHint
    return {
      [Symbol.dispose]: () => {
        this.subscribed = false
        this.#hint = undefined
      },
    }
  }

  /** Sends a hint as an event stream would. */
  hint(h: Hint = {}): void {
    this.#hint?.(h)
  }

  /** Another agent changes the "kernel" and the event stream reports it. */
  drift(key: string, value: string | undefined): void {
    if (value === undefined) this.kernel.delete(key)
    else this.kernel.set(key, value)
    this.hint({ scope: [{ kind: "key", key, event: value ?? null }] })
  }

  describe(op: KvOp): string {
    switch (op.kind) {
      case "set":
        return `set ${op.key}=${op.value}`
      case "delete":
        return `delete ${op.key}`
      case "conflict":
        return `# conflict: ${op.key} is foreign`
    }
  }

  async close(): Promise<void> {
    this.calls.close++
  }
}
