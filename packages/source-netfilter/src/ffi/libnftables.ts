// libnftables (nftables/libnftables.h): nft's own parser and evaluator, used to turn nft
// text into what nft would send. A context opens its netlink socket when it is made
// (NFT_CTX_DEFAULT), in the namespace of the calling thread: made inside a private
// namespace, everything it runs lands there. Output and errors are buffered, never printed.
import { CString, FFIType, type Pointer } from "bun:ffi"
import type { Netns } from "@linx/netlink"
import { lazyLibrary } from "@linx/netlink/ffi"

const P = FFIType.ptr

const lib = lazyLibrary("libnftables.so.1", "libnftables1", {
  nft_ctx_new: { args: [FFIType.u32], returns: P },
  nft_ctx_free: { args: [P], returns: FFIType.void },
  nft_ctx_buffer_output: { args: [P], returns: FFIType.i32 },
  nft_ctx_buffer_error: { args: [P], returns: FFIType.i32 },
  nft_ctx_get_error_buffer: { args: [P], returns: P },
  nft_ctx_get_output_buffer: { args: [P], returns: P },
  nft_ctx_output_set_flags: { args: [P, FFIType.u32], returns: FFIType.void },
  nft_run_cmd_from_buffer: { args: [P, FFIType.cstring], returns: FFIType.i32 },
  nft_run_cmd_from_filename: { args: [P, FFIType.cstring], returns: FFIType.i32 },
})

/** The library itself, for capture.ts. */
export const nftLibrary = lib

const cstring = (s: string) => Buffer.from(`${s}\0`)

/** One libnftables context whose socket lives in `ns`. */
export class NftContext {
  #ctx: Pointer | null

  constructor(ns: Netns) {
    const l = lib()
    this.#ctx = ns.run(() => l.nft_ctx_new(0)) as Pointer | null
    if (!this.#ctx) throw new Error("libnftables: nft_ctx_new failed (out of memory, or no netlink socket)")
    l.nft_ctx_buffer_output(this.#ctx)
    l.nft_ctx_buffer_error(this.#ctx)
  }

  #errors(): string {
    const p = lib().nft_ctx_get_error_buffer(this.#live())
    return p ? new CString(p).toString() : ""
  }

  #live(): Pointer {
    if (!this.#ctx) throw new Error("libnftables context is closed")
    return this.#ctx
  }

  /** NFT_CTX_OUTPUT_* flags for listings (handles 1<<3, stateless 1<<2). */
  setOutputFlags(flags: number): void {
    lib().nft_ctx_output_set_flags(this.#live(), flags)
  }

  /** Runs commands and returns what nft printed (a listing); throws with nft's error text. */
  list(commands: string): string {
    const err = this.run(commands)
    if (err) throw new Error(`nft: ${err.trim()}`)
    const p = lib().nft_ctx_get_output_buffer(this.#live())
    return p ? new CString(p).toString() : ""
  }

  /** Runs commands; returns nft's error text ("" on success). */
  run(commands: string): string {
    const rc = lib().nft_run_cmd_from_buffer(this.#live(), cstring(commands))
    const err = this.#errors()
    return rc === 0 ? "" : err || `nft failed (${rc})`
  }

  /** Runs a file (errors then name it and its line: "FILE:3:10-12: Error: …"); returns nft's error text. */
  runFile(path: string): string {
    const rc = lib().nft_run_cmd_from_filename(this.#live(), cstring(path))
    const err = this.#errors()
    return rc === 0 ? "" : err || `nft failed (${rc})`
  }

  close(): void {
    if (!this.#ctx) return
    lib().nft_ctx_free(this.#ctx)
    this.#ctx = null
  }
}
