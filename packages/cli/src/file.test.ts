// Desired-state files from careless and hostile hands (issue 12, item 15): no silent
// merge, no expansion bomb, no megabyte echoed, and a list called a list.
import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { isPackedRouteList } from "@linx/source-rtnl"
import { FileError, loadFile } from "./file.ts"
import { parsePackedJson } from "./json-packed.ts"
import { sourceEntry } from "./sources.ts"

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

describe("a JSON file read packed (a full routing table)", () => {
  const dir = mkdtempSync(join(tmpdir(), "linx-packed-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** The file loaded from its bytes (packed where it can be) and from its text (the usual way): result or issues of each. */
  async function both(text: string): Promise<{ packed: boolean; bytes: unknown; text: unknown }> {
    const path = join(dir, `f${Math.random().toString(36).slice(2)}.json`)
    writeFileSync(path, text)
    const load = async (t?: string) => {
      try {
        const f = await loadFile(path, t)
        return { f, out: JSON.stringify({ source: f.source, ownership: f.ownership, valid: f.valid }) }
      } catch (e) {
        if (e instanceof FileError) return { out: e.issues.map((i) => i.replaceAll(path, "FILE")) }
        throw e
      }
    }
    const fromBytes = await load()
    const fromText = await load(text)
    const routes = (fromBytes.f?.valid as { routes?: unknown } | undefined)?.routes
    return { packed: isPackedRouteList(routes), bytes: fromBytes.out, text: fromText.out }
  }

  const routes = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ dst: `10.${i >> 8}.${i & 255}.0/24`, via: "10.255.0.254", dev: "eth0" }))
  const doc = (desired: object, extra: object = {}) => ({
    source: "rtnl",
    ownership: { routeProtocol: 90 },
    desired,
    ...extra,
  })

  test("a plain file is read packed, to the same desired state as the usual way", async () => {
    const desired = { links: [{ name: "eth0", kind: "veth", peer: { name: "eth1" } }], routes: routes(300) }
    for (const text of [JSON.stringify(doc(desired)), JSON.stringify(doc(desired), null, 2)]) {
      const r = await both(text)
      expect(r.packed).toBe(true)
      expect(r.bytes).toEqual(r.text)
    }
  })

  test("anything unusual is read the usual way: the same result, the same errors", async () => {
    const list = JSON.stringify(routes(3))
    const cases: [string, string][] = [
      ["source after desired", `{"desired":{"routes":${list}},"source":"rtnl"}`],
      ["an escaped key", `{"source":"rtnl","desired":{"rout\\u0065s":${list}}}`],
      ["routes twice", `{"source":"rtnl","desired":{"routes":${list},"routes":[]}}`],
      ["desired twice", `{"source":"rtnl","desired":{"routes":${list}},"desired":{}}`],
      [
        "a route of another shape",
        `{"source":"rtnl","desired":{"routes":[{"dst":"10.0.0.0/8","via":"10.0.0.1","mtu":1400}]}}`,
      ],
      ["a bad route", `{"source":"rtnl","desired":{"routes":[{"dst":"10.0.0.1/8","via":"10.0.0.1"}]}}`],
      ["one route twice", `{"source":"rtnl","desired":{"routes":[${list.slice(1, -1)},${list.slice(1, -1)}]}}`],
      ["text after the document", `{"source":"rtnl","desired":{"routes":${list}}} x`],
      ["bad JSON elsewhere", `{"source":"rtnl","ownership":{"routeProtocol":},"desired":{"routes":${list}}}`],
      ["another source", `{"source":"sysctl","desired":{"routes":${list}}}`],
      ["an unknown source", `{"source":"bgp","desired":{"routes":${list}}}`],
      ["a source that is no string", `{"source":1,"desired":{"routes":${list}}}`],
      ["another source said after desired", `{"source":"rtnl","desired":{"routes":${list}},"source":"sysctl"}`],
      ["an unknown top-level key", `{"source":"rtnl","desired":{"routes":${list}},"x":1}`],
      ["a byte-order mark", `\ufeff{"source":"rtnl","desired":{"routes":${list}}}`],
    ]
    for (const [what, text] of cases) {
      const r = await both(text)
      expect({ what, packed: r.packed }).toEqual({ what, packed: false })
      expect({ what, out: r.bytes }).toEqual({ what, out: r.text })
    }
    // a source said again after desired: the lists were read by the first one's readers, so not packed at all
    const twice = new TextEncoder().encode(`{"source":"rtnl","desired":{"routes":${list}},"source":"sysctl"}`)
    expect(parsePackedJson(twice, (source) => sourceEntry(source)?.packedJson)).toBeUndefined()
    // an unknown top-level key is still refused, packed or not
    const unknown = await both(`{"source":"rtnl","desired":{"routes":${list}},"extra":1}`)
    expect(unknown.bytes).toEqual(["extra: unknown key (expected source, netns, lifetime, ownership, desired)"])
  })

  test("a huge packed list keeps its errors elsewhere the usual way's", async () => {
    const r = await both(JSON.stringify(doc({ routes: routes(5000), links: [{ name: "x", kind: "nope" }] })))
    expect(r.packed).toBe(false) // refused: nothing loaded to look at
    expect(r.bytes).toEqual(r.text)
    expect((r.bytes as string[]).join("\n")).toContain("desired.links.0.kind")
  })
})
