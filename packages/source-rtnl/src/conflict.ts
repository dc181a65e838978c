// A desired object that collides with a foreign one, or cannot exist (a missing
// device). Never applied: the loop reports it as a conflict.

export interface ConflictOp {
  kind: "conflict"
  object: "link" | "address" | "route" | "rule" | "neighbor" | "fdb" | "nexthop"
  key: string
  reason: string
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`)
}
