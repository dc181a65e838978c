// createSysctlSource: observe the desired keys, diff values after the kernel's
// normalisation, write each key once at offset 0 and read it back.
import {
  type ApplyReport,
  type NetnsRef,
  reportFailure,
  subscribe as subscribeNetlink,
  SubscriptionSet,
} from "@linx/netlink"
import { nl } from "@linx/netlink/wire"
import type { StandardSchemaV1 } from "@standard-schema/spec"
import { createProcSysKernel, isFailure, type KeyFailure, type SysctlIo, type SysctlKernel } from "./kernel.ts"
import { interfaceOf, isNamespaced, keyName, normaliseValue } from "./key.ts"
import { describeSysctlOp, type SysctlOp } from "./ops.ts"
import { type SysctlDesired, SysctlDesiredSchema, type SysctlOwnership, SysctlOwnershipSchema } from "./schema.ts"

export interface SysctlSourceOptions {
  netns?: NetnsRef
  /** put back, on close or when a key leaves desired state, the value found before the first write */
  restoreOnRelease?: boolean
  /** a fake /proc/sys (from @linx/source-sysctl/testing) */
  kernel?: SysctlKernel
}

export interface SysctlObserved {
  /** key path → value as read (raw) */
  values: Map<string, string>
  /** keys of interfaces that do not exist yet */
  pending: Set<string>
  /** keys that could not be read, and why */
  unreadable: Map<string, KeyFailure>
  /** values found before the first write, for restoreOnRelease */
  originals: Map<string, string>
}

/** A write the kernel refused, with what to do about it. */
export class SysctlError extends Error {
  override readonly name = "SysctlError"
  constructor(
    readonly key: string,
    readonly code: string,
    message: string,
    readonly terminal: boolean,
  ) {
    super(message)
  }
}

/** What observe() reads: the keys desired state names (plus, with restoreOnRelease, those to put back). */
export interface SysctlWant {
  desired?: SysctlDesired
  ownership?: SysctlOwnership | undefined
  scope?: unknown
}

export interface SysctlSource extends AsyncDisposable {
  readonly kind: "sysctl"
  readonly schema: StandardSchemaV1<unknown, SysctlDesired>
  readonly ownershipSchema: StandardSchemaV1<unknown, SysctlOwnership>
  observe(want?: SysctlWant): Promise<SysctlObserved>
  diff(desired: SysctlDesired, observed: SysctlObserved, ownership?: SysctlOwnership): SysctlOp[]
  reconcile(ops: readonly SysctlOp[], observed?: SysctlObserved): Promise<ApplyReport<SysctlOp>>
  subscribe(onHint: (hint: { overrun?: true; ended?: Error }) => void): Disposable
  describe(op: SysctlOp): string
  close(): Promise<void>
}

function explain(key: string, value: string, f: KeyFailure): SysctlError {
  const name = keyName(key)
  switch (f.code) {
    case "ENOENT":
      return new SysctlError(
        key,
        f.code,
        `no such sysctl key: ${name} (check the spelling: sysctl -a | grep ${name.split(".").pop()})`,
        true,
      )
    case "EPERM":
    case "EACCES":
      return new SysctlError(
        key,
        f.code,
        `permission denied writing ${name}: run as root (CAP_NET_ADMIN in the namespace's user namespace) or check the key is writable (${f.code})`,
        true,
      )
    case "EROFS":
      return new SysctlError(
        key,
        f.code,
        `/proc/sys is read-only here, cannot write ${name}: in a container, mount /proc/sys read-write or run in the host (EROFS)`,
        true,
      )
    case "EINVAL":
      return new SysctlError(
        key,
        f.code,
        `the kernel refused ${name}=${value}: out of range or wrong format (EINVAL)`,
        true,
      )
    default:
      return new SysctlError(key, f.code, `writing ${name}=${value} failed: ${f.message}`, false)
  }
}

const RTNLGRP_LINK = 1
const RTNLGRP_IPV4_NETCONF = 24
const RTNLGRP_IPV6_NETCONF = 25

/** The diff: desired values that differ, and originals to restore for keys no longer desired. */
function diffSysctl(
  desired: SysctlDesired,
  observed: SysctlObserved,
  ownership: SysctlOwnership | undefined,
): SysctlOp[] {
  const ops: SysctlOp[] = []
  for (const [key, value] of desired) {
    if (!isNamespaced(key) && !ownership?.allowGlobalKeys) {
      ops.push({
        kind: "conflict",
        key,
        reason: `${keyName(key)} is global to the machine, not per namespace: set ownership.allowGlobalKeys to write it`,
      })
      continue
    }
    if (observed.pending.has(key)) continue // its interface does not exist yet
    const current = observed.values.get(key)
    if (current === undefined) ops.push({ kind: "set", key, value })
    else {
      const from = normaliseValue(current)
      if (from !== value) ops.push({ kind: "set", key, value, from })
    }
  }
  for (const [key, value] of observed.originals) {
    if (desired.has(key)) continue
    const current = observed.values.get(key)
    if (current !== undefined && normaliseValue(current) === normaliseValue(value)) continue
    if (observed.pending.has(key)) continue
    ops.push({ kind: "restore", key, value })
  }
  return ops
}

/**
 * One write with its read before (when not observed, or to remember the original for
 * restoreOnRelease: `originals` given) and its read back (the kernel may normalise or
 * silently clamp). "pending": its interface does not exist yet (applied when it appears).
 */
function writeOne(
  io: SysctlIo,
  op: Exclude<SysctlOp, { kind: "conflict" }>,
  originals: Map<string, string> | undefined,
): "applied" | "pending" | SysctlError {
  if (op.kind === "set" && (op.from === undefined || (originals && !originals.has(op.key)))) {
    const before = io.read(op.key)
    if (isFailure(before) && before.code === "ENOENT" && interfaceOf(op.key)) return "pending"
    if (!isFailure(before)) {
      if (originals && !originals.has(op.key)) originals.set(op.key, before.trim())
      // not observed (unreadable then, or no observation given): no write when it already matches
      if (op.from === undefined && normaliseValue(before) === op.value) return "applied"
    }
  }
  const f = io.write(op.key, op.value)
  if (f) {
    if (f.code !== "ENOENT" || !interfaceOf(op.key)) return explain(op.key, op.value, f)
    const why = `interface ${interfaceOf(op.key)} does not exist (yet): ${keyName(op.key)} is pending`
    return new SysctlError(op.key, f.code, why, false)
  }
  const back = io.read(op.key)
  if (isFailure(back)) return explain(op.key, op.value, back)
  if (normaliseValue(back) !== normaliseValue(op.value)) {
    const why = `wrote ${keyName(op.key)}=${op.value} but it reads back as ${normaliseValue(back)}`
    return new SysctlError(op.key, "EINVAL", why, true)
  }
  if (op.kind === "restore") originals?.delete(op.key)
  return "applied"
}

export function createSysctlSource(options: SysctlSourceOptions = {}): SysctlSource {
  const kernel = options.kernel ?? createProcSysKernel(options.netns)
  /** restoreOnRelease: the values found before the first write (DESIGN §4 allows this one) */
  const originals = new Map<string, string>()
  const subscriptions = new SubscriptionSet()
  let closed = false

  const readInto = (io: SysctlIo, key: string, o: SysctlObserved) => {
    const r = io.read(key)
    if (!isFailure(r)) o.values.set(key, r)
    else if (r.code === "ENOENT" && interfaceOf(key)) o.pending.add(key)
    else o.unreadable.set(key, r)
  }

  const source: SysctlSource = {
    kind: "sysctl",
    schema: SysctlDesiredSchema,
    ownershipSchema: SysctlOwnershipSchema as StandardSchemaV1<unknown, SysctlOwnership>,
    async observe(want) {
      if (closed) throw new Error("sysctl source is closed")
      kernel.assertThere?.() // a namespace only this source keeps alive: the loop lets it go
      const o: SysctlObserved = {
        values: new Map(),
        pending: new Set(),
        unreadable: new Map(),
        originals: new Map(originals),
      }
      kernel.batch((io) => {
        for (const k of new Set([...(want?.desired?.keys() ?? []), ...originals.keys()])) readInto(io, k, o)
      })
      return o
    },

    diff: diffSysctl,

    async reconcile(ops) {
      if (closed) throw new Error("sysctl source is closed")
      const report: ApplyReport<SysctlOp> = { applied: [], failed: [] }
      kernel.batch((io) => {
        for (const op of ops) {
          if (op.kind === "conflict") continue
          const r = writeOne(io, op, options.restoreOnRelease ? originals : undefined)
          if (r === "applied") report.applied.push(op)
          else if (r !== "pending") reportFailure(report, op, describeSysctlOp(op), r)
        }
      })
      return report
    },

    subscribe(onHint) {
      if (options.kernel) return { [Symbol.dispose]() {} }
      // netconf events cover forwarding, rp_filter, proxy_arp, mc_forwarding and
      // ignore_routes_with_linkdown; link events cover interfaces appearing (pending keys).
      const sub = subscribeNetlink(nl.NETLINK_ROUTE, {
        netns: options.netns,
        groups: [RTNLGRP_LINK, RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF],
        receiveBufferBytes: 1 << 20,
        onMessages: () => onHint({}),
        onOverrun: () => onHint({ overrun: true }),
        onError: (ended) => onHint({ ended }),
      })
      return subscriptions.add(sub)
    },

    describe: describeSysctlOp,

    async close() {
      if (closed) return
      closed = true
      await subscriptions.close()
      if (options.restoreOnRelease) {
        kernel.batch((io) => {
          for (const [key, value] of originals) io.write(key, value)
        })
        originals.clear()
      }
      kernel.close()
    },
    [Symbol.asyncDispose]() {
      return this.close()
    },
  }
  return source
}
