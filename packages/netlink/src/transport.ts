// The seam between the request logic and the kernel. The real transport is a libmnl
// socket; tests use the recording and replaying transports in ./testing.

export interface Transport {
  /** the socket's netlink port id (nl_pid) */
  readonly portId: number
  /** the file descriptor, or -1 for a fake */
  readonly fd: number
  /** sends one datagram; throws an error with `errno` on failure */
  send(data: Uint8Array): void
  /** receives one datagram into `buffer`, returns its length; throws with `errno` (ENOSPC = truncated) */
  receive(buffer: Uint8Array): number
  close(): void
}
