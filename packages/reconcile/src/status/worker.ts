// The status server's own thread: it accepts and answers HTTP so that a flood of readers
// costs the loops' thread nothing but one snapshot per period. Reads (/status,
// /status/:name, /healthz, /readyz, /metrics, the page) are answered from the last
// snapshot, asked of the loops' thread at most once per `snapshotMs`; writes and anything
// else are handed to the loops' thread (the Elysia plugin) and their answer relayed.
import { STATUS_PAGE } from "./page.ts"
import type { FromServer, Snapshot, ToServer } from "./protocol.ts"

declare const self: Worker

const post = (m: FromServer) => self.postMessage(m)
const JSON_TYPE = { "content-type": "application/json" }

let server: ReturnType<typeof Bun.serve> | undefined
let snapshotMs = 250
let snap: Snapshot | undefined
let snapAt = Number.NEGATIVE_INFINITY
let asking: Promise<Snapshot> | undefined
let resolveAsk: ((s: Snapshot) => void) | undefined
let nextId = 1
const waiting = new Map<number, (r: Response) => void>()

function fresh(): Promise<Snapshot> | Snapshot {
  if (snap && performance.now() - snapAt < snapshotMs) return snap
  asking ??= new Promise<Snapshot>((resolve) => {
    resolveAsk = resolve
    post({ t: "snapshot?" })
  })
  return asking
}

async function read(path: string): Promise<Response | undefined> {
  if (path === "/") return new Response(STATUS_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } })
  if (!["/status", "/healthz", "/readyz", "/metrics"].includes(path) && !path.startsWith("/status/")) return undefined
  const s = await fresh()
  if (path === "/status") return new Response(s.status, { headers: JSON_TYPE })
  if (path === "/healthz") return new Response(s.health.body, { status: s.health.status, headers: JSON_TYPE })
  if (path === "/readyz") return new Response(s.ready.body, { status: s.ready.status, headers: JSON_TYPE })
  if (path === "/metrics") return new Response(s.metrics, { headers: { "content-type": s.metricsType } })
  const name = decodeURIComponent(path.slice("/status/".length))
  const body = s.loops[name]
  return body === undefined
    ? new Response(JSON.stringify({ error: `no loop named "${name}"` }), { status: 404, headers: JSON_TYPE })
    : new Response(body, { headers: JSON_TYPE })
}

async function relay(req: Request): Promise<Response> {
  const id = nextId++
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.text()
  return new Promise<Response>((resolve) => {
    waiting.set(id, resolve)
    post({ t: "request", id, method: req.method, url: req.url, headers: [...req.headers], body })
  })
}

self.onmessage = (e: MessageEvent<ToServer>) => {
  const m = e.data
  switch (m.t) {
    case "start":
      snapshotMs = m.snapshotMs
      try {
        server = Bun.serve({
          hostname: m.hostname,
          port: m.port,
          maxRequestBodySize: m.maxBodyBytes + 1024,
          fetch: async (req) =>
            (req.method === "GET" ? await read(new URL(req.url).pathname) : undefined) ?? relay(req),
        })
        post({ t: "listening", url: `http://${server.hostname}:${server.port}/` })
      } catch (err) {
        post({ t: "failed", error: err instanceof Error ? err.message : String(err) })
      }
      return
    case "snapshot":
      snap = m.snapshot
      snapAt = performance.now()
      asking = undefined
      resolveAsk?.(m.snapshot)
      resolveAsk = undefined
      return
    case "answer":
      waiting.get(m.id)?.(new Response(m.body, { status: m.status, headers: m.headers }))
      waiting.delete(m.id)
      return
    case "stop":
      void server?.stop(true).then(() => post({ t: "stopped" }))
      if (!server) post({ t: "stopped" })
      return
  }
}
