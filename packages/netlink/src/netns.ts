// Network namespace references. A Netns owns one descriptor of the namespace and
// runs synchronous functions switched into it (setns on the JS thread, switch back in
// `finally`). There is no process-global handle: each Netns is explicit.
import { closeSync, fstatSync, openSync, readFileSync, statSync } from "node:fs"
import { setns, SyscallError, unshare } from "./ffi/index.ts"
import { errnoCode } from "./errno.ts"
import { CLONE_NEWNET } from "./wire/constants.ts"

/**
 * Which network namespace: a name (`/run/netns/NAME`, as `ip netns add` makes), a path
 * to a namespace file, a process's namespace, or `undefined` for the caller's own.
 */
export type NetnsRef = string | { name: string } | { path: string } | { pid: number } | Netns | undefined

/** A namespace that does not exist or cannot be opened. */
export class NetnsError extends Error {
  override readonly name: string = "NetnsError"
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

/**
 * The namespace a source was opened for cannot be reached any more by its reference (a
 * named namespace deleted, its process gone): the loop over that source stops.
 */
export class NetnsGoneError extends NetnsError {
  override readonly name = "NetnsGoneError"
  readonly namespaceGone = true
  readonly terminal = true
  constructor(message: string) {
    super(message, "ENOENT")
  }
}

/** Throws NetnsGoneError when `ns` is gone (see Netns.gone()). */
export function assertNetnsThere(ns: Netns): void {
  const why = ns.gone()
  if (why) throw new NetnsGoneError(why)
}

const THREAD_NS = "/proc/thread-self/ns/net"

export function resolveNetnsPath(ref: Exclude<NetnsRef, undefined | Netns>): string {
  if (typeof ref === "string") return ref.includes("/") ? ref : `/run/netns/${ref}`
  if ("name" in ref) return `/run/netns/${ref.name}`
  if ("path" in ref) return ref.path
  return `/proc/${ref.pid}/ns/net`
}

function describeRef(ref: Exclude<NetnsRef, undefined | Netns>): string {
  if (typeof ref === "string") return ref.includes("/") ? `path ${ref}` : `"${ref}"`
  if ("name" in ref) return `"${ref.name}"`
  if ("path" in ref) return `path ${ref.path}`
  return `of pid ${ref.pid}`
}

export class Netns {
  readonly #fd: number
  #closed = false
  /** made by create(): it has no path anyone else could remove */
  #created = false
  /** where the namespace was opened from (for messages), or "current" */
  readonly path: string
  /** true when this is the caller's own namespace (run() does not switch) */
  readonly isCurrent: boolean

  private constructor(fd: number, path: string, isCurrent: boolean) {
    this.#fd = fd
    this.path = path
    this.isCurrent = isCurrent
  }

  /** Opens a reference to a namespace. `undefined` means the caller's own, at call time. */
  static open(ref?: NetnsRef): Netns {
    if (ref instanceof Netns) return ref.dup()
    if (ref === undefined) return new Netns(-1, "current", true)
    const path = resolveNetnsPath(ref)
    let fd: number
    try {
      fd = openSync(path, "r")
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "EIO"
      const hint =
        code === "ENOENT"
          ? typeof ref === "string" && !ref.includes("/")
            ? `: it does not exist; create it with "ip netns add ${ref}" or pass an existing one`
            : ": it does not exist"
          : code === "EACCES" || code === "EPERM"
            ? ": permission denied; run as root or with CAP_SYS_ADMIN"
            : ""
      throw new NetnsError(`cannot open network namespace ${describeRef(ref)} (${path})${hint}`, code)
    }
    // A namespace file is an nsfs inode (the device every namespace file shares); an
    // ordinary file here (say, the empty file a bind mount will cover, not mounted yet)
    // is not a namespace.
    const st = fstatSync(fd)
    if (st.dev !== statSync(THREAD_NS).dev) {
      closeSync(fd)
      throw new NetnsError(`${path} is not a network namespace file (not mounted yet?)`, "EINVAL")
    }
    return new Netns(fd, path, false)
  }

  /**
   * Creates a fresh, empty network namespace without moving the caller into it
   * (unshare on the JS thread, keep a descriptor, switch back). It lives while this
   * Netns (or anything opened in it) is open.
   */
  static create(): Netns {
    const home = openSync(THREAD_NS, "r")
    let fd = -1
    try {
      unshare(CLONE_NEWNET)
      try {
        fd = openSync(THREAD_NS, "r")
      } finally {
        setns(home, CLONE_NEWNET)
      }
    } catch (e) {
      if (fd >= 0) closeSync(fd)
      if (e instanceof SyscallError) {
        throw new NetnsError(
          `cannot create a network namespace: ${errnoCode(e.errno)}; run as root`,
          errnoCode(e.errno),
        )
      }
      throw e
    } finally {
      closeSync(home)
    }
    const ns = new Netns(fd, `/proc/${process.pid}/fd/${fd}`, false)
    ns.#created = true
    return ns
  }

  /** The descriptor, for setns by other code (e.g. IFLA_NET_NS_FD); -1 for the current namespace. */
  get fd(): number {
    return this.#fd
  }

  /** A second, independently closable reference to the same namespace. */
  dup(): Netns {
    if (this.isCurrent) return new Netns(-1, "current", true)
    this.#check()
    const copy = new Netns(openSync(`/proc/self/fd/${this.#fd}`, "r"), this.path, false)
    copy.#created = this.#created
    return copy
  }

  /**
   * Why the namespace is no longer reachable by the reference it was opened from (a
   * named namespace deleted, a path unmounted, the process of `{ pid }` gone), or
   * undefined while it is. A namespace only this descriptor keeps alive is dead to
   * everyone else: a loop holding it should let it go. Created and current namespaces
   * are never gone.
   */
  gone(): string | undefined {
    if (this.isCurrent || this.#created || this.#closed) return undefined
    let now: { ino: number; dev: number }
    try {
      now = statSync(this.path)
    } catch {
      return `network namespace ${this.path} no longer exists (deleted, or its process exited): only this loop kept it alive`
    }
    const held = fstatSync(this.#fd)
    if (now.ino === held.ino && now.dev === held.dev) return undefined
    return now.dev === held.dev
      ? `${this.path} is now another network namespace: the one this loop held is gone`
      : `network namespace ${this.path} no longer exists (unmounted, as by ip netns del): only this loop kept it alive`
  }

  /** Inode of the namespace (equal inodes = same namespace). */
  inode(): number {
    if (this.isCurrent) return statSync(THREAD_NS).ino
    this.#check()
    return fstatSync(this.#fd).ino
  }

  #check(): void {
    if (this.#closed) throw new NetnsError(`network namespace ${this.path} is closed`, "EBADF")
  }

  /**
   * Runs `fn` with the JS thread switched into this namespace and switches back
   * afterwards, even when `fn` throws. `fn` must be synchronous: awaiting while
   * switched would run other callbacks in the wrong namespace.
   */
  run<T>(fn: () => T): T {
    if (this.isCurrent) return fn()
    this.#check()
    const home = openSync(THREAD_NS, "r")
    try {
      try {
        setns(this.#fd, CLONE_NEWNET)
      } catch (e) {
        if (e instanceof SyscallError && (e.errno === 1 || e.errno === 13))
          throw new NetnsError(
            `entering network namespace ${this.path} needs root (CAP_SYS_ADMIN): run as root`,
            "EPERM",
          )
        throw e
      }
      try {
        const result = fn()
        if (result instanceof Promise) {
          throw new TypeError("Netns.run() takes a synchronous function; it returned a Promise")
        }
        return result
      } finally {
        setns(home, CLONE_NEWNET)
      }
    } finally {
      closeSync(home)
    }
  }

  close(): void {
    if (this.#closed || this.isCurrent) return
    this.#closed = true
    closeSync(this.#fd)
  }

  [Symbol.dispose](): void {
    this.close()
  }
}

/** init_net's fixed inode number on kernels that have one (PROC_NET_INIT_INO). */
const PROC_NET_INIT_INO = 0xeffffff9

/** The inode of the machine's initial network namespace, found the first way that works. */
function initialNetnsInode(): { ino: number; dev?: number } {
  // pid 1 is in init_net, unless it is hidden from us (a sandbox's init may be).
  try {
    const st = statSync("/proc/1/ns/net")
    return { ino: st.ino, dev: st.dev }
  } catch {
    // fall through
  }
  // kthreadd (pid 2 outside a pid namespace) and every kernel thread live in init_net.
  try {
    if (readFileSync("/proc/2/comm", "utf8").trim() === "kthreadd") {
      const st = statSync("/proc/2/ns/net")
      return { ino: st.ino, dev: st.dev }
    }
  } catch {
    // fall through
  }
  return { ino: PROC_NET_INIT_INO }
}

/** True when the JS thread is in the machine's initial network namespace. */
export function isInitialNetns(): boolean {
  const mine = statSync(THREAD_NS)
  const init = initialNetnsInode()
  return mine.ino === init.ino && (init.dev === undefined || mine.dev === init.dev)
}

/** Throws unless the JS thread is in a namespace other than the machine's own. */
export function assertNotInitialNetns(what = "this"): void {
  if (isInitialNetns()) {
    throw new NetnsError(
      `${what} refuses to run in the machine's own network namespace; run it under "unshare -n" or in a namespace it created`,
      "EPERM",
    )
  }
}
