// Validating desired state with a source's Standard Schema: every issue as `path: message`.
import type { StandardSchemaV1 } from "@standard-schema/spec"
import { inWords } from "./words.ts"

/** Desired state (or ownership) that failed validation; nothing was applied. */
export class DesiredStateError extends Error {
  override readonly name = "DesiredStateError"
  /** terminal: retrying the same input cannot help */
  readonly terminal = true
  constructor(
    readonly issues: string[],
    what = "desired state",
  ) {
    super(`invalid ${what}:\n  ${issues.join("\n  ")}`)
  }
}

function pathOf(issue: StandardSchemaV1.Issue): string {
  if (!issue.path?.length) return ""
  return issue.path.map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
}

/** Issues as `path: message` lines, in words (`schema` lets an unknown key get a did-you-mean). */
export function formatIssues(issues: readonly StandardSchemaV1.Issue[], schema?: unknown): string[] {
  return issues.map((i) => {
    const p = pathOf(i)
    const message = inWords(i, schema)
    return p ? `${p}: ${message}` : message
  })
}

/** Validates `input`; returns the schema's output or throws DesiredStateError. */
export async function validate<T>(schema: StandardSchemaV1<unknown, T>, input: unknown, what?: string): Promise<T> {
  let result = schema["~standard"].validate(input)
  if (result instanceof Promise) result = await result
  if (result.issues) throw new DesiredStateError(formatIssues(result.issues, schema), what)
  return result.value
}
