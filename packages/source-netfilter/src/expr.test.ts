// Every expression kind round-trips: typed value → libnftnl expression → rule message
// (built by libnftnl) → parsed by libnftnl and by the TypeScript decoder → equal.
// Needs libnftnl.so.11 (the test command installs it), not root.
import { describe, expect, test } from "bun:test"
import { nfnl, parseMessages } from "@linx/netlink/wire"
import { RULE } from "./wire/constants.ts"
import { type Expr, exprKey } from "./expr.ts"
import { encodeExpr } from "./wire/expr.ts"
import { NftObject } from "./ffi/libnftnl.ts"
import { decodeRuleWithLibnftnl } from "./testing/libnftnl-rule.ts"
import { decodeRuleMessage } from "./wire/rule.ts"

const ALL: Expr[] = [
  { type: "meta", key: "l4proto", dreg: 1 },
  { type: "cmp", sreg: 1, op: "eq", data: "06" },
  { type: "payload", base: "transport", offset: 2, len: 2, dreg: 1 },
  { type: "range", sreg: 1, op: "neq", from: "0050", to: "01bb" },
  { type: "payload", base: "network", offset: 12, len: 4, dreg: 2 },
  { type: "bitwise", sreg: 2, dreg: 2, len: 4, mask: "ffffff00", xor: "00000000" },
  { type: "lookup", sreg: 2, set: "blocked", invert: true },
  { type: "ct", key: "state", dreg: 3 },
  { type: "counter" },
  { type: "log", prefix: "linx " },
  { type: "log", prefix: "grp", group: 3 },
  { type: "log", level: 4 },
  { type: "limit", rate: 10, unit: "minute", burst: 7 },
  { type: "immediate", dreg: 1, data: "0a000002" },
  { type: "immediate", dreg: 2, data: "1f90" },
  { type: "nat", nat: "dnat", family: "ip", addrReg: 1, protoReg: 2, flags: 2 },
  { type: "masq" },
  { type: "fib", result: "type", flags: ["daddr"], dreg: 1 },
  { type: "fib", result: "oif", flags: ["saddr", "iif"], dreg: 2 },
  { type: "reject", kind: "tcp-reset", code: 0 },
  { type: "immediate", dreg: 0, verdict: "jump", chain: "other" },
]

function roundTrip(exprs: Expr[]) {
  const rule = new NftObject("rule").setStr(RULE.TABLE, "t").setStr(RULE.CHAIN, "c").setU32(RULE.FAMILY, 1)
  for (const e of exprs) rule.addExpr(encodeExpr(e))
  const bytes = rule.build(nfnl.nftType(nfnl.NFT_MSG_NEWRULE), 1, 0, new Uint8Array(1 << 16))
  rule.free()
  const m = parseMessages(bytes)[0]!
  return { ts: decodeRuleMessage(m), lib: decodeRuleWithLibnftnl(m.data)! }
}

describe("expressions round-trip through libnftnl", () => {
  test("every kind, one by one and all in one rule", () => {
    for (const e of ALL) {
      const { ts, lib } = roundTrip([e])
      expect(ts.exprs).toEqual([e])
      expect(lib.exprs).toEqual([e])
    }
    const { ts, lib } = roundTrip(ALL)
    expect(ts.exprs).toEqual(ALL)
    expect(lib.exprs).toEqual(ALL)
    expect(ts.table).toBe("t")
    expect(ts.chain).toBe("c")
    expect(exprKey(ts.exprs)).toBe(exprKey(ALL))
  })
})
