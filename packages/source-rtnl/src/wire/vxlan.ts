// A vxlan link's IFLA_INFO_DATA (linux/if_link.h IFLA_VXLAN_*), as the link decoder reads it.
import { readU8, readU16, readU32 } from "@linx/netlink/wire"
import { formatIp } from "@linx/netlink/ip"
import * as c from "./constants.ts"

/** A vxlan link's settings as the kernel reports them. */
export interface VxlanInfo {
  vni: number
  local?: string
  /** remote (unicast) or group (multicast): IFLA_VXLAN_GROUP holds either */
  remote?: string
  /** ifindex of the underlay link (0: none) */
  link: number
  port: number
  learning: boolean
  ttl: number
}

/** One IFLA_VXLAN_* attribute into `x`. */
export function decodeVxlanAttr(x: VxlanInfo, v: DataView, type: number, off: number, len: number): void {
  const bytes = () => new Uint8Array(v.buffer, v.byteOffset + off, len)
  // an unset address is reported as all zeros
  const ip = () => (bytes().some((b) => b !== 0) ? formatIp(bytes()) : undefined)
  switch (type) {
    case c.VXLAN.ID:
      x.vni = readU32(v, off, len)
      break
    case c.VXLAN.GROUP:
    case c.VXLAN.GROUP6: {
      const a = ip()
      if (a) x.remote = a
      break
    }
    case c.VXLAN.LOCAL:
    case c.VXLAN.LOCAL6: {
      const a = ip()
      if (a) x.local = a
      break
    }
    case c.VXLAN.LINK:
      x.link = readU32(v, off, len)
      break
    case c.VXLAN.PORT:
      x.port = readU16(v, off, len, true)
      break
    case c.VXLAN.LEARNING:
      x.learning = readU8(v, off, len) !== 0
      break
    case c.VXLAN.TTL:
      x.ttl = readU8(v, off, len)
      break
  }
}
