import { describe, expect, test } from "bun:test"
import { effectiveCaps, needsRoot } from "./caps.ts"

describe("needs root", () => {
  test("reads CapEff from /proc/self/status text", () => {
    expect(effectiveCaps("Name:\tbun\nCapEff:\t000001ffffffffff\n")).toBe(0x1ffffffffffn)
    expect(effectiveCaps("Name:\tbun\n")).toBeUndefined()
    expect(effectiveCaps("")).toBeUndefined()
  })

  test("one line naming what is missing; nothing when it may, or when it cannot tell", () => {
    const netAdmin = 1n << 12n
    const sysAdmin = 1n << 21n
    expect(needsRoot("apply", false, 0n)).toBe(
      "linx apply: changing the network needs root (CAP_NET_ADMIN): run it as root; nothing was changed",
    )
    expect(needsRoot("apply", true, netAdmin)).toBe(
      "linx apply: changing the network needs root (CAP_SYS_ADMIN for namespaces): run it as root; nothing was changed",
    )
    expect(needsRoot("run", true, netAdmin | sysAdmin)).toBeUndefined()
    expect(needsRoot("run", false, netAdmin)).toBeUndefined()
  })
})
