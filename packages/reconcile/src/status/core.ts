// The status endpoint as an Elysia plugin over one or many named loops (serve.ts runs it
// on its own thread). Elysia and prom-client are optional peer dependencies:
// only this module loads them.
import { timingSafeEqual } from "node:crypto"
import { Elysia } from "elysia"
import { DesiredStateError } from "../desired.ts"
import type { Reconciler } from "../loop.ts"
import { createAnswers } from "./answers.ts"
import { createMetrics } from "./metrics.ts"
import { STATUS_PAGE } from "./page.ts"

// biome-ignore lint: loops of any source
type AnyLoop = Reconciler<any, any>
/** Loops by name: a Map (read at every request, so it may change), a record, or a list (named by loop.name). */
export type LoopSet = Map<string, AnyLoop> | Record<string, AnyLoop> | readonly AnyLoop[]

export interface StatusOptions {
  /** bearer token that enables POST /loops/:name/resync and PUT /loops/:name/desired (404 without it) */
  token?: string
  /** largest accepted request body. Default 1 MiB */
  maxBodyBytes?: number
  /**
   * How long a status, health or metrics answer is reused. Default 250 ms: a flood of
   * readers costs one snapshot per period, never the loops' time.
   */
  snapshotMs?: number
  now?: () => number
  /**
   * Where a loop's desired state comes from when not from PUT (a file, say), or undefined.
   * PUT /loops/:name/desired is refused (409) for such a loop: one place says what is
   * desired, and an edit through the API cannot silently diverge from the file.
   */
  desiredFrom?: (name: string) => string | undefined
}

function toMap(loops: LoopSet): Map<string, AnyLoop> {
  if (loops instanceof Map) return loops
  if (Array.isArray(loops)) return new Map(loops.map((l) => [l.name, l]))
  return new Map(Object.entries(loops as Record<string, AnyLoop>))
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })

/** The status endpoint as an Elysia plugin: mount it in your app, or use serveStatus(). */
export function statusPlugin(loops: LoopSet, options: StatusOptions = {}) {
  return statusCore(loops, options).app
}

/** The plugin and its read answers (serveStatus hands these to its server thread). */
export function statusCore(loops: LoopSet, options: StatusOptions = {}) {
  const current = () => toMap(loops)
  const maxBody = options.maxBodyBytes ?? 1 << 20
  const metrics = createMetrics(current)
  const watched = new WeakMap<AnyLoop, () => void>()
  const sync = () => {
    for (const [name, loop] of current()) if (!watched.has(loop)) watched.set(loop, metrics.watch(name, loop))
  }
  sync()
  const answers = createAnswers(current, options, metrics)
  const raw = (body: string, status = 200) =>
    new Response(body, { status, headers: { "content-type": "application/json" } })

  const authorize = (request: Request): Response | undefined => {
    if (!options.token) return json({ error: "not found" }, 404)
    const h = request.headers.get("authorization") ?? ""
    const m = /^Bearer (.+)$/.exec(h)
    if (!m || !sameToken(m[1]!, options.token)) return json({ error: "a valid bearer token is required" }, 401)
    return undefined
  }

  const app = new Elysia({ name: "linx-status" })
    .onRequest(() => sync())
    .get("/", () => new Response(STATUS_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }))
    .get("/status", () => raw(answers.status()))
    .get("/status/:name", ({ params }) => {
      const body = answers.loops().get(params.name)
      return body ? raw(body) : json({ error: `no loop named "${params.name}"` }, 404)
    })
    .get("/healthz", () => {
      const h = answers.health()
      return raw(h.body, h.status)
    })
    .get("/readyz", () => {
      const r = answers.ready()
      return raw(r.body, r.status)
    })
    .get(
      "/metrics",
      async () => new Response(await answers.metrics(), { headers: { "content-type": metrics.registry.contentType } }),
    )
    .post("/loops/:name/resync", ({ params, request }) => {
      const denied = authorize(request)
      if (denied) return denied
      const l = current().get(params.name)
      if (!l) return json({ error: `no loop named "${params.name}"` }, 404)
      l.resync()
      return json({ ok: true }, 202)
    })
    .put(
      "/loops/:name/desired",
      async ({ params, request }) => {
        const denied = authorize(request)
        if (denied) return denied
        const l = current().get(params.name)
        if (!l) return json({ error: `no loop named "${params.name}"` }, 404)
        const from = options.desiredFrom?.(params.name)
        if (from !== undefined)
          return json({ error: `loop "${params.name}" takes its desired state from ${from}: change it there` }, 409)
        const length = Number(request.headers.get("content-length") ?? "0")
        if (length > maxBody) return json({ error: `body larger than ${maxBody} bytes` }, 413)
        const text = await request.text()
        if (text.length > maxBody) return json({ error: `body larger than ${maxBody} bytes` }, 413)
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch (e) {
          return json({ error: `body is not JSON: ${(e as Error).message}` }, 400)
        }
        try {
          const pass = await l.setDesired(body)
          return json({ ok: true, pass })
        } catch (e) {
          if (e instanceof DesiredStateError)
            return json({ error: "invalid desired state; the previous one stays in force", issues: e.issues }, 422)
          return json({ error: (e as Error).message }, 409)
        }
      },
      { parse: "none" },
    )
  return { app, answers, sync }
}

export interface ServeOptions extends StatusOptions {
  /** Default 127.0.0.1 */
  hostname?: string
  /** Default 9477; 0 picks a free port */
  port?: number
}
