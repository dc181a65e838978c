// The status endpoint on fake loops: app.handle(new Request(...)), no port needed.
import { describe, expect, test } from "bun:test"
import { createReconciler } from "../loop.ts"
import { FakeClock } from "../testing/clock.ts"
import { FakeSource } from "../testing/source.ts"
import { statusPlugin, serveStatus } from "./index.ts"

async function loops() {
  const clock = new FakeClock(Date.now())
  const a = new FakeSource()
  const b = new FakeSource()
  a.echo = b.echo = false
  b.foreign.add("theirs")
  const la = createReconciler({
    source: a,
    desired: { "own/x": "1" },
    ownership: { prefix: "own/" },
    clock,
    name: "a",
    resyncMs: 10_000,
  })
  const lb = createReconciler({
    source: b,
    desired: { theirs: "2" },
    ownership: { prefix: "own/" },
    clock,
    name: "b",
    resyncMs: 10_000,
  })
  return { clock, a, b, la, lb }
}

const get = (app: { handle(r: Request): Promise<Response> }, path: string, init?: RequestInit) =>
  app.handle(new Request(`http://localhost${path}`, init))

describe("status endpoint", () => {
  test("/status, /status/:name, /readyz before and after the first pass", async () => {
    const { la, lb } = await loops()
    // snapshotMs 0: every answer fresh (the fake clock moves faster than real time)
    const app = statusPlugin([la, lb], { snapshotMs: 0 })
    expect((await get(app, "/readyz")).status).toBe(503)
    await la.start()
    await lb.start()
    expect(await (await get(app, "/readyz")).json()).toEqual({ ready: true })
    const all = (await (await get(app, "/status")).json()) as { loops: Record<string, { converged: boolean }> }
    expect(Object.keys(all.loops)).toEqual(["a", "b"])
    expect(all.loops.a?.converged).toBe(true)
    expect(((await (await get(app, "/status/a")).json()) as { counters: { passes: number } }).counters.passes).toBe(1)
    expect((await get(app, "/status/nope")).status).toBe(404)
  })

  test("/healthz is 503 with reasons for a loop that never converged, 200 within two resyncs of a success", async () => {
    const { la, lb, clock, a } = await loops()
    await la.start()
    await lb.start() // b has a conflict: never converged, never... it succeeded (no error), so it is healthy for 2 resyncs
    const app = statusPlugin({ a: la, b: lb }, { now: () => clock.now(), snapshotMs: 0 })
    expect((await get(app, "/healthz")).status).toBe(200)
    a.failures = Array.from({ length: 50 }, () => new Error("kernel said no"))
    a.drift("own/x", "0")
    await clock.advance(25_000)
    const r = await get(app, "/healthz")
    expect(r.status).toBe(503)
    const body = (await r.json()) as { reasons: string[] }
    expect(body.reasons.some((x) => x.startsWith("a: last success") && x.includes("kernel said no"))).toBe(true)
    // b has a conflict but its passes succeed: healthy (health is staleness, not perfection)
    expect(body.reasons.some((x) => x.startsWith("b:"))).toBe(false)
  })

  test("/metrics has linx_ names labelled by loop", async () => {
    const { la, lb } = await loops()
    const app = statusPlugin([la, lb])
    await la.start()
    await lb.start()
    const text = await (await get(app, "/metrics")).text()
    expect(text).toContain('linx_passes_total{loop="a",trigger="start",result="all"} 1')
    expect(text).toContain('linx_ops_applied_total{loop="a"} 1')
    expect(text).toContain('linx_converged{loop="a"} 1')
    expect(text).toContain('linx_converged{loop="b"} 0')
    expect(text).toContain('linx_conflicts_total{loop="b"} 1')
    expect(text).toMatch(/linx_last_success_timestamp_seconds\{loop="a"\} \d+/)
    expect(text).toContain('linx_pass_duration_seconds_count{loop="a",trigger="start"} 1')
  })

  test("writes exist only with a token: 404 without, 401 with a wrong one", async () => {
    const { la } = await loops()
    await la.start()
    expect((await get(statusPlugin([la]), "/loops/a/resync", { method: "POST" })).status).toBe(404)
    const app = statusPlugin([la], { token: "s3cret", maxBodyBytes: 64 })
    expect((await get(app, "/loops/a/resync", { method: "POST" })).status).toBe(401)
    expect(
      (await get(app, "/loops/a/resync", { method: "POST", headers: { authorization: "Bearer nope" } })).status,
    ).toBe(401)
    expect(
      (await get(app, "/loops/a/resync", { method: "POST", headers: { authorization: "Bearer s3cret" } })).status,
    ).toBe(202)
    const put = (body: string) =>
      get(app, "/loops/a/desired", {
        method: "PUT",
        headers: { authorization: "Bearer s3cret", "content-type": "application/json" },
        body,
      })
    const bad = await put(JSON.stringify({ "own/x": 5 }))
    expect(bad.status).toBe(422)
    expect(await bad.json()).toEqual({
      error: "invalid desired state; the previous one stays in force",
      issues: ["own/x: expected a string, got number"],
    })
    expect((await put("x".repeat(100))).status).toBe(413)
    expect((await put("{not json")).status).toBe(400)
    const ok = await put(JSON.stringify({ "own/x": "2" }))
    expect(ok.status).toBe(200)
    expect(la.desired()).toEqual({ "own/x": "2" })
    // a loop whose desired state comes from elsewhere (linx run: its file) refuses PUT, and keeps its state
    const fromFile = statusPlugin([la], {
      token: "s3cret",
      desiredFrom: (n) => (n === "a" ? "the file a.yaml" : undefined),
    })
    const refused = await get(fromFile, "/loops/a/desired", {
      method: "PUT",
      headers: { authorization: "Bearer s3cret" },
      body: JSON.stringify({ "own/x": "3" }),
    })
    expect(refused.status).toBe(409)
    expect(((await refused.json()) as { error: string }).error).toBe(
      'loop "a" takes its desired state from the file a.yaml: change it there',
    )
    expect(la.desired()).toEqual({ "own/x": "2" })
  })

  test("GET / is a page; serveStatus binds 127.0.0.1", async () => {
    const { la } = await loops()
    await la.start()
    const page = await get(statusPlugin([la]), "/")
    expect(page.headers.get("content-type")).toContain("text/html")
    expect(await page.text()).toContain("heal latency")
    const s = serveStatus([la], { port: 0 })
    try {
      await s.listening
      expect(s.url).toStartWith("http://127.0.0.1:")
      expect((await fetch(`${s.url}readyz`)).status).toBe(200)
    } finally {
      await s.stop()
    }
  })

  test("serveStatus answers from its own thread: reads from snapshots, writes relayed to the loops", async () => {
    const { la } = await loops()
    await la.start()
    const s = serveStatus([la], { port: 0, token: "s3cret", snapshotMs: 0 })
    try {
      await s.listening
      const st = (await (await fetch(`${s.url}status/a`)).json()) as { name: string; converged: boolean }
      expect([st.name, st.converged]).toEqual(["a", true])
      expect((await fetch(`${s.url}status/nope`)).status).toBe(404)
      expect(await (await fetch(`${s.url}metrics`)).text()).toContain('linx_converged{loop="a"} 1')
      expect(await (await fetch(s.url)).text()).toContain("heal latency")
      // a write goes to the loops' thread and its answer comes back whole
      const put = await fetch(`${s.url}loops/a/desired`, {
        method: "PUT",
        headers: { authorization: "Bearer s3cret" },
        body: JSON.stringify({ "own/x": "3" }),
      })
      expect(put.status).toBe(200)
      expect(la.desired()).toEqual({ "own/x": "3" })
      expect((await fetch(`${s.url}loops/a/resync`, { method: "POST" })).status).toBe(401)
      // a port in use is an error the caller can catch
      const again = serveStatus([la], { port: Number(new URL(s.url).port) })
      await expect(again.listening).rejects.toThrow()
    } finally {
      await s.stop()
    }
  })

  test("a flood of readers costs one snapshot per period, not one per request", async () => {
    const { la, lb } = await loops()
    await la.start()
    await lb.start()
    let calls = 0
    const status = la.status.bind(la)
    la.status = () => {
      calls++
      return status()
    }
    const app = statusPlugin([la, lb], { snapshotMs: 60_000 })
    const paths = ["/status", "/status/a", "/healthz", "/readyz", "/metrics"]
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => get(app, paths[i % paths.length]!)))
    expect(answers.every((r) => r.status === 200)).toBe(true)
    // /status, /status/:name, /healthz, /readyz and /metrics (its gauges and counters) each take a few looks
    expect(calls).toBeLessThan(40)
    const body = (await (await get(app, "/status")).json()) as { loops: Record<string, { converged: boolean }> }
    expect(body.loops.a?.converged).toBe(true)
  })
})
