// serveStatus(): the status endpoint on its own thread (worker.ts), so that serving it
// never takes the loops' time: a flood of readers costs one snapshot per period here.
// The thread is made while the caller's thread is where it is: it listens in the
// caller's network namespace.
import { type LoopSet, type ServeOptions, statusCore } from "./core.ts"
import type { FromServer, Snapshot, ToServer } from "./protocol.ts"
import { workerUrl } from "../worker-url.ts"

export interface StatusServer {
  /** where it listens (with port 0, known once `listening` resolved) */
  url: string
  /** resolves with the URL once it listens; rejects when it cannot (address in use…) */
  listening: Promise<string>
  stop(): Promise<void>
}

export function serveStatus(loops: LoopSet, options: ServeOptions = {}): StatusServer {
  // the server thread keeps each snapshot for snapshotMs: here every answer is made fresh
  const { app, answers, sync } = statusCore(loops, { ...options, snapshotMs: 0 })
  const hostname = options.hostname ?? "127.0.0.1"
  const port = options.port ?? 9477
  const worker = new Worker(workerUrl(import.meta.url, "./worker", "status/worker"))
  const send = (m: ToServer) => worker.postMessage(m)
  let stopped: (() => void) | undefined
  const s: StatusServer = {
    url: `http://${hostname}:${port}/`,
    listening: new Promise<string>((resolve, reject) => {
      worker.onmessage = async (e: MessageEvent<FromServer>) => {
        const m = e.data
        if (m.t === "listening") {
          s.url = m.url
          resolve(m.url)
        } else if (m.t === "failed") reject(new Error(m.error))
        else if (m.t === "snapshot?") send({ t: "snapshot", snapshot: await snapshotOf(answers, sync) })
        else if (m.t === "request") {
          const init: RequestInit = { method: m.method, headers: m.headers }
          if (m.body !== undefined) init.body = m.body
          const r = await app.handle(new Request(m.url, init))
          send({ t: "answer", id: m.id, status: r.status, headers: [...r.headers], body: await r.text() })
        } else if (m.t === "stopped") stopped?.()
      }
    }),
    async stop() {
      const done = new Promise<void>((r) => (stopped = r))
      send({ t: "stop" })
      await Promise.race([done, Bun.sleep(2000)])
      worker.terminate()
    },
  }
  s.listening.catch(() => worker.terminate())
  send({
    t: "start",
    hostname,
    port,
    maxBodyBytes: options.maxBodyBytes ?? 1 << 20,
    snapshotMs: options.snapshotMs ?? 250,
  })
  return s
}

async function snapshotOf(answers: ReturnType<typeof statusCore>["answers"], sync: () => void): Promise<Snapshot> {
  sync()
  return {
    status: answers.status(),
    loops: Object.fromEntries(answers.loops()),
    health: answers.health(),
    ready: answers.ready(),
    metrics: await answers.metrics(),
    metricsType: answers.metricsType,
  }
}
