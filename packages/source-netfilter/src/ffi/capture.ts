// nft without a kernel: libnftables parses and evaluates text as nft does and writes the
// batch nft would send, but its netlink socket is swapped (dup2) for one end of a
// SOCK_SEQPACKET unix socket pair made in the caller's scratch namespace. The other end
// holds the kernel's answers to the requests nft makes before its batch (the generation,
// then one empty dump per object kind: nothing exists yet), queued in advance, and
// receives what nft writes: those requests, and the batch itself, which never reaches a
// kernel. A seqpacket socket keeps message boundaries and ignores nft's netlink address;
// its peer is bound to a 12-byte abstract address so that libmnl, which checks the
// length of the sender's address, takes the answers. What nft asked is checked against
// what was answered: a run whose requests were not the ones expected is refused (the
// caller learns the sequence and runs again, or compiles the slow way).
import { CString, FFIType, type Pointer, ptr, read } from "bun:ffi"
import type { Netns } from "@linx/netlink"
import { getSocketOptionInt, lastErrno, lazyLibrary } from "@linx/netlink/ffi"
import { nftLibrary } from "./libnftables.ts"

const I = FFIType.i32
const libc = lazyLibrary("libc.so.6", "libc6", {
  socketpair: { args: [I, I, I, FFIType.ptr], returns: I },
  bind: { args: [I, FFIType.ptr, FFIType.u32], returns: I },
  dup2: { args: [I, I], returns: I },
  send: { args: [I, FFIType.ptr, FFIType.u64, I], returns: FFIType.i64 },
  recv: { args: [I, FFIType.ptr, FFIType.u64, I], returns: FFIType.i64 },
  close: { args: [I], returns: I },
  fcntl: { args: [I, I, I], returns: I },
  setns: { args: [I, I], returns: I },
})

const AF_UNIX = 1
const SOCK_SEQPACKET = 5
const SOCK_NONBLOCK = 0o4000
const SOCK_CLOEXEC = 0o2000000
const SOL_SOCKET = 1
const SO_PROTOCOL = 38
const SO_DOMAIN = 39
const AF_NETLINK = 16
const NETLINK_NETFILTER = 12
const MSG_PEEK = 2
const MSG_TRUNC = 0x20
const MSG_DONTWAIT = 0x40
const EADDRINUSE = 98

const errno = lastErrno

/** An int socket option, or -1 when it cannot be read (not a socket). */
function sockopt(fd: number, option: number): number {
  try {
    return getSocketOptionInt(fd, SOL_SOCKET, option)
  } catch {
    return -1
  }
}

/** What a captured run gives: nft's error text ("" when it succeeded) and every message nft wrote, in order. */
export interface Captured {
  err: string
  /** each datagram nft wrote: its requests, then its batch (all of a batch's messages in one) */
  sent: Uint8Array[]
  /** answers queued but never read (nft asked less than expected) */
  unread: number
}

let names = 0

/** The unix socket pair, its answer end bound where libmnl accepts it: [nft's end, ours]. */
function socketPair(): [number, number] {
  const c = libc()
  const sv = new Int32Array(2)
  if (c.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ptr(sv)) !== 0) {
    throw new Error(`socketpair failed: errno ${errno()}`)
  }
  // struct sockaddr_un of 12 bytes: family, then an abstract name ("\0" + 9 characters)
  for (let tries = 0; ; tries++) {
    const addr = new Uint8Array(12)
    addr[0] = AF_UNIX
    const name = `lx${((process.pid * 131 + ++names) % 0xfffffff).toString(16).padStart(7, "0")}`
    addr.set(Buffer.from(name), 3)
    if (c.bind(sv[1]!, ptr(addr), 12) === 0) break
    const e = errno()
    if (e !== EADDRINUSE || tries > 8) {
      c.close(sv[0]!)
      c.close(sv[1]!)
      throw new Error(`bind of the capture socket failed: errno ${e}`)
    }
  }
  return [sv[0]!, sv[1]!]
}

/** The netlink socket's fd of a fresh context (struct nft_ctx starts with its struct mnl_socket *, which starts with the fd). */
function contextSocket(ctx: Pointer): number {
  const sock = read.ptr(ctx, 0) as unknown as Pointer | 0
  const fd = sock ? read.i32(sock, 0) : -1
  if (fd < 0 || sockopt(fd, SO_DOMAIN) !== AF_NETLINK || sockopt(fd, SO_PROTOCOL) !== NETLINK_NETFILTER) {
    throw new Error("libnftables' context does not start with its netlink socket: this libnftables cannot be captured")
  }
  return fd
}

const peek = new Uint8Array(64)

/** Every datagram waiting on fd, without blocking, each received into its own array. */
function drain(fd: number): Uint8Array[] {
  const c = libc()
  const out: Uint8Array[] = []
  for (;;) {
    const size = Number(c.recv(fd, ptr(peek), peek.length, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT))
    // nothing waiting (-1), or the other end closed (0)
    if (size <= 0) break
    const d = new Uint8Array(size)
    const n = Number(c.recv(fd, ptr(d), size, MSG_DONTWAIT))
    if (n <= 0) break
    out.push(n === size ? d : d.subarray(0, n))
  }
  return out
}

/**
 * A capture: the socket pair, `answers` queued on nft's end (which reads without
 * blocking, as its own socket did: a missing answer is an error, not a hang). The pair
 * is made inside `ns`, whose abstract socket names no one else sees.
 */
export function openCapture(ns: Netns, answers: readonly Uint8Array[]): { theirs: number; ours: number } {
  const c = libc()
  const [theirs, ours] = ns.run(socketPair)
  try {
    for (const a of answers) {
      if (Number(c.send(ours, ptr(a), a.length, MSG_DONTWAIT)) !== a.length)
        throw new Error(`queueing an answer for nft failed: errno ${errno()}`)
    }
    setNonBlocking(theirs)
  } catch (e) {
    c.close(theirs)
    c.close(ours)
    throw e
  }
  return { theirs, ours }
}

/**
 * Runs an nft file with a new libnftables context whose socket is swapped for `theirs`
 * (taken: closed when done). `inNs` makes the context inside the private namespace (a
 * worker thread that entered it already passes its function through).
 */
export function runNftOn(
  theirs: number,
  path: string,
  inNs: (fn: () => unknown) => unknown,
): { err: string; unread: number } {
  const nft = nftLibrary()
  const c = libc()
  const ctx = inNs(() => nft.nft_ctx_new(0)) as Pointer | null
  if (!ctx) {
    c.close(theirs)
    throw new Error("libnftables: nft_ctx_new failed")
  }
  try {
    nft.nft_ctx_buffer_output(ctx)
    nft.nft_ctx_buffer_error(ctx)
    const fd = contextSocket(ctx)
    const swapped = c.dup2(theirs, fd)
    if (swapped !== fd) throw new Error(`dup2 failed: errno ${errno()}`)
    const rc = nft.nft_run_cmd_from_filename(ctx, Buffer.from(`${path}\0`))
    const err = rc === 0 ? "" : nftErrors(ctx) || `nft failed (${rc})`
    return { err, unread: drain(fd).length }
  } finally {
    c.close(theirs)
    nft.nft_ctx_free(ctx)
  }
}

/** What nft wrote into a capture (its requests, then its batch); closes our end. */
export function collectCapture(ours: number): Uint8Array[] {
  try {
    return drain(ours)
  } finally {
    libc().close(ours)
  }
}

/** Runs an nft file on a capture (nothing reaches a kernel): nft's error text, what it wrote, answers left unread. */
export function runCaptured(ns: Netns, path: string, answers: readonly Uint8Array[]): Captured {
  const { theirs, ours } = openCapture(ns, answers)
  let ran: { err: string; unread: number }
  try {
    ran = runNftOn(theirs, path, (fn) => ns.run(fn))
  } catch (e) {
    libc().close(ours)
    throw e
  }
  return { ...ran, sent: collectCapture(ours) }
}

/**
 * What the main thread gives the capture worker (capture-worker.ts): every job of a
 * compile. Both threads take the next job from a shared counter, so neither waits on a
 * share the other was slow to start.
 */
export interface CaptureJobs {
  nsFd: number
  jobs: { path: string; theirs: number }[]
  /**
   * Int32 [0]: jobs the worker finished; [1]: the next job to take; per job j at 2 + 3j:
   * 1 when the worker finished it, unread answers (-1: the run failed in the worker), the
   * error's byte length; the error texts from errorsAt(jobs)
   */
  shared: SharedArrayBuffer
}
/** Error text kept per job (longer text is cut) */
export const ERROR_BYTES = 8192
/** Where the jobs' error texts start in the shared memory. */
export const errorsAt = (jobs: number) => (2 + 3 * jobs) * 4

const CLONE_NEWNET = 0x40000000

/** Moves the calling thread (a worker's) into the namespace open as `fd`. */
export function enterNetns(fd: number): void {
  if (libc().setns(fd, CLONE_NEWNET) !== 0) throw new Error(`setns failed: errno ${errno()}`)
}

function nftErrors(ctx: Pointer): string {
  const p = nftLibrary().nft_ctx_get_error_buffer(ctx)
  return p ? new CString(p).toString() : ""
}

const F_GETFL = 3
const F_SETFL = 4

function setNonBlocking(fd: number): void {
  const f = libc().fcntl(fd, F_GETFL, 0)
  if (f < 0 || libc().fcntl(fd, F_SETFL, f | SOCK_NONBLOCK) !== 0) throw new Error(`fcntl failed: errno ${errno()}`)
}
