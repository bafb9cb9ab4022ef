/** What the walk over nodes shares: the model, the resolved endpoints, and what a finished path is. */
import type {ClusterModel, PodModel} from '../model/cluster.js'
import type {NodeDatapath} from '../model/node.js'
import type {PodRange} from '../model/pod-ranges.js'
import {cidrContains, type Family} from '../net/cidr.js'
import type {Packet} from '../datapath/netfilter/packet.js'
import type {ResolvedEndpoint} from './endpoints.js'
import type {Hop, ReasonCode, TraceProtocol} from './types.js'

/** A hop before numbering. */
export type HopDraft = Omit<Hop, 'index'>

export interface Walk {
  cluster: ClusterModel
  node: (name: string) => NodeDatapath | undefined
  /** Every node's pod ranges, as the checks read them (model/pod-ranges.ts): podCIDRs or IPAM blocks. */
  podRanges: () => PodRange[]
  source: ResolvedEndpoint
  destination: ResolvedEndpoint
  protocol: TraceProtocol
  /** The address family of the traced packet: every node is read in it (routes6, ip6tables, forwarding…). */
  family: Family
  /** Payload bytes (--size); MTU checks fail only when it is given. */
  size?: number
  /** Set while walking the reply back to the client (see reply.ts). */
  reply?: ReplyContext
}

/** What conntrack must undo on the reply's way back, and where. */
export interface ReplyContext {
  /** The node that DNATed the request: the reply's source is rewritten back there, if it passes netfilter. */
  dnat?: {node: string; original: string}
  /** The node that masqueraded the request: the reply arrives for its address and is sent on to the client. */
  unSnat?: {node: string; address: string; original: string}
}

/** One way a packet can end: its hops from the start, and how it ended. */
export interface Leaf {
  hops: HopDraft[]
  verdict: 'delivered' | 'dropped' | 'unknown'
  failure?: {code: ReasonCode; message: string; hop: HopDraft}
  /** The DNAT a Service's rules chose, the index (in hops) of the hop where it happened, and its node. */
  dnat?: {ip: string; port: number | null; probability: number; at: number; node?: string; original?: string}
  masquerade: boolean
  /** Where the request was masqueraded (SNAT to a node address), for the reply. */
  snat?: {node: string; address: string; original: string}
  /** For a delivered leaf: the packet as it arrived and where (for the reply walk). */
  delivered?: {node: string; packet: Packet; pod?: PodModel}
}

export function podByIp(cluster: ClusterModel, ip: string): PodModel | undefined {
  return cluster.pods.find((p) => !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.podIPs.includes(ip))
}

/**
 * The pod range of `node` (or of any node) that holds `ip`, in the words evidence uses: an IPAM
 * block read from the routes (Calico's /26), else the node's spec.podCIDRs.
 */
export function podRangeOf(w: Walk, ip: string, node?: string): {owner: string; cidr: string; kind: 'pod CIDR' | 'IPAM block'} | undefined {
  const range = w.podRanges()
    .filter((r) => (node === undefined || r.owner.name === node) && cidrContains(r.cidr, ip))
    .sort((a, b) => b.cidr.prefixLength - a.cidr.prefixLength)[0]
  if (range) return {owner: range.owner.name, cidr: range.cidr.text, kind: range.kind}
  const n = w.cluster.nodes.find((x) => (node === undefined || x.name === node) && x.podCIDRs.some((c) => cidrContains(c, ip)))
  const cidr = n?.podCIDRs.find((c) => cidrContains(c, ip))
  return n && cidr ? {owner: n.name, cidr, kind: 'pod CIDR'} : undefined
}

/** Bytes on the wire for a payload of `size`: the IPv4 (20) or IPv6 (40) header + ICMP/ICMPv6/UDP (8) or TCP (20) header. */
export function packetBytes(size: number, protocol: TraceProtocol, family: Family = 4): number {
  return size + (family === 6 ? 40 : 20) + (protocol === 'tcp' ? 20 : 8)
}

export function hop(node: string | null, device: string | null, label: string, action: string, status: Hop['status'], evidence: Hop['evidence'], code?: ReasonCode): HopDraft {
  return {node, device, label, action, status, ...(code ? {code} : {}), evidence}
}

export function failLeaf(hops: HopDraft[], h: HopDraft, code: ReasonCode, message: string, rest: Pick<Leaf, 'dnat' | 'masquerade' | 'snat'>, unknown = false): Leaf {
  const failed = {...h, status: unknown ? ('unknown' as const) : ('fail' as const), code}
  return {hops: [...hops, failed], verdict: unknown ? 'unknown' : 'dropped', failure: {code, message, hop: failed}, ...rest}
}
