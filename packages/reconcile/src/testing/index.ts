export { FakeClock } from "./clock.ts"
export { FakeSource, kvSchema, type KvDesired, type KvOp, type KvOwnership } from "./source.ts"
