// The only door to bun:ffi in this package. Only numbers, Uint8Arrays and handles
// that own their cleanup cross it.
export { LibraryError } from "./library.ts"
export {
  SyscallError,
  setns,
  unshare,
  setSocketOptionInt,
  setSocketOptionBytes,
  getSocketOptionInt,
  closeFd,
  createTunDevice,
} from "./libc.ts"
export { MnlSocket } from "./libmnl.ts"
