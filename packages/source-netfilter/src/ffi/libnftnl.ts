// libnftnl (libnftnl/{table,chain,rule,expr,common}.h): builds nf_tables messages
// from objects and parses received messages into objects. A raw `struct nftnl_*`
// pointer never leaves this file: callers get a NftObject that owns and frees it.
import { CString, FFIType, ptr, toArrayBuffer, type Pointer } from "bun:ffi"
import { lazyLibrary } from "@linx/netlink/ffi"
import { toHex } from "@linx/netlink/wire"

const P = FFIType.ptr
const U16 = FFIType.u16
const U32 = FFIType.u32

function kindSymbols<K extends string>(k: K) {
  return {
    [`nftnl_${k}_alloc`]: { args: [], returns: P },
    [`nftnl_${k}_free`]: { args: [P], returns: FFIType.void },
    [`nftnl_${k}_set_str`]: { args: [P, U16, FFIType.cstring], returns: FFIType.i32 },
    [`nftnl_${k}_set_u32`]: { args: [P, U16, U32], returns: FFIType.void },
    [`nftnl_${k}_set_u64`]: { args: [P, U16, FFIType.u64], returns: FFIType.void },
    [`nftnl_${k}_set_data`]: { args: [P, U16, P, U32], returns: FFIType.i32 },
    [`nftnl_${k}_get_str`]: { args: [P, U16], returns: P },
    [`nftnl_${k}_get_u32`]: { args: [P, U16], returns: U32 },
    [`nftnl_${k}_get_u64`]: { args: [P, U16], returns: FFIType.u64_fast },
    [`nftnl_${k}_get_data`]: { args: [P, U16, P], returns: P },
    [`nftnl_${k}_is_set`]: { args: [P, U16], returns: FFIType.bool },
    [`nftnl_${k}_nlmsg_build_payload`]: { args: [P, P], returns: FFIType.void },
    [`nftnl_${k}_nlmsg_parse`]: { args: [P, P], returns: FFIType.i32 },
  } as const
}

const lib = lazyLibrary("libnftnl.so.11", "libnftnl11", {
  ...kindSymbols("table"),
  ...kindSymbols("chain"),
  ...kindSymbols("rule"),
  ...kindSymbols("set"),
  nftnl_set_elems_nlmsg_build_payload: { args: [P, P], returns: FFIType.void },
  nftnl_set_elem_alloc: { args: [], returns: P },
  nftnl_set_elem_set: { args: [P, U16, P, U32], returns: FFIType.i32 },
  nftnl_set_elem_set_u32: { args: [P, U16, U32], returns: FFIType.void },
  nftnl_set_elem_add: { args: [P, P], returns: FFIType.void },
  nftnl_nlmsg_build_hdr: { args: [P, U16, U16, U16, U32], returns: P },
  nftnl_rule_add_expr: { args: [P, P], returns: FFIType.void },
  nftnl_expr_alloc: { args: [FFIType.cstring], returns: P },
  nftnl_expr_free: { args: [P], returns: FFIType.void },
  nftnl_expr_set_str: { args: [P, U16, FFIType.cstring], returns: FFIType.i32 },
  nftnl_expr_set_u8: { args: [P, U16, FFIType.u8], returns: FFIType.void },
  nftnl_expr_set_u16: { args: [P, U16, U16], returns: FFIType.void },
  nftnl_expr_set_u32: { args: [P, U16, U32], returns: FFIType.void },
  nftnl_expr_set_u64: { args: [P, U16, FFIType.u64], returns: FFIType.void },
  nftnl_expr_set: { args: [P, U16, P, U32], returns: FFIType.i32 },
  nftnl_expr_get_str: { args: [P, U16], returns: P },
  nftnl_expr_get_u8: { args: [P, U16], returns: FFIType.u8 },
  nftnl_expr_get_u16: { args: [P, U16], returns: U16 },
  nftnl_expr_get_u32: { args: [P, U16], returns: U32 },
  nftnl_expr_get_u64: { args: [P, U16], returns: FFIType.u64_fast },
  nftnl_expr_get: { args: [P, U16, P], returns: P },
  nftnl_expr_is_set: { args: [P, U16], returns: FFIType.bool },
  nftnl_expr_iter_create: { args: [P], returns: P },
  nftnl_expr_iter_next: { args: [P], returns: P },
  nftnl_expr_iter_destroy: { args: [P], returns: FFIType.void },
})

export type NftKind = "table" | "chain" | "rule" | "set"

// biome-ignore lint: the symbol table is generic over kinds
type Fn = (...args: any[]) => any
interface KindFns {
  alloc: Fn
  free: Fn
  setStr: Fn
  setU32: Fn
  setU64: Fn
  setData: Fn
  getStr: Fn
  getU32: Fn
  getU64: Fn
  getData: Fn
  isSet: Fn
  build: Fn
  parse: Fn
}
const kindFns = new Map<NftKind, KindFns>()
function fns(kind: NftKind): KindFns {
  let f = kindFns.get(kind)
  if (!f) {
    const L = lib() as unknown as Record<string, Fn>
    const g = (n: string) => L[`nftnl_${kind}_${n}`]!
    f = {
      alloc: g("alloc"),
      free: g("free"),
      setStr: g("set_str"),
      setU32: g("set_u32"),
      setU64: g("set_u64"),
      setData: g("set_data"),
      getStr: g("get_str"),
      getU32: g("get_u32"),
      getU64: g("get_u64"),
      getData: g("get_data"),
      isSet: g("is_set"),
      build: g("nlmsg_build_payload"),
      parse: g("nlmsg_parse"),
    }
    kindFns.set(kind, f)
  }
  return f
}

const lenBuf = new Uint32Array(1)

/** NUL-terminated names, made once (expression kinds, table and chain names repeat). */
const cstrings = new Map<string, Buffer>()
function cstr(s: string): Buffer {
  let b = cstrings.get(s)
  if (!b) {
    b = Buffer.from(`${s}\0`)
    if (cstrings.size > 10_000) cstrings.clear()
    cstrings.set(s, b)
  }
  return b
}

function bytesAt(p: Pointer | null, len: number): Uint8Array | undefined {
  if (p === null || len === 0) return p === null ? undefined : new Uint8Array(0)
  return new Uint8Array(toArrayBuffer(p, 0, len)).slice()
}

/** A libnftnl table, chain or rule that owns its native object. */
export class NftObject {
  #p: Pointer | null
  readonly #f: KindFns
  constructor(readonly kind: NftKind) {
    this.#f = fns(kind)
    this.#p = this.#f.alloc() as Pointer | null
    if (this.#p === null) throw new Error(`nftnl_${kind}_alloc failed`)
  }
  get #h(): Pointer {
    if (this.#p === null) throw new Error(`nftnl ${this.kind} already freed`)
    return this.#p
  }
  setStr(attr: number, v: string): this {
    this.#f.setStr(this.#h, attr, cstr(v))
    return this
  }
  setU32(attr: number, v: number): this {
    this.#f.setU32(this.#h, attr, v >>> 0)
    return this
  }
  setU64(attr: number, v: bigint): this {
    this.#f.setU64(this.#h, attr, v)
    return this
  }
  setData(attr: number, v: Uint8Array): this {
    this.#f.setData(this.#h, attr, ptr(v.byteLength ? v : new Uint8Array(1)), v.byteLength)
    return this
  }
  /** A list of strings (a chain's devices): libnftnl copies them from a NULL-terminated array of pointers. */
  setStrings(attr: number, list: readonly string[]): this {
    const bufs = list.map((x) => Buffer.from(`${x}\0`))
    const ptrs = new BigUint64Array(bufs.length + 1)
    bufs.forEach((b, i) => {
      ptrs[i] = BigInt(ptr(b))
    })
    this.#f.setData(this.#h, attr, ptr(ptrs), 0)
    return this
  }
  isSet(attr: number): boolean {
    return this.#f.isSet(this.#h, attr) as boolean
  }
  str(attr: number): string | undefined {
    if (!this.isSet(attr)) return undefined
    const p = this.#f.getStr(this.#h, attr) as Pointer | null
    return p === null ? undefined : new CString(p).toString()
  }
  u32(attr: number): number | undefined {
    return this.isSet(attr) ? (this.#f.getU32(this.#h, attr) as number) : undefined
  }
  u64(attr: number): number | undefined {
    return this.isSet(attr) ? Number(this.#f.getU64(this.#h, attr)) : undefined
  }
  data(attr: number): Uint8Array | undefined {
    if (!this.isSet(attr)) return undefined
    const p = this.#f.getData(this.#h, attr, ptr(lenBuf)) as Pointer | null
    return bytesAt(p, lenBuf[0]!)
  }
  /** Adds an expression (rules only); the rule takes ownership of it. */
  addExpr(e: NftExpr): this {
    lib().nftnl_rule_add_expr(this.#h, e.take())
    return this
  }
  /** The rule's expressions, in order (rules only). Valid while this object lives. */
  exprs(): ExprView[] {
    const L = lib()
    const it = L.nftnl_expr_iter_create(this.#h) as Pointer | null
    if (it === null) return []
    const out: ExprView[] = []
    try {
      for (
        let e = L.nftnl_expr_iter_next(it) as Pointer | null;
        e !== null;
        e = L.nftnl_expr_iter_next(it) as Pointer | null
      )
        out.push(new ExprView(e))
    } finally {
      L.nftnl_expr_iter_destroy(it)
    }
    return out
  }
  /**
   * Adds an element with this key and flags (sets only); libnftnl copies the bytes.
   * Maps give `data` (NFTNL_SET_ELEM_DATA) or a `verdict` code and `chain`.
   */
  addElement(key: Uint8Array, flags = 0, value?: { data?: Uint8Array; verdict?: number; chain?: string }): this {
    const L = lib()
    const e = L.nftnl_set_elem_alloc() as Pointer | null
    if (e === null) throw new Error("nftnl_set_elem_alloc failed")
    L.nftnl_set_elem_set(e, 1 /* NFTNL_SET_ELEM_KEY */, ptr(key), key.byteLength)
    if (flags) L.nftnl_set_elem_set_u32(e, 0 /* NFTNL_SET_ELEM_FLAGS */, flags)
    if (value?.data) L.nftnl_set_elem_set(e, 4 /* NFTNL_SET_ELEM_DATA */, ptr(value.data), value.data.byteLength)
    if (value?.verdict !== undefined) L.nftnl_set_elem_set_u32(e, 2 /* NFTNL_SET_ELEM_VERDICT */, value.verdict >>> 0)
    if (value?.chain !== undefined) {
      const c = cstr(value.chain)
      L.nftnl_set_elem_set(e, 3 /* NFTNL_SET_ELEM_CHAIN */, ptr(c), c.byteLength)
    }
    L.nftnl_set_elem_add(this.#h, e)
    return this
  }
  /** NEWSETELEM/DELSETELEM for the elements added (sets only). */
  buildElements(type: number, family: number, flags: number, scratch: Uint8Array): Uint8Array {
    scratch.fill(0, 0, 64)
    const nlh = lib().nftnl_nlmsg_build_hdr(ptr(scratch), type, family, flags, 0) as Pointer
    lib().nftnl_set_elems_nlmsg_build_payload(nlh, this.#h)
    const len = new DataView(scratch.buffer, scratch.byteOffset).getUint32(0, true)
    return scratch.slice(0, len)
  }
  /** Appends this object as one message (header by libnftnl, payload by libnftnl). */
  build(type: number, family: number, flags: number, scratch: Uint8Array): Uint8Array {
    scratch.fill(0, 0, 64)
    const nlh = lib().nftnl_nlmsg_build_hdr(ptr(scratch), type, family, flags, 0) as Pointer
    this.#f.build(nlh, this.#h)
    const len = new DataView(scratch.buffer, scratch.byteOffset).getUint32(0, true)
    return scratch.slice(0, len)
  }
  /** Fills this object from one received message (nlmsghdr included). */
  parse(message: Uint8Array): boolean {
    return (this.#f.parse(ptr(message), this.#h) as number) >= 0
  }
  free(): void {
    if (this.#p === null) return
    this.#f.free(this.#p)
    this.#p = null
  }
  [Symbol.dispose](): void {
    this.free()
  }
}

/** An expression being built; added to a rule, which then owns it. */
export class NftExpr {
  #p: Pointer | null
  constructor(readonly name: string) {
    this.#p = lib().nftnl_expr_alloc(cstr(name)) as Pointer | null
    if (this.#p === null) throw new Error(`libnftnl has no expression "${name}"`)
  }
  get #h(): Pointer {
    if (this.#p === null) throw new Error("nftnl expression already added")
    return this.#p
  }
  u8(attr: number, v: number): this {
    lib().nftnl_expr_set_u8(this.#h, attr, v)
    return this
  }
  u16(attr: number, v: number): this {
    lib().nftnl_expr_set_u16(this.#h, attr, v & 0xffff)
    return this
  }
  u32(attr: number, v: number): this {
    lib().nftnl_expr_set_u32(this.#h, attr, v >>> 0)
    return this
  }
  u64(attr: number, v: bigint): this {
    lib().nftnl_expr_set_u64(this.#h, attr, v)
    return this
  }
  str(attr: number, v: string): this {
    lib().nftnl_expr_set_str(this.#h, attr, cstr(v))
    return this
  }
  data(attr: number, v: Uint8Array): this {
    lib().nftnl_expr_set(this.#h, attr, ptr(v), v.byteLength)
    return this
  }
  /** Hands the native object over (to nftnl_rule_add_expr). */
  take(): Pointer {
    const p = this.#h
    this.#p = null
    return p
  }
  free(): void {
    if (this.#p !== null) lib().nftnl_expr_free(this.#p)
    this.#p = null
  }
}

/** A parsed rule's expression, read through libnftnl getters. */
export class ExprView {
  readonly #p: Pointer
  constructor(p: Pointer) {
    this.#p = p
  }
  get name(): string {
    const p = lib().nftnl_expr_get_str(this.#p, 0) as Pointer | null
    return p === null ? "" : new CString(p).toString()
  }
  has(attr: number): boolean {
    return lib().nftnl_expr_is_set(this.#p, attr) as boolean
  }
  u8(attr: number): number | undefined {
    return this.has(attr) ? (lib().nftnl_expr_get_u8(this.#p, attr) as number) : undefined
  }
  u16(attr: number): number | undefined {
    return this.has(attr) ? (lib().nftnl_expr_get_u16(this.#p, attr) as number) : undefined
  }
  u32(attr: number): number | undefined {
    return this.has(attr) ? (lib().nftnl_expr_get_u32(this.#p, attr) as number) : undefined
  }
  /** the attribute, or 0 when unset */
  u32or0(attr: number): number {
    return this.u32(attr) ?? 0
  }
  u64(attr: number): number | undefined {
    return this.has(attr) ? Number(lib().nftnl_expr_get_u64(this.#p, attr)) : undefined
  }
  str(attr: number): string | undefined {
    if (!this.has(attr)) return undefined
    const p = lib().nftnl_expr_get_str(this.#p, attr) as Pointer | null
    return p === null ? undefined : new CString(p).toString()
  }
  data(attr: number): Uint8Array | undefined {
    if (!this.has(attr)) return undefined
    const p = lib().nftnl_expr_get(this.#p, attr, ptr(lenBuf)) as Pointer | null
    return bytesAt(p, lenBuf[0]!)
  }
  /** the attribute's bytes as hex, read in place (no copy); "" when unset */
  hex(attr: number): string {
    const p = lib().nftnl_expr_get(this.#p, attr, ptr(lenBuf)) as Pointer | null
    const n = lenBuf[0]!
    if (p === null || n === 0) return ""
    return toHex(new Uint8Array(toArrayBuffer(p, 0, n)))
  }
}
