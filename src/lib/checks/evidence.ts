/** Evidence builders shared by checks, so every finding quotes its sources the same way. */
import type {Link} from '../parse/iproute2/links.js'
import type {SysctlEntry} from '../parse/sysctl.js'
import type {NodeDatapath} from '../model/node.js'
import {isPodFacingVeth} from '../model/pod-veth.js'
import type {Evidence} from '../report/finding.js'

export function api(kind: string, key: string, field: string, text: string): Evidence {
  return {source: `api: ${kind} ${key} ${field}`, text}
}

export function nodeEvidence(node: NodeDatapath, id: string, text: string): Evidence {
  return {source: node.evidence[id]?.source ?? `${node.name}: ${id}`, text}
}

/** A sysctl as grep printed it: "/proc/sys/net/ipv4/ip_forward:0". */
export function sysctlText(e: SysctlEntry): string {
  return `${e.path}:${e.value}`
}

/** One `ip -d link` entry in ip's own words: "4: veth-pod1@if2 veth mtu 1450 master cbr0 state UP <UP,LOWER_UP>". */
export function linkText(l: Link): string {
  const parts = [`${l.ifindex}: ${l.ifname}${l.link ? `@${l.link}` : l.linkIndex !== undefined ? `@if${l.linkIndex}` : ''}`]
  if (l.kind) parts.push(l.kind)
  if (l.mtu !== undefined) parts.push(`mtu ${l.mtu}`)
  if (l.master) parts.push(`master ${l.master}`)
  if (l.operstate) parts.push(`state ${l.operstate}`)
  if (l.linkNetnsid !== undefined) parts.push(`link-netnsid ${l.linkNetnsid}`)
  parts.push(`<${l.flags.join(',')}>`)
  return parts.join(' ')
}

export const OVERLAY_KINDS = new Set(['vxlan', 'geneve', 'ipip', 'gre', 'wireguard', 'sit', 'ip6tnl'])

export {OWN_IPAM_CNIS} from '../model/cluster-cni.js'

export function selectorText(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
}

/** The names CNI bridge plugins use by default (bridge plugin, kubenet, kube-router). */
const CNI_BRIDGE_NAMES = new Set(['cni0', 'cbr0', 'kube-bridge'])

/** Bridges that carry pods: a well-known CNI bridge, the CNI config's bridge, or one holding a pod's veth. */
export function podBridges(node: NodeDatapath): Set<string> {
  const out = new Set<string>()
  for (const l of node.links ?? []) if (l.kind === 'bridge' && CNI_BRIDGE_NAMES.has(l.ifname)) out.add(l.ifname)
  for (const l of node.links ?? []) if (l.kind === 'veth' && l.linkNetnsid !== undefined && l.master) out.add(l.master)
  for (const f of node.cni ?? []) for (const p of f.parsed?.plugins ?? []) if (p.type === 'bridge') out.add(p.bridge ?? 'cni0')
  return out
}

/**
 * A veth whose peer is in another namespace and that carries no subnet address of either family
 * (only /32s or /128s): a pod's, not the node's uplink (the CNI ptp plugin, kindnet's, puts the
 * pods' gateway as a /32 on each; an IPv6-only node's uplink holds only its /64).
 */
export function isPodVeth(node: NodeDatapath, l: Link): boolean {
  return isPodFacingVeth(node, l)
}

/** CNIs that install a route per remote node pod CIDR: for them, falling through to the default route is a missing route. */
export const PER_NODE_ROUTE_CNIS = new Set(['flannel', 'kindnet', 'kube-router', 'weave', 'canal', 'antrea'])
