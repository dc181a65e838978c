// Desired nexthop objects (ip nexthop): one gateway/device, a blackhole, or a group of
// other nexthops with weights. Routes use them by id (`nhid`).
import * as v from "valibot"
import { Ip, LinkName } from "../schema-common.ts"

const Id = v.pipe(
  v.number("an id is a number"),
  v.integer(),
  v.minValue(1, "nexthop ids start at 1"),
  v.maxValue(0xffffffff),
)

export const NexthopObjectSchema = v.pipe(
  v.strictObject({
    id: Id,
    via: v.optional(Ip),
    dev: v.optional(LinkName),
    onlink: v.optional(v.boolean()),
    blackhole: v.optional(v.boolean()),
    /** the family of a dev-only or blackhole nexthop (else its gateway's) */
    family: v.optional(v.picklist(["inet", "inet6"])),
    group: v.optional(
      v.pipe(
        v.array(
          v.strictObject({
            id: Id,
            weight: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(256)), 1),
          }),
        ),
        v.minLength(1, "a group has at least one member"),
      ),
    ),
  }),
  v.check((n) => !n.group || (!n.via && !n.dev && !n.blackhole), "a group has members only (no via, dev or blackhole)"),
  v.check((n) => !n.blackhole || (!n.via && !n.dev), "a blackhole has no via or dev"),
  v.check((n) => !!(n.group || n.blackhole || n.via || n.dev), "a nexthop needs via, dev, blackhole or group"),
  v.check((n) => !n.via || n.dev !== undefined || !n.onlink, "onlink needs dev"),
)

export type NexthopObjectSpec = v.InferOutput<typeof NexthopObjectSchema>
