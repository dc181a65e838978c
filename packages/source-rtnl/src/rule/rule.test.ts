// Policy rules without root: the wire codec round-trips every attribute; on the fake
// kernel a pass makes them, a rule that appeared meanwhile is left alone, a delete of one
// already gone is done, and rule changes hint a rule dump.
import { describe, expect, test } from "bun:test"
import { MessageWriter, parseMessages } from "@linx/netlink/wire"
import * as v from "valibot"
import { RtnlDesiredSchema } from "../schema.ts"
import { createRtnlSource } from "../source.ts"
import { FakeRtnlKernel } from "../testing/fake.ts"
import * as c from "../wire/constants.ts"
import { decodeRule, encodeRuleRequest, type FibRule } from "../wire/rule.ts"
import { ruleKey, wantedRule } from "./model.ts"

const full: FibRule = {
  family: "inet",
  priority: 150,
  action: c.FR_ACT.lookup,
  table: 1000,
  src: "10.1.0.0/16",
  dst: "192.0.2.0/24",
  tos: 16,
  fwmark: 0x10,
  fwmask: 0xff,
  iif: "eth0",
  oif: "eth1",
  uidRange: [1000, 1999],
  ipProto: 6,
  sport: [1, 2],
  dport: [8000, 8080],
  suppressPrefixlen: 0,
  invert: true,
  protocol: 77,
}

describe("policy rules", () => {
  test("encode then decode gives the rule back, table > 255 included (RT_TABLE_COMPAT in the header)", () => {
    const w = new MessageWriter()
    encodeRuleRequest(w, { op: "create", rule: full })
    const m = parseMessages(w.finish())[0]!
    expect(m.view.getUint8(m.payload + 4)).toBe(252)
    expect(decodeRule(m)).toEqual(full)
    const six: FibRule = { ...full, family: "inet6", src: "fd00::/64", dst: "2001:db8::/32" }
    const w6 = new MessageWriter()
    encodeRuleRequest(w6, { op: "delete", rule: six })
    expect(decodeRule(parseMessages(w6.finish())[0]!)).toEqual(six)
  })

  test("a desired rule is what the kernel reports: fwmark without mask is all bits, non-lookup rules table 0", () => {
    const d = v.parse(RtnlDesiredSchema, {
      rules: [
        { priority: 5, fwmark: 16 },
        { priority: 6, action: "blackhole" },
      ],
    })
    expect(wantedRule(d.rules[0]!, 77)).toMatchObject({ fwmark: 16, fwmask: 0xffffffff, table: 254 })
    expect(wantedRule(d.rules[1]!, 77)).toMatchObject({ action: c.FR_ACT.blackhole, table: 0 })
    // the protocol is not part of what two rules compare by
    expect(ruleKey(wantedRule(d.rules[0]!, 77))).toBe(ruleKey(wantedRule(d.rules[0]!, 3)))
  })

  test("fake kernel: made in one pass; one that appeared meanwhile is left alone; a gone one's delete is done", async () => {
    const kernel = new FakeRtnlKernel()
    const s = createRtnlSource({ kernel })
    const own = { routeProtocol: 77 }
    const d = v.parse(RtnlDesiredSchema, { rules: [{ priority: 100, from: "10.1.0.0/16", table: 100 }] })
    const seen = await s.observe()
    const ops = s.diff(d, seen, own)
    // meanwhile, the same rule with our marker (another instance of this loop) appears
    kernel.addRule(wantedRule(d.rules[0]!, 77))
    const r = await s.reconcile(ops)
    expect(r.failed.map((f) => f.error.message)).toEqual([expect.stringContaining("appeared after the look")])
    expect(kernel.rules().filter((x) => x.protocol === 77).length).toBe(1)
    // deleted by someone else between look and apply: done, not failed
    const del = s.diff(v.parse(RtnlDesiredSchema, {}), await s.observe(), own)
    kernel.deleteRule((x) => x.protocol === 77)
    expect((await s.reconcile(del)).failed).toEqual([])
  })

  test("fake kernel: a rule change hints a rule dump", async () => {
    const kernel = new FakeRtnlKernel()
    const s = createRtnlSource({ kernel })
    const hints: unknown[] = []
    using _ = s.subscribe((h) => hints.push(h))
    kernel.deleteRule((x) => x.priority === 32766)
    await Bun.sleep(0)
    expect(hints).toEqual([{ scope: [{ kind: "rules" }] }])
    const look = await s.observe({ scope: [{ kind: "rules" }] })
    expect(look.rules!.some((x) => x.priority === 32766)).toBe(false)
    expect(look.routes).toBeUndefined()
  })
})
