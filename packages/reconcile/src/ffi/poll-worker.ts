// The thread that waits for workloads to exit: it blocks in poll(2) on their pidfds
// (readable when the process exits) and an eventfd the loops' thread writes to when the
// set changes. Each exit is posted at once (measured ~1 ms after kill -9, PLATFORM 18);
// the loops' thread is never blocked. A 1 s poll timeout bounds how long a stop waits.
import { dlopen, FFIType, ptr } from "bun:ffi"

declare const self: Worker

const libc = dlopen("libc.so.6", {
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
}).symbols

const POLLIN = 1
let wake = -1
let running = true
/** watch id → pidfd; ids, not descriptors, name a watch (a closed descriptor's number is reused) */
const pidfds = new Map<number, number>()

self.onmessage = (e: MessageEvent<{ wake?: number; add?: [number, number]; remove?: number; stop?: true }>) => {
  const m = e.data
  if (m.add) pidfds.set(m.add[0], m.add[1])
  if (m.remove !== undefined) {
    // acknowledged: the loops' thread closes the descriptor only once it is out of poll()
    pidfds.delete(m.remove)
    self.postMessage({ removed: m.remove })
  }
  if (m.stop) running = false
  if (m.wake !== undefined && wake < 0) {
    wake = m.wake
    void run()
  }
}

async function run(): Promise<void> {
  const scratch = new Uint8Array(8)
  while (running) {
    const ids = [...pidfds.keys()]
    const list = [wake, ...ids.map((id) => pidfds.get(id)!)]
    const fds = new Uint8Array(list.length * 8) // struct pollfd { int fd; short events; short revents; }
    const v = new DataView(fds.buffer)
    list.forEach((fd, i) => {
      v.setInt32(i * 8, fd, true)
      v.setInt16(i * 8 + 4, POLLIN, true)
    })
    const ready = libc.poll(ptr(fds), list.length, 1000)
    for (let i = 0; ready > 0 && i < list.length; i++) {
      if (v.getInt16(i * 8 + 6, true) === 0) continue
      if (i === 0) libc.read(wake, ptr(scratch), 8)
      else {
        const id = ids[i - 1]!
        if (!pidfds.delete(id)) continue
        self.postMessage({ exited: id })
      }
    }
    // let the loops' thread's messages in (new pidfds, removals, stop)
    await new Promise((r) => setTimeout(r, 0))
  }
  self.postMessage({ stopped: [...pidfds.keys()] })
}
