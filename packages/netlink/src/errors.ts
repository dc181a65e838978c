// Errors raised by the transport. Callers test them with predicates, never by text.
import { EACCES, EEXIST, EINVAL, ENODEV, ENOENT, EOPNOTSUPP, EPERM, ESRCH, errnoCode, errnoText } from "./errno.ts"

/** What a failing request was: enough to find it in logs and map it to an op. */
export interface RequestInfo {
  /** nlmsg_type of the request */
  type: number
  /** nlmsg_flags of the request */
  flags: number
  seq: number
  /** index of the request inside a batch, when it was part of one */
  index?: number
  /** a caller-supplied label for the request, e.g. the op's describe() text */
  label?: string
}

/** The kernel's extended acknowledgement (NLMSGERR_ATTR_*), when it sent one. */
export interface ExtAck {
  message?: string
  /** byte offset into the failing request (from its nlmsghdr) of the attribute the kernel blamed */
  offset?: number
  /** the attribute at `offset`, as a path of attribute types from the outermost */
  attributePath?: number[]
  missingType?: number
}

/**
 * A negative acknowledgement from the kernel, or a failed socket call.
 * `message` includes the kernel's own extended-ack text when there is one.
 */
export class NetlinkError extends Error {
  override readonly name = "NetlinkError"
  readonly errno: number
  readonly code: string
  readonly request: RequestInfo | undefined
  readonly extAck: ExtAck
  /** the kernel's extended-ack message, if any */
  readonly kernelMessage: string | undefined
  readonly offset: number | undefined

  constructor(errno: number, options: { request?: RequestInfo; extAck?: ExtAck; context?: string } = {}) {
    const code = errnoCode(errno)
    const ext = options.extAck ?? {}
    const parts = [options.context, ext.message ?? errnoText(errno)].filter(Boolean)
    super(`${parts.join(": ")} (${code}${options.request?.label ? ` in "${options.request.label}"` : ""})`)
    this.errno = errno
    this.code = code
    this.request = options.request
    this.extAck = ext
    this.kernelMessage = ext.message
    this.offset = ext.offset
  }

  /** retrying the same request cannot succeed (EPERM, EACCES, EINVAL, EOPNOTSUPP) */
  get terminal(): boolean {
    return isTerminal(this)
  }
}

/** Malformed bytes: the decoder stops and says where and why. */
export class DecodeError extends Error {
  override readonly name = "DecodeError"
  readonly terminal = true
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`malformed netlink data at byte ${offset}: ${reason}`)
  }
}

/** A dump kept being interrupted by concurrent changes (NLM_F_DUMP_INTR) past the retry bound. */
export class DumpInterruptedError extends Error {
  override readonly name = "DumpInterruptedError"
  constructor(readonly attempts: number) {
    super(`dump interrupted by concurrent changes ${attempts} times in a row (NLM_F_DUMP_INTR)`)
  }
}

function hasErrno(e: unknown, ...errnos: number[]): boolean {
  return typeof e === "object" && e !== null && errnos.includes((e as { errno?: unknown }).errno as number)
}

export const isNotFound = (e: unknown): boolean => hasErrno(e, ENOENT, ENODEV, ESRCH)
export const isExists = (e: unknown): boolean => hasErrno(e, EEXIST)
export const isPermission = (e: unknown): boolean => hasErrno(e, EPERM, EACCES)
export const isNotSupported = (e: unknown): boolean => hasErrno(e, EOPNOTSUPP)
export const isInvalid = (e: unknown): boolean => hasErrno(e, EINVAL)

/** True for errors that retrying the same request cannot fix (permissions, invalid input). */
export function isTerminal(e: unknown): boolean {
  return hasErrno(e, EPERM, EACCES, EINVAL, EOPNOTSUPP) || e instanceof DecodeError
}
