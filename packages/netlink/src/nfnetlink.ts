// nfnetlink framing for nf_tables transactions (linux/netfilter/nfnetlink.h,
// nf_tables.h): message types, the nfgenmsg header, batch begin/end with the
// generation guard, and the ruleset generation. The netfilter source builds its
// objects on top of this.
//   struct nfgenmsg { __u8 nfgen_family; __u8 version; __be16 res_id; };
import type { NetlinkSocket } from "./socket.ts"
import { NLM_F_REQUEST } from "./wire/constants.ts"
import { forEachAttr } from "./wire/reader.ts"
import { MessageWriter } from "./wire/writer.ts"

export const NFNETLINK_V0 = 0
export const NFNL_SUBSYS_NFTABLES = 10
export const NFNL_MSG_BATCH_BEGIN = 0x10
export const NFNL_MSG_BATCH_END = 0x11
export const NFNL_BATCH_GENID = 1
export const NFGENMSG_LEN = 4

// enum nf_tables_msg_types
export const NFT_MSG_NEWTABLE = 0
export const NFT_MSG_GETTABLE = 1
export const NFT_MSG_DELTABLE = 2
export const NFT_MSG_NEWCHAIN = 3
export const NFT_MSG_GETCHAIN = 4
export const NFT_MSG_DELCHAIN = 5
export const NFT_MSG_NEWRULE = 6
export const NFT_MSG_GETRULE = 7
export const NFT_MSG_DELRULE = 8
export const NFT_MSG_NEWSET = 9
export const NFT_MSG_GETSET = 10
export const NFT_MSG_DELSET = 11
export const NFT_MSG_NEWSETELEM = 12
export const NFT_MSG_GETSETELEM = 13
export const NFT_MSG_DELSETELEM = 14
export const NFT_MSG_NEWGEN = 15
export const NFT_MSG_GETGEN = 16
export const NFT_MSG_NEWOBJ = 18
export const NFT_MSG_GETOBJ = 19
export const NFT_MSG_DELOBJ = 20
export const NFTA_GEN_ID = 1

/** (NFNL_SUBSYS_NFTABLES << 8) | msg */
export function nftType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg
}

/** Writes struct nfgenmsg (family as the NFPROTO_* number). */
export function writeNfgenmsg(w: MessageWriter, family: number, resId = 0): MessageWriter {
  return w.u8(family).u8(NFNETLINK_V0).u16be(resId)
}

/**
 * Starts an nf_tables transaction. With `genId`, the kernel refuses the whole batch
 * (ERESTART) when the ruleset changed since that generation was read: the guard that
 * makes observe → diff → apply safe against concurrent writers.
 */
export function beginBatch(w: MessageWriter, options: { genId?: number } = {}): MessageWriter {
  w.begin(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, "batch begin")
  writeNfgenmsg(w, 0, NFNL_SUBSYS_NFTABLES)
  if (options.genId !== undefined) w.attrU32be(NFNL_BATCH_GENID, options.genId)
  return w.end()
}

/** Ends (commits) an nf_tables transaction. A batch sent without it is checked, never committed. */
export function endBatch(w: MessageWriter): MessageWriter {
  w.begin(NFNL_MSG_BATCH_END, NLM_F_REQUEST, "batch end")
  writeNfgenmsg(w, 0, NFNL_SUBSYS_NFTABLES)
  return w.end()
}

/** The ruleset generation (nft list ruleset reads it before and after to detect changes). */
export function getGeneration(sock: NetlinkSocket): number {
  const w = new MessageWriter(64)
  w.begin(nftType(NFT_MSG_GETGEN), 0, "get generation")
  writeNfgenmsg(w, 0)
  w.end()
  for (const m of sock.request(w)) {
    if (m.type !== nftType(NFT_MSG_NEWGEN)) continue
    let id: number | undefined
    forEachAttr(m.view, m.payload + NFGENMSG_LEN, m.end, (type, off) => {
      if (type === NFTA_GEN_ID) id = m.view.getUint32(off, false)
    })
    if (id !== undefined) return id
  }
  throw new Error("the kernel answered NFT_MSG_GETGEN without a generation id")
}
