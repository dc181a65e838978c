// The loop's semantics on a fake source and a fake clock (DESIGN §7). No root needed.
import { describe, expect, test } from "bun:test"
import { backoffDelay, resyncDelay } from "./backoff.ts"
import { DesiredStateError } from "./desired.ts"
import { createReconciler } from "./loop.ts"
import type { PassResult } from "./result.ts"
import { MAX_SCOPE_ENTRIES } from "./schedule.ts"
import { FakeClock } from "./testing/clock.ts"
import { FakeSource } from "./testing/source.ts"

function setup(
  opts: {
    desired?: Record<string, string>
    resyncMs?: number
    random?: () => number
    contest?: { threshold?: number; windowMs?: number; minIntervalMs?: number }
  } = {},
) {
  const clock = new FakeClock()
  const source = new FakeSource()
  source.echo = false // exact pass counts below; the contest tests turn echoes on
  const passes: PassResult[] = []
  const loop = createReconciler({
    source,
    desired: opts.desired ?? { "own/a": "1", "own/b": "2" },
    ownership: { prefix: "own/" },
    resyncMs: opts.resyncMs ?? 10_000,
    clock,
    random: opts.random ?? (() => 0.5),
    ...(opts.contest ? { contest: opts.contest } : {}),
  })
  loop.on("pass", (r) => passes.push(r))
  return { clock, source, loop, passes }
}

/** Resolves the next time the gate is opened. */
function gate(source: FakeSource): () => void {
  let open!: () => void
  source.gate = new Promise((r) => (open = r))
  return () => {
    source.gate = undefined
    open()
  }
}

describe("reconcile loop", () => {
  test("status keeps a big pass's lists short (200 entries, then a count); listeners get them whole", async () => {
    const desired = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`own/k${i}`, "1"]))
    const { loop, passes } = setup({ desired })
    await loop.start()
    expect(passes[0]!.applied.length).toBe(500)
    const kept = loop.status().lastPass!
    expect(kept.applied.length).toBe(201)
    expect(kept.applied.at(-1)).toBe("… and 300 more")
    expect(kept.ops.length).toBe(201)
    expect(loop.status().recentPasses[0]!.applied.length).toBe(201)
    expect(loop.status().counters.opsApplied).toBe(500)
    await loop.stop()
  })

  test("the loop keeps a big first pass trimmed: start()'s caller gets it whole, a later start() the kept one", async () => {
    const desired = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`own/k${i}`, "1"]))
    const { loop } = setup({ desired })
    const first = await loop.start()
    expect(first.applied.length).toBe(500)
    expect(first.ops.length).toBe(500)
    const again = await loop.start()
    expect(again.seq).toBe(first.seq)
    expect(again.applied.length).toBe(201)
    expect(again.ops.at(-1)).toBe("… and 300 more")
    await loop.stop()
  })

  test("a pending scope past MAX_SCOPE_ENTRIES becomes one full look; under it, a scoped one", async () => {
    const { source, loop, clock, passes } = setup()
    await loop.start()
    const release = gate(source)
    source.drift("own/a", "x") // a pass starts and blocks in observe
    await clock.settle()
    for (let i = 0; i <= MAX_SCOPE_ENTRIES; i++) source.hint({ scope: [{ kind: "key", key: `k${i}` }] })
    release()
    await clock.advance(1)
    expect(passes.at(-1)?.trigger).toBe("hint")
    expect(source.scopes.at(-1)).toBeUndefined() // a full look
    expect(loop.status().counters.hints).toBe(MAX_SCOPE_ENTRIES + 2)
    const release2 = gate(source)
    source.drift("own/a", "y")
    await clock.settle()
    for (let i = 0; i < MAX_SCOPE_ENTRIES - 1; i++) source.hint({ scope: [{ kind: "key", key: `k${i}` }] })
    release2()
    await clock.advance(1)
    expect(source.scopes.at(-1)?.length).toBe(MAX_SCOPE_ENTRIES - 1)
    await loop.stop()
  })

  test("each op is described once; applied ops reported out of order still get their own text", async () => {
    const desired = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`own/k${i}`, "1"]))
    const { source, loop } = setup({ desired })
    let describes = 0
    const describe = source.describe.bind(source)
    source.describe = (op) => {
      describes++
      return describe(op)
    }
    const first = await loop.start()
    expect(describes).toBe(50)
    expect(first.applied).toEqual(first.ops)
    const reconcile = source.reconcile.bind(source)
    source.reconcile = async (ops, observed) => {
      const r = await reconcile(ops, observed)
      return { ...r, applied: [...r.applied].reverse() }
    }
    const next = await loop.setDesired(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`own/k${i}`, "2"])))
    expect(next.applied).toEqual([...next.ops].reverse())
    await loop.stop()
  })

  test("start subscribes before the first observe, then converges", async () => {
    const { source, loop } = setup()
    let subscribedAtFirstObserve: boolean | undefined
    const observe = source.observe.bind(source)
    source.observe = async (s) => {
      subscribedAtFirstObserve ??= source.subscribed
      return observe(s)
    }
    const r = await loop.start()
    expect(subscribedAtFirstObserve).toBe(true)
    expect(r.trigger).toBe("start")
    expect(r.applied).toEqual(["set own/a=1", "set own/b=2"])
    expect(r.converged).toBe(true)
    expect(loop.status()).toMatchObject({ state: "running", converged: true, ready: true })
    await loop.stop()
  })

  test("hints during a pass cause exactly one follow-up pass, with merged scopes", async () => {
    const { source, loop, clock, passes } = setup()
    await loop.start()
    const release = gate(source)
    source.drift("own/a", "x") // pass 2 starts and blocks in observe
    await clock.settle()
    for (let i = 0; i < 50; i++) source.hint({ scope: [{ kind: "key", key: `k${i % 3}` }] })
    source.hint({ scope: [{ kind: "other" }] })
    release()
    await clock.advance(1)
    expect(passes.length).toBe(3)
    expect(passes[1]?.applied).toEqual(["set own/a=1"])
    expect(passes[2]?.trigger).toBe("hint")
    // concatenated in arrival order: every event is kept, the latest last
    const merged = source.scopes[2]!
    expect(merged.length).toBe(51)
    expect(merged.slice(0, 4).map((e) => e.key)).toEqual(["k0", "k1", "k2", "k0"])
    expect(merged.at(-1)).toEqual({ kind: "other" })
    expect(passes[2]?.scope).toEqual(["key k0", "key k1", "key k2", "other"])
    expect(loop.status().counters.hints).toBe(52)
    await loop.stop()
  })

  test("a hint with no scope, or an overrun, makes the next pass full and is counted", async () => {
    const { source, loop, clock, passes } = setup()
    await loop.start()
    source.hint({ overrun: true })
    await clock.advance(1)
    expect(passes.at(-1)?.trigger).toBe("overrun")
    expect(source.scopes.at(-1)).toBeUndefined()
    expect(loop.status().counters.overruns).toBe(1)
    await loop.stop()
  })

  test("resync runs every resyncMs ±10% even under a continuous hint storm", async () => {
    const { source, loop, clock, passes } = setup({ resyncMs: 1000, random: () => 1 })
    await loop.start()
    // a hint every 10 ms for 5 s
    for (let t = 0; t < 5000; t += 10) {
      source.hint({ scope: [{ kind: "key", key: "noise" }] })
      await clock.advance(10)
    }
    const timers = passes.filter((p) => p.trigger === "timer")
    expect(timers.length).toBeGreaterThanOrEqual(4) // 1100 ms apart with random() = 1
    expect(loop.status().counters.passesByTrigger.hint).toBeGreaterThan(100)
    await loop.stop()
  })

  test("resync jitter stays within ±10%", () => {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const d = resyncDelay(30_000, 0.1, () => r)
      expect(d).toBeGreaterThanOrEqual(27_000)
      expect(d).toBeLessThanOrEqual(33_000)
    }
  })

  test("backoff grows exponentially with full jitter, capped at resync, and resets on success", async () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffDelay(n, 100, 1000, () => 0.999))).toEqual([99, 199, 399, 799, 999])
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(0)
    const { source, loop, clock, passes } = setup({ resyncMs: 60_000, random: () => 0.999 })
    source.failures = [new Error("EAGAIN-ish"), new Error("again"), new Error("again")]
    const first = await loop.start()
    expect(first.error).toBe("EAGAIN-ish")
    expect(loop.status().state).toBe("backoff")
    expect(loop.status().nextRetryAt! - clock.now()).toBe(99)
    await clock.advance(99)
    expect(passes.length).toBe(2)
    expect(passes[1]?.trigger).toBe("retry")
    expect(loop.status().nextRetryAt! - clock.now()).toBe(199)
    await clock.advance(199)
    expect(loop.status().nextRetryAt! - clock.now()).toBe(399)
    await clock.advance(399)
    expect(passes.at(-1)?.converged).toBe(true)
    expect(loop.status()).toMatchObject({ state: "running", consecutiveFailures: 0 })
    expect(loop.status().nextRetryAt).toBeUndefined()
    await loop.stop()
  })

  test("hints do not bypass backoff", async () => {
    const { source, loop, clock, passes } = setup({ random: () => 0.999 })
    source.failures = [new Error("boom")]
    await loop.start()
    for (let i = 0; i < 10; i++) source.hint({ scope: [{ kind: "key", key: "x" }] })
    await clock.advance(50)
    expect(passes.length).toBe(1)
    await clock.advance(60)
    expect(passes.length).toBe(2)
    await loop.stop()
  })

  test("terminal errors are retried only at resync pace", async () => {
    const { source, loop, clock, passes } = setup({ resyncMs: 10_000, random: () => 0.5 })
    source.failures = [
      Object.assign(new Error("Operation not permitted"), { errno: 1, terminal: true }),
      Object.assign(new Error("Operation not permitted"), { errno: 1, terminal: true }),
    ]
    await loop.start()
    expect(loop.status().state).toBe("backoff")
    expect(loop.status().nextRetryAt).toBeUndefined()
    source.hint({ scope: [{ kind: "key", key: "x" }] })
    await clock.advance(9_999)
    expect(passes.length).toBe(1)
    await clock.advance(2)
    expect(passes.length).toBe(2)
    expect(passes[1]?.trigger).toBe("timer")
    await clock.advance(10_001)
    expect(passes.at(-1)?.converged).toBe(true)
    await loop.stop()
  })

  test("an object another agent keeps undoing becomes contested and is healed at a bounded rate", async () => {
    const { source, loop, clock, passes } = setup({ contest: { threshold: 3, windowMs: 60_000, minIntervalMs: 1_000 } })
    source.echo = true
    const conflicts: unknown[] = []
    loop.on("conflict", (e) => conflicts.push(e))
    await loop.start()
    // the other agent undoes own/a every 100 ms for 5 s
    for (let t = 0; t < 5000; t += 100) {
      source.drift("own/a", "theirs")
      await clock.advance(100)
    }
    const heals = source.applied.filter((op) => op.kind === "set" && op.key === "own/a").length
    expect(heals).toBeLessThanOrEqual(1 + 3 + 6) // start, 3 heals to detect (threshold 3 here), then ~1/s
    expect(heals).toBeGreaterThanOrEqual(6)
    expect(conflicts).toContainEqual({ op: "set own/a=1", reason: "contested" })
    expect(loop.status().contested.map((c) => c.op)).toEqual(["set own/a=1"])
    expect(passes.length).toBeLessThan(30) // no spinning: ~2 passes per heal, not one per event
    // heals held back by the rate limit are marked throttled (kept out of heal latency);
    // the heals before the object became contested are not
    const lat = loop.status().healLatenciesMs
    const throttled = lat.filter((l) => l.throttled)
    expect(throttled.length).toBeGreaterThanOrEqual(3)
    expect(throttled.every((l) => l.ms >= 100)).toBe(true)
    expect(lat.slice(0, 3).some((l) => l.throttled)).toBe(false)
    await loop.stop()
  })

  test("when the fight ends, a contested op is healed once its interval is over, not at the next resync", async () => {
    const { source, loop, clock } = setup({
      resyncMs: 60_000,
      contest: { threshold: 3, windowMs: 60_000, minIntervalMs: 1_000 },
    })
    source.echo = true
    await loop.start()
    for (let t = 0; t < 3000; t += 100) {
      source.drift("own/a", "theirs")
      await clock.advance(100)
    }
    expect(loop.status().contested.length).toBe(1)
    // the other side's last undo, and an urgent pass (a manual resync, an overrun) right
    // after a heal: the op is held back in it, and no event will come again
    source.drift("own/a", "theirs")
    loop.resync()
    await clock.advance(10)
    expect(loop.status().lastPass?.deferred).toEqual(["set own/a=1"])
    expect(source.kernel.get("own/a")).toBe("theirs")
    // about one contest interval (1 s) later, not at the resync (60 s)
    await clock.advance(1_100)
    expect(source.kernel.get("own/a")).toBe("1")
    expect(loop.status().converged).toBe(true)
    await loop.stop()
  })

  test("an event storm is coalesced: a burst runs at once, then at most one pass per millisecond", async () => {
    const { source, loop, clock, passes } = setup()
    await loop.start()
    const before = passes.length
    // 1000 events, ten per millisecond for 100 ms, each a hint on its own
    for (let i = 0; i < 1000; i++) {
      source.hint({ scope: [{ kind: "key", key: `k${i}` }] })
      if (i % 10 === 9) await clock.advance(1)
      else await clock.settle()
    }
    await clock.advance(20)
    const stormPasses = passes.length - before
    expect(stormPasses).toBeLessThanOrEqual(32 + 100 + 2)
    expect(stormPasses).toBeGreaterThan(90) // still steady: every millisecond, not starved
    // every hint was covered: the last pass saw the last key
    expect(source.scopes.at(-1)?.some((e) => e.key === "k999")).toBe(true)
    // and a single later hint runs at once again (the bucket refilled)
    await clock.advance(100)
    const n = passes.length
    source.hint({ scope: [{ kind: "key", key: "late" }] })
    await clock.settle()
    expect(passes.length).toBe(n + 1)
    await loop.stop()
  })

  test("an op that does not converge is reported and not re-applied forever", async () => {
    const { source, loop, clock } = setup({ desired: { "own/a": "1", "own/s": "2" } })
    source.stubborn.add("own/s")
    source.echo = true
    const conflicts: unknown[] = []
    loop.on("conflict", (e) => conflicts.push(e))
    await loop.start()
    for (let i = 0; i < 20; i++) {
      source.hint({ scope: [{ kind: "key", key: "own/s" }] })
      await clock.advance(5)
    }
    const tries = source.applied.filter((op) => op.kind === "set" && op.key === "own/s").length
    expect(tries).toBe(4) // applied, then found again three times in a row: held back
    expect(conflicts).toContainEqual({ op: "set own/s=2", reason: "not-converging" })
    expect(loop.status().notConverging).toEqual(["set own/s=2"])
    expect(loop.status().converged).toBe(false)
    await loop.stop()
  })

  test("conflict ops are never applied and are reported", async () => {
    const { source, loop } = setup({ desired: { "own/a": "1", theirs: "x" } })
    source.foreign.add("theirs")
    const conflicts: unknown[] = []
    loop.on("conflict", (e) => conflicts.push(e))
    const r = await loop.start()
    expect(r.conflicts).toEqual(["# conflict: theirs is foreign"])
    expect(r.converged).toBe(false)
    expect(source.kernel.has("theirs")).toBe(false)
    expect(conflicts).toEqual([{ op: "# conflict: theirs is foreign", reason: "conflict" }])
    expect(loop.status().conflicts).toEqual(["# conflict: theirs is foreign"])
    await loop.stop()
  })

  test("stop during a pass lets it finish, applies nothing afterwards, closes the source", async () => {
    const { source, loop, clock } = setup()
    await loop.start()
    const release = gate(source)
    source.drift("own/a", "x")
    await clock.settle()
    const stopping = loop.stop()
    release()
    await stopping
    expect(source.kernel.get("own/a")).toBe("x") // the pass observed, but applied nothing once stopping
    expect(source.calls.close).toBe(1)
    expect(source.subscribed).toBe(false)
    expect(loop.status().state).toBe("stopped")
    source.drift("own/b", "y")
    await clock.advance(60_000)
    expect(source.kernel.get("own/b")).toBe("y")
    expect(clock.pending()).toEqual([])
    await loop.stop() // idempotent
    expect(source.calls.close).toBe(1)
  })

  test("an aborted signal stops the loop; await using stops it too", async () => {
    const clock = new FakeClock()
    const source = new FakeSource()
    const ac = new AbortController()
    const loop = createReconciler({ source, desired: {}, ownership: { prefix: "own/" }, clock, signal: ac.signal })
    await loop.start()
    ac.abort()
    await clock.settle()
    await clock.settle()
    expect(loop.status().state).toBe("stopped")
    const source2 = new FakeSource()
    {
      await using loop2 = createReconciler({ source: source2, desired: {}, ownership: { prefix: "own/" }, clock })
      await loop2.start()
    }
    expect(source2.calls.close).toBe(1)
  })

  test("invalid desired state is refused with every issue; the previous state stays in force", async () => {
    const { source, loop } = setup()
    await loop.start()
    let err: unknown
    try {
      await loop.setDesired({ "own/a": 5, "own/c": true })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(DesiredStateError)
    expect((err as DesiredStateError).issues).toEqual([
      "own/a: expected a string, got number",
      "own/c: expected a string, got boolean",
    ])
    expect(loop.desired()).toEqual({ "own/a": "1", "own/b": "2" })
    const r = await loop.setDesired({ "own/a": "9" })
    expect(r.trigger).toBe("desired")
    expect(r.applied).toEqual(["set own/a=9", "delete own/b"])
    expect([...source.kernel]).toEqual([["own/a", "9"]])
    await loop.stop()
  })

  test("diff gets ownership as the source's ownershipSchema normalised it; invalid ownership is refused", async () => {
    const clock = new FakeClock()
    const source = new FakeSource()
    source.kernel.set("own/old", "x")
    source.kernel.set("other", "y")
    // the shorthand "own/" is only understood through the schema's output { prefix: "own/" }
    await using loop = createReconciler({
      source,
      desired: { "own/a": "1" },
      ownership: "own/" as unknown as { prefix: string },
      clock,
    })
    await loop.start()
    expect(Object.fromEntries(source.kernel)).toEqual({ "own/a": "1", other: "y" })
    expect((await loop.plan()).ops).toEqual([])
    const bad = createReconciler({
      source: new FakeSource(),
      desired: {},
      ownership: 7 as unknown as { prefix: string },
      clock,
    })
    const err = await bad.start().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DesiredStateError)
    expect((err as Error).message).toBe("invalid ownership:\n  prefix: ownership is { prefix } or a prefix string")
  })

  test("start rejects invalid initial desired state and applies nothing", async () => {
    const clock = new FakeClock()
    const source = new FakeSource()
    const loop = createReconciler({ source, desired: { a: 1 }, ownership: { prefix: "" }, clock })
    await expect(loop.start()).rejects.toBeInstanceOf(DesiredStateError)
    expect(source.calls.reconcile).toBe(0)
  })

  test("plan observes and diffs without applying", async () => {
    const { source, loop } = setup()
    const p = await loop.plan()
    expect(p.described).toEqual(["set own/a=1", "set own/b=2"])
    expect(source.calls.reconcile).toBe(0)
  })

  test("drift is counted and reported with its heal latency", async () => {
    const { source, loop, clock } = setup()
    const drift: string[][] = []
    loop.on("drift", (e) => drift.push(e.ops))
    await loop.start()
    source.drift("own/b", undefined)
    await clock.advance(1)
    expect(drift).toEqual([["set own/b=2"]])
    const s = loop.status()
    expect(s.counters.driftHealed).toBe(1)
    expect(s.healLatenciesMs.length).toBe(1)
    expect(s.counters.noopPasses).toBe(0)
    source.hint({ scope: [{ kind: "key", key: "own/b" }] })
    await clock.advance(1)
    expect(loop.status().counters.noopPasses).toBe(1)
    // our own writes come back as events: the pass they cause is a cheap, counted no-op
    source.echo = true
    source.drift("own/a", undefined)
    await clock.advance(1)
    expect(loop.status().counters.noopPasses).toBe(2)
    await loop.stop()
  })

  test("many loops share nothing", async () => {
    const clock = new FakeClock()
    const loops = Array.from({ length: 100 }, (_, i) => {
      const source = new FakeSource()
      return {
        source,
        loop: createReconciler({
          source,
          desired: { [`own/${i}`]: String(i) },
          ownership: { prefix: "own/" },
          clock,
          name: `c${i}`,
        }),
      }
    })
    await Promise.all(loops.map((l) => l.loop.start()))
    expect(loops.every((l, i) => l.source.kernel.get(`own/${i}`) === String(i) && l.source.kernel.size === 1)).toBe(
      true,
    )
    await Promise.all(loops.map((l) => l.loop.stop()))
  })

  test("a listener that throws does not break the loop", async () => {
    const { loop } = setup()
    loop.on("pass", () => {
      throw new Error("bad listener")
    })
    const r = await loop.start()
    expect(r.converged).toBe(true)
    await loop.stop()
  })

  test("the logger gets one structured line per pass and per failure; silent by default", async () => {
    const clock = new FakeClock()
    const source = new FakeSource()
    source.echo = false
    const lines: Record<string, unknown>[] = []
    const logger = {
      info: (e: Record<string, unknown>) => lines.push({ level: "info", ...e }),
      warn: (e: Record<string, unknown>) => lines.push({ level: "warn", ...e }),
      error: (e: Record<string, unknown>) => lines.push({ level: "error", ...e }),
    }
    source.failures = [new Error("boom")]
    const loop = createReconciler({
      source,
      desired: { "own/a": "1" },
      ownership: { prefix: "own/" },
      clock,
      logger,
      name: "l1",
      random: () => 0.5,
    })
    await loop.start()
    await clock.advance(100)
    await loop.stop()
    expect(lines.map((l) => [l.level, l.msg, l.loop])).toEqual([
      ["error", "pass failed", "l1"],
      ["info", "pass", "l1"],
      ["info", "pass", "l1"],
      ["info", "stopped", "l1"],
    ])
    expect(lines[0]).toMatchObject({ error: "boom", trigger: "start" })
    expect(lines[2]).toMatchObject({ trigger: "retry", applied: 1, converged: true })
  })

  test("an event stream that ends is reported down with why, looked past with a full pass, and resubscribed with backoff", async () => {
    const { source, loop, clock, passes } = setup()
    await loop.start()
    expect(loop.status().events).toMatchObject({ state: "up", losses: 0 })
    source.subscribeFailures.push(new Error("socket refused"))
    source.hint({ ended: new Error("netlink event stream ended") })
    await clock.settle()
    expect(loop.status().events).toMatchObject({ state: "down", reason: "netlink event stream ended", losses: 1 })
    expect(source.subscribed).toBe(false)
    expect(passes.at(-1)?.trigger).toBe("overrun")
    // first retry after the initial backoff (100 ms) fails: down again, next in 200 ms
    await clock.advance(100)
    expect(loop.status().events).toMatchObject({ state: "down", reason: "socket refused", losses: 2 })
    await clock.advance(200)
    expect(loop.status().events.state).toBe("up")
    expect(source.subscribed).toBe(true)
    // and events flow again
    source.drift("own/a", "x")
    await clock.advance(1)
    expect(passes.at(-1)?.applied).toEqual(["set own/a=1"])
    await loop.stop()
    expect(source.subscribed).toBe(false)
  })

  test("a source that cannot subscribe at start still converges, and subscribes when it can", async () => {
    const { source, loop, clock } = setup()
    source.subscribeFailures.push(new Error("namespace not there yet"))
    const r = await loop.start()
    expect(r.converged).toBe(true)
    expect(loop.status().events).toMatchObject({ state: "down", reason: "namespace not there yet" })
    await clock.advance(100)
    expect(loop.status().events.state).toBe("up")
    await loop.stop()
  })

  test("a pass that found nothing to do logs at debug; one that did something at info", async () => {
    const clock = new FakeClock()
    const source = new FakeSource()
    source.echo = false
    const lines: [string, string][] = []
    const loop = createReconciler({
      source,
      desired: { "own/a": "1" },
      ownership: { prefix: "own/" },
      clock,
      logger: {
        debug: (e) => void lines.push(["debug", String(e.msg)]),
        info: (e) => void lines.push(["info", String(e.msg)]),
        warn: (e) => void lines.push(["warn", String(e.msg)]),
        error: (e) => void lines.push(["error", String(e.msg)]),
      },
    })
    await loop.start()
    source.hint({ scope: [{ kind: "key", key: "own/zzz" }] })
    await clock.advance(1)
    source.drift("own/a", "x")
    await clock.advance(1)
    expect(lines.filter(([, m]) => m === "pass").map(([l]) => l)).toEqual(["info", "debug", "info"])
    await loop.stop()
  })
})

describe("validation messages in words", () => {
  test("an unknown key suggests the closest known one, a missing one says it is required", async () => {
    const v = await import("valibot")
    const schema = v.strictObject({
      links: v.optional(
        v.array(
          v.variant("kind", [
            v.strictObject({ kind: v.literal("bridge"), name: v.string(), mtu: v.optional(v.number()) }),
            v.strictObject({ kind: v.literal("veth"), name: v.string(), peer: v.strictObject({ name: v.string() }) }),
          ]),
        ),
      ),
      routes: v.optional(v.array(v.string())),
    })
    const { validate } = await import("./desired.ts")
    const issues = await validate(schema, {
      routs: [],
      links: [
        { kind: "bridge", name: "b", mtuu: 1 },
        { kind: "veth", name: "v", peer: { nmae: "p" } },
      ],
    }).catch((e: { issues: string[] }) => e.issues)
    expect(issues).toEqual([
      'links.0.mtuu: unknown key "mtuu": did you mean "mtu"?',
      'links.1.peer.name: "name" is required',
      'links.1.peer.nmae: unknown key "nmae": did you mean "name"?',
      'routs: unknown key "routs": did you mean "routes"?',
    ])
  })
})
