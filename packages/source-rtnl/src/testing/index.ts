export { FakeRtnlKernel, type FakeRtnlKernelOptions } from "./fake.ts"
