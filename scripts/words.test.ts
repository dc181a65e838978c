// Validation messages across packages: a source's schema, read by reconcile's words.
// (A source package does not import the loop; this test may import both.)
import { describe, expect, test } from "bun:test"
import { formatIssues } from "@linx/reconcile"
import { RtnlDesiredSchema } from "@linx/source-rtnl"
import * as v from "valibot"

describe("validation words", () => {
  test("an unknown key in a route (the fast route list) still gets its did-you-mean, at its index", () => {
    const r = v.safeParse(RtnlDesiredSchema, {
      routes: [
        { dst: "10.0.0.0/8", via: "10.0.0.1" },
        { dst: "default", viaa: "10.0.0.1" },
      ],
    })
    expect(formatIssues(r.issues as never, RtnlDesiredSchema)).toContain(
      'routes.1.viaa: unknown key "viaa": did you mean "via"?',
    )
  })
})
