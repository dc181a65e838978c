// libmnl sockets. See libmnl/libmnl.h: mnl_socket_open2, mnl_socket_bind,
// mnl_socket_sendto, mnl_socket_recvfrom (reports a truncated datagram as ENOSPC).
// A raw `struct mnl_socket *` never leaves this file: callers get a MnlSocket that
// owns it and frees it in close().
import { FFIType, ptr, type Pointer } from "bun:ffi"
import { lastErrno, SyscallError } from "./libc.ts"
import { lazyLibrary } from "./library.ts"

const libmnl = lazyLibrary("libmnl.so.0", "libmnl0", {
  mnl_socket_open2: { args: [FFIType.i32, FFIType.i32], returns: FFIType.ptr },
  mnl_socket_bind: { args: [FFIType.ptr, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  mnl_socket_get_fd: { args: [FFIType.ptr], returns: FFIType.i32 },
  mnl_socket_get_portid: { args: [FFIType.ptr], returns: FFIType.u32 },
  mnl_socket_sendto: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  mnl_socket_recvfrom: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  mnl_socket_setsockopt: {
    args: [FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32],
    returns: FFIType.i32,
  },
  mnl_socket_close: { args: [FFIType.ptr], returns: FFIType.i32 },
})

const SOCK_CLOEXEC = 0o2000000
/** MNL_SOCKET_AUTOPID */
const AUTOPID = 0

export class MnlSocket {
  #nl: Pointer | null
  readonly fd: number
  readonly portId: number

  private constructor(nl: Pointer) {
    this.#nl = nl
    this.fd = libmnl().mnl_socket_get_fd(nl)
    this.portId = libmnl().mnl_socket_get_portid(nl)
  }

  /** socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, bus) + bind(groups). */
  static open(bus: number, groups = 0): MnlSocket {
    const lib = libmnl()
    const nl = lib.mnl_socket_open2(bus, SOCK_CLOEXEC)
    if (nl === null) throw new SyscallError("socket(AF_NETLINK)", lastErrno())
    if (lib.mnl_socket_bind(nl, groups, AUTOPID) < 0) {
      const errno = lastErrno()
      lib.mnl_socket_close(nl)
      throw new SyscallError("bind(AF_NETLINK)", errno)
    }
    return new MnlSocket(nl as Pointer)
  }

  #handle(): Pointer {
    if (this.#nl === null) throw new SyscallError("netlink socket is closed", 9 /* EBADF */)
    return this.#nl
  }

  /** Sends one datagram; returns bytes sent or throws with errno. */
  send(data: Uint8Array): number {
    const n = Number(libmnl().mnl_socket_sendto(this.#handle(), ptr(data), data.byteLength))
    if (n < 0) throw new SyscallError("sendto", lastErrno())
    return n
  }

  /** Receives one datagram into `buffer` (blocking). ENOSPC means it was truncated. */
  receive(buffer: Uint8Array): number {
    const n = Number(libmnl().mnl_socket_recvfrom(this.#handle(), ptr(buffer), buffer.byteLength))
    if (n < 0) throw new SyscallError("recvfrom", lastErrno())
    return n
  }

  /** setsockopt(SOL_NETLINK, option, int). */
  setNetlinkOption(option: number, value: number): void {
    const buf = new Int32Array([value])
    if (libmnl().mnl_socket_setsockopt(this.#handle(), option, ptr(buf), 4) < 0) {
      throw new SyscallError(`setsockopt(SOL_NETLINK, ${option})`, lastErrno())
    }
  }

  get closed(): boolean {
    return this.#nl === null
  }

  close(): void {
    if (this.#nl === null) return
    libmnl().mnl_socket_close(this.#nl)
    this.#nl = null
  }
}
