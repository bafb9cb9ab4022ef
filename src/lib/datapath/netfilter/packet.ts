/**
 * The packet the evaluator walks through netfilter, and the node facts a rule can ask about that the
 * packet itself does not carry (which addresses are local, which interfaces exist, ipset members).
 */
import type {NodeDatapath} from '../../model/node.js'
import type {Ipset} from '../../parse/ipset.js'
import {parseIp} from '../../net/cidr.js'

export type L4Protocol = 'tcp' | 'udp' | 'icmp' | 'sctp'

/** UNTRACKED is what a raw-table NOTRACK / CT --notrack turns a packet into. */
export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED'

/** Bridge ports, when the packet crosses a Linux bridge with br_netfilter on (physdev match). */
export interface PhysdevInfo {
  /** The bridge port it came in on. */
  in?: string
  /** The bridge port it leaves by; present means "being bridged" (--physdev-is-bridged). */
  out?: string
}

export interface Packet {
  family: 4 | 6
  src: string
  dst: string
  /** For family 6, 'icmp' means ICMPv6. */
  protocol: L4Protocol
  /** Unknown ports (an ephemeral client port) make a port match uncertain rather than false. */
  sport?: number
  dport?: number
  icmpType?: number
  icmpCode?: number
  /** Set TCP flags; a NEW TCP packet without them is taken to be a SYN. */
  tcpFlags?: readonly string[]
  /** Absent = no input device (locally generated); `-i x` then fails and `! -i x` matches, as in the kernel. */
  inIface?: string
  outIface?: string
  mark: number
  /** The kernel consults the nat table only for NEW (the first packet of a connection). */
  ctstate: CtState
  /** Conntrack mark, for -m connmark / CONNMARK --restore-mark; absent = unknown. */
  connmark?: number
  /** A second or later fragment (-f). */
  fragment?: boolean
  physdev?: PhysdevInfo
}

export interface NetfilterContext {
  /** Every address configured on the node (canonical text): `-m addrtype --dst-type LOCAL`. */
  localAddresses: ReadonlySet<string>
  /** IPv4 directed broadcast addresses of the node's subnets. */
  broadcastAddresses?: ReadonlySet<string>
  /** Interface name → its addresses (first = primary), for MASQUERADE/REDIRECT and --limit-iface-*. */
  interfaceAddresses?: ReadonlyMap<string, readonly string[]>
  /**
   * ipset name → its members: a set read from `ipset save` (every type kube-proxy uses: hash:ip,
   * hash:net, hash:ip,port, hash:ip,port,ip, hash:ip,port,net, bitmap:port), or plain CIDRs for a
   * single-dimension set. A set not here makes its match uncertain.
   */
  ipsets?: ReadonlyMap<string, readonly string[] | Ipset>
}

/** Canonical text: what the context's address sets hold and what outcomes report. */
export function canonicalIp(text: string): string {
  return parseIp(text)?.text ?? text
}

/** Context from `ip addr` of a node; an empty one (nothing LOCAL) when addresses were not gathered. */
export function netfilterContext(node: Pick<NodeDatapath, 'addrs'> & Partial<Pick<NodeDatapath, 'ipsets'>>): NetfilterContext {
  const localAddresses = new Set<string>()
  const broadcastAddresses = new Set<string>()
  const interfaceAddresses = new Map<string, string[]>()
  for (const iface of node.addrs ?? []) {
    const list: string[] = []
    for (const a of iface.addrs) {
      localAddresses.add(a.local)
      list.push(a.local)
      if (a.broadcast !== undefined) broadcastAddresses.add(a.broadcast)
    }
    interfaceAddresses.set(iface.ifname, list)
  }
  const ipsets = node.ipsets ? new Map(node.ipsets.sets.map((s) => [s.name, s] as const)) : undefined
  return {localAddresses, broadcastAddresses, interfaceAddresses, ...(ipsets ? {ipsets} : {})}
}
