import { describe, expect, test } from "bun:test"
import { FFIType } from "bun:ffi"
import { LibraryError, lazyLibrary } from "./library.ts"

describe("lazyLibrary", () => {
  test("does nothing until first use, then names the Debian package when the library is missing", () => {
    const get = lazyLibrary("libdoes-not-exist.so.7", "libdoes-not-exist7", { f: { args: [], returns: FFIType.i32 } })
    let err: unknown
    try {
      get()
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(LibraryError)
    expect((err as Error).message).toContain("cannot load libdoes-not-exist.so.7")
    expect((err as Error).message).toContain("Install it with: apt-get install libdoes-not-exist7")
    expect((err as LibraryError).debianPackage).toBe("libdoes-not-exist7")
  })
})
