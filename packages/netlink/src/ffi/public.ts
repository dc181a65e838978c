// What other packages' ffi/ directories may use: the lazy loader with its
// "install this Debian package" error, errno of the calling thread, an int socket
// option. (Sockets and namespaces stay behind the package's main entry.)
export { lazyLibrary, LibraryError } from "./library.ts"
export { getSocketOptionInt, lastErrno } from "./libc.ts"
