// What other packages' ffi/ directories may use: the lazy loader with its
// "install this Debian package" error. (Sockets and namespaces stay behind the
// package's main entry.)
export { lazyLibrary, LibraryError } from "./library.ts"
