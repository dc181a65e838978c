// libc: namespaces, socket options, errno. See setns(2), unshare(2), setsockopt(2).
import { FFIType, ptr, read } from "bun:ffi"
import { lazyLibrary } from "./library.ts"

const libc = lazyLibrary("libc.so.6", "libc6", {
  setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  unshare: { args: [FFIType.i32], returns: FFIType.i32 },
  setsockopt: {
    args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32],
    returns: FFIType.i32,
  },
  getsockopt: {
    args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr],
    returns: FFIType.i32,
  },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
})

/** errno of the last failed libc call on this (the JS) thread. Read it right after the call. */
export function lastErrno(): number {
  const p = libc().__errno_location()
  return p === null ? 0 : read.i32(p, 0)
}

export class SyscallError extends Error {
  override readonly name = "SyscallError"
  constructor(
    readonly syscall: string,
    readonly errno: number,
  ) {
    super(`${syscall} failed: errno ${errno}`)
  }
}

/** setns(2); throws SyscallError with errno on failure. */
export function setns(fd: number, nstype: number): void {
  if (libc().setns(fd, nstype) !== 0) throw new SyscallError("setns", lastErrno())
}

/** unshare(2) on the calling (JS) thread. */
export function unshare(flags: number): void {
  if (libc().unshare(flags) !== 0) throw new SyscallError("unshare", lastErrno())
}

/** setsockopt(2) with an int value. */
export function setSocketOptionInt(fd: number, level: number, option: number, value: number): void {
  const buf = new Int32Array([value])
  if (libc().setsockopt(fd, level, option, ptr(buf), 4) !== 0) {
    throw new SyscallError(`setsockopt(${level}, ${option})`, lastErrno())
  }
}

/** setsockopt(2) with raw bytes (e.g. struct timeval). */
export function setSocketOptionBytes(fd: number, level: number, option: number, value: Uint8Array): void {
  if (libc().setsockopt(fd, level, option, ptr(value), value.byteLength) !== 0) {
    throw new SyscallError(`setsockopt(${level}, ${option})`, lastErrno())
  }
}

/** getsockopt(2) for an int value. */
export function getSocketOptionInt(fd: number, level: number, option: number): number {
  const buf = new Int32Array(1)
  const len = new Uint32Array([4])
  if (libc().getsockopt(fd, level, option, ptr(buf), ptr(len)) !== 0) {
    throw new SyscallError(`getsockopt(${level}, ${option})`, lastErrno())
  }
  return buf[0] ?? 0
}

export function closeFd(fd: number): void {
  libc().close(fd)
}
