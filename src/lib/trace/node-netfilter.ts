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
import {traverseIpvs, type IpvsOptions} from '../datapath/ipvs/traverse.js'
import {familyDatapath} from '../model/node-family.js'
import type {Family} from '../net/cidr.js'

/** Rule evidence the node lacks for an evaluation: none when iptables-save or an nft ruleset with base chains is there. */
export function nodeRulesMissing(dp: NodeDatapath, family: Family = 4): ('iptables-save' | 'ip6tables-save')[] {
  const f = familyDatapath(dp, family)
  if (f.iptables) return []
  // iptables-nft's tables are only readable from iptables-save: without it, their rules are missing evidence.
  const xtFamily = family === 6 ? 'ip6' : 'ip'
  if (dp.nft && hasOwnNftChains(dp.nft, true) && !nftIndex(dp.nft).tables.some((t) => t.xtables && t.family === xtFamily)) return []
  return [f.iptablesId]
}

/** The packet through the node's netfilter of `family`: ip6tables-save's rules (and ip6/inet nft tables) for IPv6. */
export function nodeTraverse(dp: NodeDatapath, path: TraversalPath, packet: Packet, nf: NetfilterContext, route: RouteFn, family: Family = 4, ipvs: Pick<IpvsOptions, 'name'> = {}): TraverseOutcome[] {
  const iptables = familyDatapath(dp, family).iptables
  // kube-proxy's IPVS mode: its virtual services between the iptables rules and ipsets around them (issue 15).
  if (iptables && ipvsReadable(dp)) return traverseIpvs(iptables, dp.ipvs as NonNullable<NodeDatapath['ipvs']>, path, packet, nf, route, ipvs)
  if (hasOwnNftChains(dp.nft, iptables !== undefined)) {
    return traverseNode({...(iptables ? {iptables} : {}), nft: dp.nft}, path, packet, nf, route)
  }
  return traverse(iptables as NonNullable<NodeDatapath['iptables4']>, path, packet, nf, route)
}

/** The Service a DNAT rule belongs to, "ns/name:port": its comment (iptables), or its chain's name (kube-proxy's nft chains). */
export function natLabel(entry: TrailEntry | undefined): string | undefined {
  if (!entry) return undefined
  return entry.comment ?? (entry.nft ? nftChainServicePort(entry.chain)?.portName : undefined)
}

/**
 * Whether the node's IPVS translation can be traced: its virtual services (ipvsadm) and the iptables
 * rules around them. The ipsets those rules match are read too when gathered; without them a
 * `-m set` match is followed both ways and the branch says why.
 */
export function ipvsReadable(dp: NodeDatapath): boolean {
  return dp.iptables4 !== undefined && dp.ipvs !== undefined && (dp.ipvs.services.length > 0 || (dp.links?.some((l) => l.ifname === 'kube-ipvs0') ?? false))
}
