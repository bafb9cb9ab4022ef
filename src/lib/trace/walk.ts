/** What the walk over nodes shares: the model, the resolved endpoints, and what a finished path is. */
import type {ClusterModel, PodModel} from '../model/cluster.js'
import type {NodeDatapath} from '../model/node.js'
import type {ResolvedEndpoint} from './endpoints.js'
import type {Hop, ReasonCode, TraceProtocol} from './types.js'

/** A hop before numbering. */
export type HopDraft = Omit<Hop, 'index'>

export interface Walk {
  cluster: ClusterModel
  node: (name: string) => NodeDatapath | undefined
  source: ResolvedEndpoint
  destination: ResolvedEndpoint
  protocol: TraceProtocol
  /** Payload bytes (--size); MTU checks fail only when it is given. */
  size?: number
}

/** One way a packet can end: its hops from the start, and how it ended. */
export interface Leaf {
  hops: HopDraft[]
  verdict: 'delivered' | 'dropped' | 'unknown'
  failure?: {code: ReasonCode; message: string; hop: HopDraft}
  /** The DNAT a Service's rules chose, and the index (in hops) of the hop where it happened. */
  dnat?: {ip: string; port: number | null; probability: number; at: number}
  masquerade: boolean
}

export function podByIp(cluster: ClusterModel, ip: string): PodModel | undefined {
  return cluster.pods.find((p) => !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.podIPs.includes(ip))
}

/** Bytes on the wire for a payload of `size`: IPv4 header + ICMP/UDP (8) or TCP (20) header. */
export function packetBytes(size: number, protocol: TraceProtocol): number {
  return size + 20 + (protocol === 'tcp' ? 20 : 8)
}

export function hop(node: string | null, device: string | null, label: string, action: string, status: Hop['status'], evidence: Hop['evidence'], code?: ReasonCode): HopDraft {
  return {node, device, label, action, status, ...(code ? {code} : {}), evidence}
}

export function failLeaf(hops: HopDraft[], h: HopDraft, code: ReasonCode, message: string, rest: Pick<Leaf, 'dnat' | 'masquerade'>, unknown = false): Leaf {
  const failed = {...h, status: unknown ? ('unknown' as const) : ('fail' as const), code}
  return {hops: [...hops, failed], verdict: unknown ? 'unknown' : 'dropped', failure: {code, message, hop: failed}, ...rest}
}
