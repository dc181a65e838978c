// A rule message parsed by libnftnl (nftnl_rule_nlmsg_parse and its getters): tests check
// that the TypeScript decoder agrees with it on messages libnftnl itself built. Never used
// on bytes from a socket: libnftnl's parsers exit(1) or crash on malformed input.
import { NftObject } from "../ffi/libnftnl.ts"
import { RULE } from "../wire/constants.ts"
import { decodeExpr } from "../wire/expr.ts"
import type { RawRule } from "../wire/rule.ts"

export function decodeRuleWithLibnftnl(data: Uint8Array): RawRule | undefined {
  using r = new NftObject("rule")
  if (!r.parse(data)) return undefined
  const raw: RawRule = {
    family: r.u32(RULE.FAMILY) ?? 0,
    table: r.str(RULE.TABLE) ?? "",
    chain: r.str(RULE.CHAIN) ?? "",
    handle: r.u64(RULE.HANDLE) ?? 0,
    exprs: r.exprs().map(decodeExpr),
  }
  const ud = r.data(RULE.USERDATA)
  if (ud) raw.userdata = ud
  return raw
}
