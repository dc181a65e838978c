// What users write: a map of key to value. Keys in either spelling; values as strings,
// numbers or booleans.
import * as v from "valibot"
import { isValidKeyPath, keyPath, normaliseValue } from "./key.ts"

const Value = v.union(
  [v.string(), v.pipe(v.number(), v.integer("a numeric value must be an integer")), v.boolean()],
  "a value must be a string, an integer or a boolean",
)

export const SysctlDesiredSchema = v.pipe(
  v.record(
    v.pipe(
      v.string(),
      v.check(
        (k) => isValidKeyPath(keyPath(k)),
        (i) => `"${i.input}" is not a sysctl key (like net.ipv4.ip_forward; no globs)`,
      ),
    ),
    Value,
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const seen = new Map<string, string>()
    for (const k of Object.keys(dataset.value)) {
      const p = keyPath(k)
      const prev = seen.get(p)
      if (prev !== undefined) addIssue({ message: `"${k}" is the same key as "${prev}"` })
      seen.set(p, k)
    }
  }),
  /** key path → normalised value */
  v.transform((rec) => new Map(Object.entries(rec).map(([k, val]) => [keyPath(k), normaliseValue(val)] as const))),
)

export const SysctlOwnershipSchema = v.optional(
  v.strictObject({
    /** allow keys outside net/ (they are global to the machine, not per namespace). Default false */
    allowGlobalKeys: v.optional(v.boolean()),
  }),
)

export type SysctlDesired = v.InferOutput<typeof SysctlDesiredSchema>
export type SysctlDesiredInput = v.InferInput<typeof SysctlDesiredSchema>
export type SysctlOwnership = v.InferOutput<typeof SysctlOwnershipSchema>
