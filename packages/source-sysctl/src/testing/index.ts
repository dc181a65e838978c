export { FakeSysctlKernel } from "./fake.ts"
