// Validation messages in words: an unknown key says so and suggests the closest known one
// ("unknown key mtuu: did you mean mtu?"), found by walking a valibot schema along the
// issue's path (other Standard Schemas get the words without the suggestion).

interface SchemaNode {
  type?: string
  entries?: Record<string, SchemaNode>
  options?: SchemaNode[]
  key?: string
  wrapped?: SchemaNode
  pipe?: SchemaNode[]
  item?: SchemaNode
  getter?: (input: unknown) => SchemaNode
}

/** Edit distance, for suggestions (short strings only). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!
    d[0] = i
    for (let j = 1; j <= b.length; j++) {
      const keep = d[j]!
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = keep
    }
  }
  return d[b.length]!
}

/** The object schema a value at `input` is checked against, unwrapping pipes, optionals and variants. */
function unwrap(node: SchemaNode | undefined, input: unknown): SchemaNode | undefined {
  for (let depth = 0; node && depth < 16; depth++) {
    if (node.entries) return node
    if (node.pipe?.[0] && node.pipe[0] !== node) node = node.pipe[0]
    else if (node.wrapped) node = node.wrapped
    else if (node.getter) node = node.getter(input)
    else if (node.options && node.key && typeof input === "object" && input !== null) {
      const tag = (input as Record<string, unknown>)[node.key]
      node = node.options.find(
        (o) => unwrap(o, input)?.entries?.[node!.key!] !== undefined && matches(o, node!.key!, tag),
      )
    } else return undefined
  }
  return undefined
}

function matches(option: SchemaNode, key: string, tag: unknown): boolean {
  const e = unwrap(option, undefined)?.entries?.[key] as { literal?: unknown; options?: unknown[] } | undefined
  return e?.literal === tag || (Array.isArray(e?.options) && e.options.includes(tag))
}

/** The known keys of the object at `path` (the path of an unknown key, whose last item is that key). */
function knownKeys(schema: unknown, path: readonly { key?: unknown; input?: unknown }[]): string[] | undefined {
  let node: SchemaNode | undefined = schema as SchemaNode
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i]!
    const obj = unwrap(node, step.input)
    const k = step.key
    if (obj?.entries && typeof k === "string") node = obj.entries[k]
    else {
      // an array item: the array's item schema
      let n: SchemaNode | undefined = node
      for (let d = 0; n && !n.item && d < 8; d++) n = n.pipe?.[0] ?? n.wrapped
      node = n?.item
    }
  }
  const last = path.at(-1)
  const obj = unwrap(node, last?.input)
  return obj?.entries ? Object.keys(obj.entries) : undefined
}

const UNKNOWN_KEY = /^Invalid key: Expected never but received "(.*)"$/
const MISSING_KEY = /^Invalid key: Expected "(.*)" but received undefined$/

/** The message of an issue in words; `schema` (valibot) lets an unknown key get a suggestion. */
export function inWords(issue: { message: string; path?: readonly unknown[] | undefined }, schema?: unknown): string {
  const missing = MISSING_KEY.exec(issue.message)
  if (missing) return `"${missing[1]}" is required`
  const m = UNKNOWN_KEY.exec(issue.message)
  if (!m) return issue.message
  const key = m[1]!
  const known = schema && issue.path ? knownKeys(schema, issue.path as { key?: unknown; input?: unknown }[]) : undefined
  const close = known
    ?.map((k) => [k, distance(key, k)] as const)
    .filter(([, d]) => d <= (key.length <= 3 ? 1 : 2))
    .sort((a, b) => a[1] - b[1])[0]?.[0]
  if (close) return `unknown key "${key}": did you mean "${close}"?`
  return known ? `unknown key "${key}" (known: ${known.join(", ")})` : `unknown key "${key}"`
}
