// Test helper: each integration file runs in namespaces it creates itself, never in
// the machine's own. Commands (`ip`, `nft`, `sysctl`) run switched into the namespace.
import { afterAll, beforeAll } from "bun:test"
import { assertNotInitialNetns, Netns } from "@linx/netlink"
import { makeTestNetns, type TestNetns } from "./shell.ts"

export { makeTestNetns, type TestNetns }

/** A fresh namespace for the whole file, created in beforeAll and released in afterAll. */
export function useFreshNetns(): () => TestNetns {
  let t: TestNetns | undefined
  beforeAll(() => {
    // The runner itself is under `unshare -n`; this is a second guard.
    assertNotInitialNetns("integration tests")
    const ns = Netns.create()
    t = makeTestNetns(ns)
    t.sh("ip", "link", "set", "lo", "up")
  })
  afterAll(() => {
    t?.ns.close()
    t = undefined
  })
  return () => {
    if (!t) throw new Error("useFreshNetns: namespace not created yet")
    return t
  }
}

/** A fresh namespace for one test; close it (or `using` it) at the end. */
export function freshNetns(): TestNetns & Disposable {
  assertNotInitialNetns("integration tests")
  const t = makeTestNetns(Netns.create())
  return Object.assign(t, { [Symbol.dispose]: () => t.ns.close() })
}

/**
 * Open netlink sockets and namespace descriptors of this process (what a loop or a
 * source holds), to check that nothing leaks. Other descriptors (the runtime's own,
 * spawn pipes) come and go and are not counted.
 */
export async function openFds(): Promise<number> {
  const { readdirSync, readlinkSync } = await import("node:fs")
  await Bun.sleep(20) // closes handed to the runtime's reader threads settle
  let n = 0
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      if (target.startsWith("socket:") || target.startsWith("net:")) n++
    } catch {
      // closed while listing
    }
  }
  return n
}
