// `bun run bench`: every benchmark, as ratios against ip/nft/sysctl in the same run.
// Runs inside a private namespace (scripts/sandbox.sh); each case makes its own.
// `bun run bench rtnl` runs only the cases whose name starts with "rtnl".
import { assertNotInitialNetns } from "@linx/netlink"
import { argValue, compareWith, printTable, writeResults } from "./harness.ts"
import { benchNetlinkDump } from "./netlink-dump.ts"
import { benchHeal, benchIdle } from "./loop.ts"
import { benchPlanFile, benchRtnlApply, benchRtnlNeighbors, benchRtnlObserveAndNoop, benchRtnlRules } from "./rtnl.ts"
import { benchSysctl } from "./sysctl.ts"
import { benchTwoLoops } from "./two-loops.ts"
import { benchManyLoops } from "./many.ts"
import { benchContainers } from "./containers.ts"
import { benchKubeProxy, benchNetfilter, benchNetfilterSet, benchNetfilterText } from "./netfilter.ts"
import { benchCrash, benchEcho, benchFight, benchStatusFlood, benchStorm } from "./reliability.ts"

assertNotInitialNetns("bench")
const only = process.argv[2]?.startsWith("--") ? undefined : process.argv[2]
const cases: [string, () => Promise<void>][] = [
  ["netlink-dump", () => benchNetlinkDump(100_000)],
  ["rtnl-apply-10k", () => benchRtnlApply(10_000)],
  ["rtnl-apply-100k", () => benchRtnlApply(100_000)],
  ["rtnl-observe-100k", () => benchRtnlObserveAndNoop(100_000)],
  ["rtnl-1m-apply", () => benchRtnlApply(1_000_000)],
  ["rtnl-1m-observe", () => benchRtnlObserveAndNoop(1_000_000)],
  ["rtnl-1m-plan", () => benchPlanFile(1_000_000)],
  ["rtnl-rules-10k", () => benchRtnlRules(10_000)],
  ["rtnl-neighbors-100k", () => benchRtnlNeighbors(100_000)],
  ["loop-two-1m", () => benchTwoLoops(Number(process.env.LINX_ROUTES ?? 1_000_000))],
  ["loop-heal-1k", () => benchHeal(1_000)],
  ["loop-heal-10k", () => benchHeal(10_000)],
  ["loop-heal-100k", () => benchHeal(100_000)],
  ["loop-heal-1m", () => benchHeal(1_000_000)],
  ["loop-idle", () => benchIdle(10)],
  ["sysctl-100", () => benchSysctl()],
  ["netfilter-10k", () => benchNetfilter(10_000)],
  ["netfilter-set-100k", () => benchNetfilterSet(100_000)],
  ["netfilter-text-10k", () => benchNetfilterText(10_000)],
  ["kube-proxy-10k", () => benchKubeProxy(Number(process.env.LINX_SERVICES ?? 10_000))],
  ["many-loops-1000", () => benchManyLoops(1000)],
  ["containers-1000", () => benchContainers(Number(process.env.LINX_CONTAINERS ?? 1000))],
  ["reliability-echo", () => benchEcho(10_000)],
  ["reliability-storm", () => benchStorm(100_000)],
  ["reliability-fight", () => benchFight()],
  ["reliability-flood", () => benchStatusFlood()],
  ["reliability-crash", () => benchCrash(100_000)],
]
for (const [name, run] of cases) {
  if (only && !name.startsWith(only)) continue
  process.stderr.write(`running ${name}...\n`)
  await run()
}
printTable()
await writeResults(argValue("json") ?? `bench/results/${new Date().toISOString().slice(0, 19).replace(/:/g, "-")}.json`)
const previous = argValue("compare")
if (previous) await compareWith(previous)
