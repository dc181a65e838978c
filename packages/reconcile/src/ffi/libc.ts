// The libc calls of the workload watcher (lifetime/exit.ts), through bun:ffi, loaded on
// first use: pidfd_open(2), an eventfd to wake the polling thread (ffi/poll-worker.ts).
import { dlopen, FFIType, type Pointer, ptr, toArrayBuffer } from "bun:ffi"

const SYS_pidfd_open = 434
const EFD_CLOEXEC = 0o2000000
const EFD_NONBLOCK = 0o4000
const ESRCH = 3

let symbols:
  | {
      syscall: (n: number, a: number, b: number) => number | bigint
      eventfd: (init: number, flags: number) => number
      write: (fd: number, buf: number, n: number) => number | bigint
      close: (fd: number) => number
      __errno_location: () => Pointer
    }
  | undefined

function libc() {
  symbols ??= dlopen("libc.so.6", {
    syscall: { args: [FFIType.i64, FFIType.i64, FFIType.i64], returns: FFIType.i64 },
    eventfd: { args: [FFIType.u32, FFIType.i32], returns: FFIType.i32 },
    write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols as never
  return symbols!
}

function errno(): number {
  return new Int32Array(toArrayBuffer(libc().__errno_location(), 0, 4))[0]!
}

/** A descriptor that becomes readable when `pid` exits; undefined when it is not running. */
export function pidfdOpen(pid: number): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`${pid} is not a process id`)
  const fd = Number(libc().syscall(SYS_pidfd_open, pid, 0))
  if (fd >= 0) return fd
  const e = errno()
  if (e === ESRCH) return undefined
  throw new Error(`pidfd_open(${pid}) failed: errno ${e}`)
}

/** A non-blocking, close-on-exec eventfd. */
export function wakeFd(): number {
  return libc().eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
}

/** Adds one to an eventfd: the thread polling it wakes. */
export function poke(fd: number): void {
  const one = new BigUint64Array([1n])
  libc().write(fd, ptr(one), 8)
}

export function closeFd(fd: number): void {
  libc().close(fd)
}
