// Watching a workload's process exit, event-driven: pidfd_open(2) per pid, one thread per
// process polling them all (ffi/poll-worker.ts). The thread runs only while something is
// watched, so it never keeps a process alive.
import { closeFd, pidfdOpen, poke, wakeFd } from "../ffi/libc.ts"
import { workerUrl } from "../worker-url.ts"

class ExitWatcher {
  #worker: Worker | undefined
  #wake = -1
  #nextId = 1
  /** watch id → its pidfd and what to call; a descriptor is closed only once the thread let go of it */
  readonly #watching = new Map<number, { fd: number; onExit: () => void }>()

  watch(pid: number, onExit: () => void): Disposable {
    const fd = pidfdOpen(pid)
    if (fd === undefined) {
      queueMicrotask(onExit)
      return { [Symbol.dispose]() {} }
    }
    const id = this.#nextId++
    this.#watching.set(id, { fd, onExit })
    const w = this.#start()
    w.postMessage({ add: [id, fd] })
    this.#poke()
    return {
      [Symbol.dispose]: () => {
        const entry = this.#watching.get(id)
        if (!entry) return
        this.#watching.delete(id)
        if (this.#worker === w) {
          w.postMessage({ remove: id }) // closed when the thread acknowledges
          this.#poke()
        }
        if (!this.#watching.size) this.#stop()
      },
    }
  }

  #start(): Worker {
    if (this.#worker) return this.#worker
    this.#wake = wakeFd()
    const w = new Worker(workerUrl(import.meta.url, "../ffi/poll-worker", "ffi/poll-worker"))
    const fds = new Map<number, number>() // this thread's descriptors, by watch id
    const wake = this.#wake
    w.onmessage = (e: MessageEvent<{ exited?: number; removed?: number; stopped?: number[] }>) => {
      const m = e.data
      const release = (id: number) => {
        const fd = fds.get(id)
        if (fd !== undefined) closeFd(fd)
        fds.delete(id)
      }
      if (m.removed !== undefined) release(m.removed)
      if (m.exited !== undefined) {
        release(m.exited)
        const entry = this.#watching.get(m.exited)
        if (entry) {
          this.#watching.delete(m.exited)
          if (!this.#watching.size) this.#stop()
          entry.onExit()
        }
      }
      if (m.stopped) {
        for (const id of [...fds.keys()]) release(id)
        w.terminate()
        closeFd(wake)
      }
    }
    const post = w.postMessage.bind(w)
    w.postMessage = ((m: { add?: [number, number] }) => {
      if (m.add) fds.set(m.add[0], m.add[1])
      post(m)
    }) as typeof w.postMessage
    w.postMessage({ wake: this.#wake })
    this.#worker = w
    return w
  }

  /** Wakes the thread from poll() so that it picks up a changed set. */
  #poke(): void {
    if (this.#wake < 0) return
    poke(this.#wake)
  }

  #stop(): void {
    const w = this.#worker
    if (!w) return
    // the thread leaves poll() at once (woken), closes nothing itself, and says so;
    // its descriptors are closed here on that message, then it is terminated
    w.postMessage({ stop: true })
    this.#poke()
    this.#worker = undefined
    this.#wake = -1
  }
}

/** One per process on purpose: one thread waits for every workload of every loop. */
const watcher = new ExitWatcher()

/** Calls `onExit` once when process `pid` exits (at once, asynchronously, if it is not running). */
export function watchProcessExit(pid: number, onExit: () => void): Disposable {
  return watcher.watch(pid, onExit)
}
