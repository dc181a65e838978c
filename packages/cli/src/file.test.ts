// Desired-state files from careless and hostile hands (issue 12, item 15): no silent
// merge, no expansion bomb, no megabyte echoed, and a list called a list.
import { describe, expect, test } from "bun:test"
import { FileError, loadFile } from "./file.ts"

async function issues(name: string, text: string): Promise<string[]> {
  try {
    await loadFile(name, text)
    return []
  } catch (e) {
    if (e instanceof FileError) return e.issues
    throw e
  }
}

describe("desired-state files", () => {
  test("a valid file loads", async () => {
    expect(await issues("ok.yaml", "source: sysctl\ndesired:\n  net.ipv4.ip_forward: 1\n")).toEqual([])
  })

  test("duplicate keys are refused, not merged", async () => {
    const out = await issues(
      "dup.yaml",
      "source: sysctl\ndesired:\n  net.ipv4.ip_forward: 1\n  net.ipv4.ip_forward: 0\n",
    )
    expect(out.length).toBe(1)
    expect(out[0]).toContain("Map keys must be unique")
  })

  test("an alias bomb (billion laughs) is refused in a short line", async () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
      "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
      "source: rtnl",
      "desired: { links: *f }",
    ].join("\n")
    const out = await issues("bomb.yaml", bomb)
    expect(out.length).toBe(1)
    expect(out[0]!.length).toBeLessThan(500)
    expect(out[0]).toContain("cannot parse YAML")
  })

  test("a huge bad value is echoed at most a few hundred characters", async () => {
    const huge = "x".repeat(10_000_000)
    const out = await issues(
      "huge.yaml",
      `source: rtnl\ndesired:\n  links:\n    - name: ${huge}\n      kind: ${huge}\n`,
    )
    expect(out.length).toBeGreaterThan(0)
    for (const line of out) expect(line.length).toBeLessThan(500)
  })

  test("a top-level list is called a list; several documents are called documents", async () => {
    expect(await issues("list.yaml", "- source: sysctl\n- source: rtnl\n")).toEqual([
      "must be a mapping with source, ownership and desired (it is a list)",
    ])
    expect(await issues("two.yaml", "source: sysctl\ndesired: {}\n---\nsource: rtnl\ndesired: {}\n")).toEqual([
      "holds 2 YAML documents; put one desired state per file",
    ])
  })
})
