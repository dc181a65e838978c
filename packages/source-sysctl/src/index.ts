// @linx/source-sysctl: kernel parameters as a reconcilable source, per namespace.
export {
  createSysctlSource,
  SysctlError,
  type SysctlSource,
  type SysctlSourceOptions,
  type SysctlObserved,
} from "./source.ts"
export {
  SysctlDesiredSchema,
  SysctlOwnershipSchema,
  type SysctlDesired,
  type SysctlDesiredInput,
  type SysctlOwnership,
} from "./schema.ts"
export { keyPath, keyName, normaliseValue, interfaceOf } from "./key.ts"
export type { SysctlOp } from "./ops.ts"
export type { SysctlKernel, KeyFailure } from "./kernel.ts"
