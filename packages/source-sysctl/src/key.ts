// sysctl keys and values, normalised the way systemd-sysctl does (sysctl.d(5)):
// "net.ipv4.ip_forward" and "net/ipv4/ip_forward" are the same key; when the first
// separator is a dot, dots and slashes swap, so "net.ipv4.conf.eth0/100.rp_filter" is
// the interface "eth0.100". The canonical form here is the path under /proc/sys.

/** "net.ipv4.conf.eth0/100.rp_filter" → "net/ipv4/conf/eth0.100/rp_filter" */
export function keyPath(key: string): string {
  const k = key.trim().replace(/^\/+/, "")
  const firstSlash = k.indexOf("/")
  const firstDot = k.indexOf(".")
  if (firstDot >= 0 && (firstSlash < 0 || firstDot < firstSlash)) {
    return k.replace(/[./]/g, (c) => (c === "." ? "/" : "."))
  }
  return k
}

/** The dotted spelling of a path, as `sysctl` prints it: "net/ipv4/conf/eth0.100/rp_filter" → "net.ipv4.conf.eth0/100.rp_filter" */
export function keyName(path: string): string {
  return path.replace(/[./]/g, (c) => (c === "/" ? "." : "/"))
}

const IFACE_DIRS = /^net\/(ipv4|ipv6)\/(conf|neigh)\/([^/]+)\//
const MPLS_DIR = /^net\/mpls\/conf\/([^/]+)\//

/** The interface a per-interface key belongs to ("all" and "default" are not interfaces). */
export function interfaceOf(path: string): string | undefined {
  const m = IFACE_DIRS.exec(path) ?? MPLS_DIR.exec(path)
  const name = m ? m[m.length - 1] : undefined
  return name && name !== "all" && name !== "default" ? name : undefined
}

/** Values compare after the kernel's own formatting: whitespace runs become one space. */
export function normaliseValue(v: string | number | boolean): string {
  if (typeof v === "boolean") return v ? "1" : "0"
  return String(v).trim().split(/\s+/).join(" ")
}

/** Keys Linx may write by default: those under net/, which are per network namespace. */
export function isNamespaced(path: string): boolean {
  return path.startsWith("net/")
}

export function isValidKeyPath(path: string): boolean {
  return (
    /^[A-Za-z0-9_][A-Za-z0-9_.\-:@+/]*$/.test(path) &&
    !path.split("/").some((c) => c === "" || c === "." || c === "..") &&
    !path.includes("*")
  )
}
