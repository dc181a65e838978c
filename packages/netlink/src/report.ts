// What applying ops reports, the same for every source (DESIGN §4): the ops applied,
// and each failed op with an ApplyError whose `cause` is the kernel's own error.

/** Structurally the same as `ApplyReport` of @linx/reconcile (which imports nothing of ours). */
export interface ApplyReport<Op> {
  applied: Op[]
  failed: { op: Op; error: Error }[]
}

/**
 * One op that did not apply. `message` is the cause's (for a NetlinkError: the kernel's
 * extended-ack text, the errno code and the op's `describe()` line); `code`, `errno`
 * and `terminal` are lifted from the cause so callers need not dig.
 */
export class ApplyError extends Error {
  override readonly name = "ApplyError"
  readonly code: string | undefined
  readonly errno: number | undefined
  /** the kernel's extended-ack text, when the cause carries one */
  readonly kernelMessage: string | undefined
  /** retrying the same op cannot succeed (permissions, invalid input) */
  readonly terminal: boolean

  constructor(
    /** the op's describe() line */
    readonly op: string,
    cause: Error,
  ) {
    super(cause.message, { cause })
    const c = cause as { code?: unknown; errno?: unknown; terminal?: unknown; kernelMessage?: unknown }
    this.kernelMessage = typeof c.kernelMessage === "string" ? c.kernelMessage : undefined
    this.code = typeof c.code === "string" ? c.code : undefined
    this.errno = typeof c.errno === "number" ? c.errno : undefined
    this.terminal = c.terminal === true
  }
}

/** Records a failed op in a report, wrapping its error (once). */
export function reportFailure<Op>(report: ApplyReport<Op>, op: Op, label: string, error: unknown): void {
  const cause = error instanceof Error ? error : new Error(String(error))
  report.failed.push({ op, error: cause instanceof ApplyError ? cause : new ApplyError(label, cause) })
}
