// Rule ops → kernel requests: ip rule add (CREATE|EXCL), ip rule del with every attribute
// of the rule observed, its protocol included (the kernel deletes the first rule that
// matches all of them: never another agent's twin).
import type { RtnlRequest } from "../kernel.ts"
import type { RuleOp } from "./model.ts"

export type RuleCreate = Extract<RuleOp, { kind: "create" }>
export type RuleDelete = Extract<RuleOp, { kind: "delete" }>

export function ruleCreate(op: RuleCreate, label: string): RtnlRequest[] {
  return [{ object: "rule", request: { op: "create", rule: op.rule }, label }]
}

export function ruleDelete(op: RuleDelete, label: string): RtnlRequest[] {
  return [{ object: "rule", request: { op: "delete", rule: op.rule }, label }]
}
