// Work in steps (see @linx/netlink's steps.ts): the rtnl diff and apply over a million
// routes yield between chunks of STEP_ITEMS, and run to the end or with the event loop let in.
export { runSteps, runStepsAsync, type Steps } from "@linx/netlink"

/** How many items a step covers: small enough to check the clock often, large enough to cost nothing. */
export const STEP_ITEMS = 1024
