export { FakeNftKernel } from "./fake.ts"
