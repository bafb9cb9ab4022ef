/**
 * Which netfilter evaluation a node needs: iptables only (from iptables-save), or the kernel's
 * interleaving of nftables base chains with iptables' tables when the node has nft tables of its own
 * (kube-proxy's nftables mode, an nft-based CNI or firewall), or IPVS on top of iptables
 * (kube-proxy's IPVS mode). trace calls this once per node visit.
 */
import type {NodeDatapath} from '../model/node.js'
import {nftChainServicePort} from '../model/kube-proxy-nft-view.js'
import type {TrailEntry} from '../datapath/netfilter/outcomes.js'
import type {NetfilterContext, Packet} from '../datapath/netfilter/packet.js'
import {traverse, type RouteFn, type TraversalPath, type TraverseOutcome} from '../datapath/netfilter/traverse.js'
import {hasOwnNftChains, traverseNode} from '../datapath/nftables/pipeline.js'
import {nftIndex} from '../datapath/nftables/ruleset.js'

/** Rule evidence the node lacks for an evaluation: none when iptables-save or an nft ruleset with base chains is there. */
export function nodeRulesMissing(dp: NodeDatapath): 'iptables-save'[] {
  if (dp.iptables4) return []
  // iptables-nft's tables are only readable from iptables-save: without it, their rules are missing evidence.
  if (dp.nft && hasOwnNftChains(dp.nft, true) && !nftIndex(dp.nft).tables.some((t) => t.xtables)) return []
  return ['iptables-save']
}

export function nodeTraverse(dp: NodeDatapath, path: TraversalPath, packet: Packet, nf: NetfilterContext, route: RouteFn): TraverseOutcome[] {
  if (hasOwnNftChains(dp.nft, dp.iptables4 !== undefined)) {
    return traverseNode({...(dp.iptables4 ? {iptables: dp.iptables4} : {}), nft: dp.nft}, path, packet, nf, route)
  }
  return traverse(dp.iptables4 as NonNullable<NodeDatapath['iptables4']>, path, packet, nf, route)
}

/** The Service a DNAT rule belongs to, "ns/name:port": its comment (iptables), or its chain's name (kube-proxy's nft chains). */
export function natLabel(entry: TrailEntry | undefined): string | undefined {
  if (!entry) return undefined
  return entry.comment ?? (entry.nft ? nftChainServicePort(entry.chain)?.portName : undefined)
}

/** Whether the node's IPVS translation can be traced: not yet (issue 15, part 4), so IPVS Services stay unknown-datapath. */
export function ipvsReadable(_dp: NodeDatapath): boolean {
  return false
}
