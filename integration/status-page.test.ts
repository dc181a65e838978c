// The status page in a real browser (Debian's chromium driven by playwright-core): it
// opens the page while a loop heals drift in a fresh namespace, sees the heal appear with
// its time, the state turn amber when an object is contested, and saves a screenshot.
// Chromium runs inside the namespace (nsenter), where the status endpoint listens.
import { afterAll, describe, expect, test } from "bun:test"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { createReconciler } from "@linx/reconcile"
import { serveStatus } from "@linx/reconcile/status"
import { createRtnlSource } from "@linx/source-rtnl"
import { type Browser, chromium } from "playwright-core"
import { freshNetns } from "./netns.ts"

const CHROMIUM = "/usr/bin/chromium"
const ARTIFACTS = join(import.meta.dir, "../.artifacts")
// the flags this machine's closed network needs (no background connections, no sandbox as root)
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
]

const DESIRED = {
  links: [{ name: "br-page", kind: "bridge", up: true }],
  addresses: [{ link: "br-page", address: "10.44.0.1/24" }],
}
const OWN = { links: ["br-page"] }

/** Waits until `read()` satisfies `ok`, then returns what it read (or throws with the last value). */
async function poll<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms
  let v = await read()
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`timed out; last value: ${JSON.stringify(v)}`)
    await Bun.sleep(50)
    v = await read()
  }
  return v
}

let browser: Browser | undefined
afterAll(async () => {
  await browser?.close()
})

describe("status page in a browser", () => {
  test.skipIf(!Bun.which(CHROMIUM))(
    "shows a heal as it happens, with its time, then a contested object in amber",
    async () => {
      using t = freshNetns()
      t.sh("ip", "link", "set", "lo", "up")
      // chromium in the test's namespace: a wrapper that enters it through this process's descriptor
      mkdirSync(ARTIFACTS, { recursive: true })
      const wrapper = join(ARTIFACTS, "chromium-in-netns.sh")
      writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=/proc/${process.pid}/fd/${t.ns.fd} ${CHROMIUM} "$@"\n`)
      chmodSync(wrapper, 0o755)

      const source = createRtnlSource({ netns: t.ns })
      const loop = createReconciler({
        name: "page",
        source,
        desired: DESIRED,
        ownership: OWN,
        resyncMs: 60_000,
        contest: { threshold: 3, windowMs: 60_000, minIntervalMs: 400 },
      })
      const server = t.ns.run(() => serveStatus([loop], { port: 0 }))
      try {
        expect((await loop.start()).converged).toBe(true)
        const url = await server.listening
        browser = await chromium.launch({ executablePath: wrapper, args: FLAGS })
        const page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
        await page.goto(url)
        const state = page.locator('tr[data-loop="page"] td[data-state]')
        await poll(
          () => state.getAttribute("data-state"),
          (v) => v === "ok",
        )
        expect(await page.locator("#health").textContent()).toBe("healthy")
        expect(await page.locator('figure[data-heals="0"]').count()).toBe(1)

        // drift: the address deleted by hand is healed; the page shows the pass and the heal
        t.sh("ip", "addr", "del", "10.44.0.1/24", "dev", "br-page")
        const healed = page
          .locator('section[data-loop="page"] tr[data-seq]', { hasText: "10.44.0.1/24" })
          .filter({ hasText: "hint" })
        await healed.first().waitFor({ timeout: 5000 })
        const row = (await healed.first().textContent()) ?? ""
        expect(row).toMatch(/\d\d:\d\d:\d\d\.\d\d\d/) // the pass's time, to the millisecond
        await poll(
          () => page.locator('figure[data-heals="1"] circle.heal').count(),
          (n) => n === 1,
        )
        expect(await page.locator("figcaption", { hasText: "p50" }).count()).toBe(1)
        expect(t.sh("ip", "-br", "addr", "show", "br-page")).toContain("10.44.0.1/24")

        // another agent keeps deleting it: contested, amber, its throttled heals kept apart
        for (let i = 0; i < 6; i++) {
          const gone = Date.now()
          while (!t.sh("ip", "-br", "addr", "show", "br-page").includes("10.44.0.1/24")) {
            if (Date.now() - gone > 3000) throw new Error("the address did not come back")
            await Bun.sleep(5)
          }
          t.sh("ip", "addr", "del", "10.44.0.1/24", "dev", "br-page")
          await Bun.sleep(20)
        }
        await poll(
          () => state.getAttribute("data-state"),
          (v) => v === "warn",
        )
        expect(await state.textContent()).toBe("contested")
        expect(await page.locator("#health").textContent()).toContain("contested")
        const throttled = page.locator("figure[data-throttled]")
        await poll(
          async () => Number(await throttled.getAttribute("data-throttled")),
          (n) => n > 0,
        )
        const shot = join(ARTIFACTS, "status-page.png")
        await page.screenshot({ path: shot, fullPage: true })
        expect(Bun.file(shot).size).toBeGreaterThan(10_000)
      } finally {
        await loop.stop()
        await server.stop()
      }
    },
    30_000,
  )
})
