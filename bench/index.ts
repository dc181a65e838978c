// `bun run bench`: every benchmark, as ratios against ip/nft/sysctl in the same run.
// Runs inside a private namespace (scripts/sandbox.sh); each case makes its own.
import { assertNotInitialNetns } from "@linx/netlink"
import { printTable } from "./harness.ts"
import { benchNetlinkDump } from "./netlink-dump.ts"

assertNotInitialNetns("bench")
const only = process.argv[2]
const cases: [string, () => Promise<void>][] = [["netlink-dump", () => benchNetlinkDump(100_000)]]
for (const [name, run] of cases) {
  if (only && !name.startsWith(only)) continue
  process.stderr.write(`running ${name}...\n`)
  await run()
}
printTable()
