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
  open: { args: [FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
  ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
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

const O_RDWR = 2
const O_CLOEXEC = 0o2000000
/** _IOW('T', 202, int) and _IOW('T', 203, int) (linux/if_tun.h) */
const TUNSETIFF = 0x400454ca
const TUNSETPERSIST = 0x400454cb
const IFF_TUN = 0x0001
const IFF_TAP = 0x0002
const IFF_NO_PI = 0x1000
/** fail when a device of that name exists, rather than attach to it (a create never takes over) */
const IFF_TUN_EXCL = 0x8000

/**
 * Makes a persistent tun or tap device (what `ip tuntap add NAME mode tun|tap` does):
 * open /dev/net/tun, TUNSETIFF with the name, TUNSETPERSIST, close. The device lands in
 * the calling thread's network namespace (run it inside `Netns.run`).
 */
export function createTunDevice(name: string, mode: "tun" | "tap"): void {
  const l = libc()
  const fd = l.open(Buffer.from("/dev/net/tun\0"), O_RDWR | O_CLOEXEC)
  if (fd < 0) throw new SyscallError("open /dev/net/tun", lastErrno())
  try {
    // struct ifreq: char ifr_name[16]; short ifr_flags; (padded to 40 bytes)
    const ifr = new Uint8Array(40)
    ifr.set(Buffer.from(name).subarray(0, 15))
    new DataView(ifr.buffer).setUint16(16, (mode === "tap" ? IFF_TAP : IFF_TUN) | IFF_NO_PI | IFF_TUN_EXCL, true)
    if (l.ioctl(fd, TUNSETIFF, ptr(ifr)) !== 0) throw new SyscallError("ioctl TUNSETIFF", lastErrno())
    if (l.ioctl(fd, TUNSETPERSIST, 1 as never) !== 0) throw new SyscallError("ioctl TUNSETPERSIST", lastErrno())
  } finally {
    l.close(fd)
  }
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
