// The seam to /proc/sys: read and write one key. The real one opens files
// synchronously while the JS thread is switched into the namespace (a /proc/sys/net
// file resolves against the opening thread's namespace); the fake keeps a map.
import { closeSync, constants, openSync, readSync, writeSync } from "node:fs"
import { assertNetnsThere, Netns, type NetnsRef } from "@linx/netlink"

/** A failed read or write: the errno code ("ENOENT", "EACCES", ...) and its text. */
export interface KeyFailure {
  code: string
  message: string
}

export interface SysctlIo {
  /** the key's current value, or why it cannot be read */
  read(path: string): string | KeyFailure
  /** one write() at offset 0; undefined on success */
  write(path: string, value: string): KeyFailure | undefined
}

export interface SysctlKernel {
  /** runs `fn` with reads and writes in the namespace (one switch for the whole batch) */
  batch<T>(fn: (io: SysctlIo) => T): T
  /** throws NetnsGoneError when the namespace is gone (the fake kernel never is) */
  assertThere?(): void
  close(): void
}

export function isFailure(x: unknown): x is KeyFailure {
  return typeof x === "object" && x !== null && "code" in x
}

function failure(e: unknown): KeyFailure {
  const err = e as NodeJS.ErrnoException
  return { code: err.code ?? "EIO", message: err.message }
}

const decoder = new TextDecoder()

/** Reads and writes /proc/sys of the calling thread's current namespace, into its own buffer. */
function createProcSysIo(): SysctlIo {
  const buf = new Uint8Array(4096)
  return {
    read(path) {
      let fd: number
      try {
        fd = openSync(`/proc/sys/${path}`, constants.O_RDONLY)
      } catch (e) {
        return failure(e)
      }
      try {
        const n = readSync(fd, buf, 0, buf.length, 0)
        return decoder.decode(buf.subarray(0, n))
      } catch (e) {
        return failure(e)
      } finally {
        closeSync(fd)
      }
    },
    write(path, value) {
      let fd: number
      try {
        fd = openSync(`/proc/sys/${path}`, constants.O_WRONLY)
      } catch (e) {
        return failure(e)
      }
      try {
        writeSync(fd, `${value}\n`, 0)
        return undefined
      } catch (e) {
        return failure(e)
      } finally {
        closeSync(fd)
      }
    },
  }
}

export function createProcSysKernel(netns: NetnsRef): SysctlKernel {
  const ns = Netns.open(netns)
  const io = createProcSysIo()
  return {
    batch: (fn) => ns.run(() => fn(io)),
    assertThere: () => assertNetnsThere(ns),
    close() {
      ns.close()
    },
  }
}
