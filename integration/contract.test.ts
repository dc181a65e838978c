// Every source satisfies @linx/reconcile's Source contract structurally: these
// assignments are checked by the type-checker (tsc --noEmit runs in the test command).
import { describe, expect, test } from "bun:test"
import type { Source } from "@linx/reconcile"
import {
  createRtnlSource,
  type RtnlDesired,
  type RtnlObserved,
  type RtnlOp,
  type RtnlOwnership,
} from "@linx/source-rtnl"
import { FakeRtnlKernel } from "@linx/source-rtnl/testing"
import {
  createNftSource,
  type NftDesired,
  type NftObserved,
  type NftOp,
  type NftOwnership,
} from "@linx/source-netfilter"
import { FakeNftKernel } from "@linx/source-netfilter/testing"
import {
  createSysctlSource,
  type SysctlDesired,
  type SysctlObserved,
  type SysctlOp,
  type SysctlOwnership,
} from "@linx/source-sysctl"
import { FakeSysctlKernel } from "@linx/source-sysctl/testing"

describe("Source contract", () => {
  test("the rtnl source is a Source", async () => {
    const source: Source<RtnlDesired, RtnlObserved, RtnlOp, RtnlOwnership> = createRtnlSource({
      kernel: new FakeRtnlKernel(),
    })
    expect(source.kind).toBe("rtnl")
    expect(typeof source.schema["~standard"].validate).toBe("function")
    await source.close()
  })

  test("the sysctl source is a Source", async () => {
    const source: Source<SysctlDesired, SysctlObserved, SysctlOp, SysctlOwnership> = createSysctlSource({
      kernel: new FakeSysctlKernel(),
    })
    expect(source.kind).toBe("sysctl")
    await source.close()
  })

  test("the netfilter source is a Source", async () => {
    const source: Source<NftDesired, NftObserved, NftOp, NftOwnership> = createNftSource({
      kernel: new FakeNftKernel(),
    })
    expect(source.kind).toBe("netfilter")
    await source.close()
  })
})
