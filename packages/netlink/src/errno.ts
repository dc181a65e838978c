// Linux errno numbers and names (asm-generic/errno-base.h, asm-generic/errno.h).

const NAMES: Record<number, [code: string, text: string]> = {
  1: ["EPERM", "Operation not permitted"],
  2: ["ENOENT", "No such file or directory"],
  3: ["ESRCH", "No such process"],
  4: ["EINTR", "Interrupted system call"],
  5: ["EIO", "Input/output error"],
  6: ["ENXIO", "No such device or address"],
  7: ["E2BIG", "Argument list too long"],
  9: ["EBADF", "Bad file descriptor"],
  11: ["EAGAIN", "Resource temporarily unavailable"],
  12: ["ENOMEM", "Cannot allocate memory"],
  13: ["EACCES", "Permission denied"],
  14: ["EFAULT", "Bad address"],
  16: ["EBUSY", "Device or resource busy"],
  17: ["EEXIST", "File exists"],
  18: ["EXDEV", "Invalid cross-device link"],
  19: ["ENODEV", "No such device"],
  20: ["ENOTDIR", "Not a directory"],
  21: ["EISDIR", "Is a directory"],
  22: ["EINVAL", "Invalid argument"],
  23: ["ENFILE", "Too many open files in system"],
  24: ["EMFILE", "Too many open files"],
  28: ["ENOSPC", "No space left on device"],
  30: ["EROFS", "Read-only file system"],
  31: ["EMLINK", "Too many links"],
  34: ["ERANGE", "Numerical result out of range"],
  36: ["ENAMETOOLONG", "File name too long"],
  38: ["ENOSYS", "Function not implemented"],
  39: ["ENOTEMPTY", "Directory not empty"],
  40: ["ELOOP", "Too many levels of symbolic links"],
  42: ["ENOMSG", "No message of desired type"],
  61: ["ENODATA", "No data available"],
  71: ["EPROTO", "Protocol error"],
  74: ["EBADMSG", "Bad message"],
  75: ["EOVERFLOW", "Value too large for defined data type"],
  85: ["ERESTART", "Interrupted system call should be restarted"],
  88: ["ENOTSOCK", "Socket operation on non-socket"],
  90: ["EMSGSIZE", "Message too long"],
  92: ["ENOPROTOOPT", "Protocol not available"],
  93: ["EPROTONOSUPPORT", "Protocol not supported"],
  95: ["EOPNOTSUPP", "Operation not supported"],
  97: ["EAFNOSUPPORT", "Address family not supported by protocol"],
  98: ["EADDRINUSE", "Address already in use"],
  99: ["EADDRNOTAVAIL", "Cannot assign requested address"],
  100: ["ENETDOWN", "Network is down"],
  101: ["ENETUNREACH", "Network is unreachable"],
  104: ["ECONNRESET", "Connection reset by peer"],
  105: ["ENOBUFS", "No buffer space available"],
  110: ["ETIMEDOUT", "Connection timed out"],
  111: ["ECONNREFUSED", "Connection refused"],
  113: ["EHOSTUNREACH", "No route to host"],
  114: ["EALREADY", "Operation already in progress"],
  115: ["EINPROGRESS", "Operation now in progress"],
}

/** "EEXIST" for 17; "E123" for numbers without a name here. */
export function errnoCode(errno: number): string {
  return NAMES[errno]?.[0] ?? `E${errno}`
}

/** strerror(3)-like text. */
export function errnoText(errno: number): string {
  return NAMES[errno]?.[1] ?? `errno ${errno}`
}

export const EPERM = 1
export const ENOENT = 2
export const ESRCH = 3
export const EINTR = 4
export const EAGAIN = 11
export const EACCES = 13
export const EBUSY = 16
export const EEXIST = 17
export const ENODEV = 19
export const EINVAL = 22
export const ENOSPC = 28
export const EROFS = 30
export const ERESTART = 85
export const EMSGSIZE = 90
export const EOPNOTSUPP = 95
export const EADDRNOTAVAIL = 99
export const ENETDOWN = 100
export const ENETUNREACH = 101
export const ENOBUFS = 105
