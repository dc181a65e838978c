// Lazy loading of the native libraries. Nothing here runs at import time: each
// library is opened on first use, so importing, type-checking and unit tests work
// on a machine that lacks them.
import { dlopen, type FFIFunction, type Library } from "bun:ffi"

/** Thrown when a native library cannot be loaded; names the Debian package to install. */
export class LibraryError extends Error {
  override readonly name = "LibraryError"
  readonly library: string
  readonly debianPackage: string
  constructor(library: string, debianPackage: string, cause: unknown) {
    super(
      `cannot load ${library}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        `Install it with: apt-get install ${debianPackage}`,
      { cause },
    )
    this.library = library
    this.debianPackage = debianPackage
  }
}

/** Returns a getter that opens `soname` once, on first call. */
export function lazyLibrary<const S extends Record<string, FFIFunction>>(
  soname: string,
  debianPackage: string,
  symbols: S,
): () => Library<S>["symbols"] {
  let lib: Library<S> | undefined
  return () => {
    if (lib) return lib.symbols
    try {
      lib = dlopen(soname, symbols)
    } catch (cause) {
      throw new LibraryError(soname, debianPackage, cause)
    }
    return lib.symbols
  }
}
