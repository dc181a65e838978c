// The atoms every rtnl schema is built of (link names, MACs, IPs, mtu) and what an
// issue may echo of a bad value.
import * as v from "valibot"
import { canonicalIp, canonicalMac } from "@linx/netlink/ip"

/** What an error message echoes of a bad value: at most 64 characters. */
export function clip(x: unknown): string {
  const s = String(x)
  return s.length > 64 ? `${s.slice(0, 61)}...` : s
}

type PathKey = string | number
/** A valibot issue path from plain keys (for issues raised by the whole-document checks). */
export function issuePath(input: unknown, keys: PathKey[]) {
  return keys.map((key) => ({ type: "object", origin: "value", input, key, value: undefined })) as never
}

/** dev_valid_name() in net/core/dev.c: 1–15 bytes, not "." or "..", no "/", ":" or whitespace. */
export function isValidLinkName(s: string): boolean {
  // the kernel's dev_valid_name, plus no control characters: a NUL would truncate the name
  // the kernel keeps, and the link would be deleted and recreated every pass
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  return s.length > 0 && Buffer.byteLength(s) <= 15 && s !== "." && s !== ".." && !/[/:\s\x00-\x1f\x7f]/.test(s)
}

export const LinkName = v.pipe(
  v.string("a link name must be a string"),
  v.check(
    isValidLinkName,
    (i) =>
      `${JSON.stringify(clip(i.input))} is not a valid link name (1–15 bytes, no "/", ":", spaces or control characters)`,
  ),
)

export const Mac = v.pipe(
  v.string(),
  v.check(
    (s) => canonicalMac(s) !== undefined,
    (i) => `"${i.input}" is not a MAC address (aa:bb:cc:dd:ee:ff)`,
  ),
  v.transform((s) => canonicalMac(s)!),
)

export const Mtu = v.pipe(
  v.number("mtu must be a number"),
  v.integer("mtu must be an integer"),
  v.minValue(68, (i) => `mtu ${i.input} is below the minimum of 68`),
  v.maxValue(65535, (i) => `mtu ${i.input} is above the maximum of 65535`),
)

export const U32 = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff))

export const Ip = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const ip = canonicalIp(dataset.value)
    if (ip !== undefined) return ip
    addIssue({ message: `"${dataset.value}" is not an IPv4 or IPv6 address` })
    return NEVER
  }),
)

/** A network namespace reference: a name under /run/netns or a path. */
export const NetnsName = v.pipe(v.string(), v.minLength(1, "a namespace name must not be empty"))
