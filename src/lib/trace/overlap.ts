/**
 * A route that hands a destination to a local bridge where no local pod has it: whose address it
 * really is. When another node owns it (its pod CIDR in the API, or an address on its own pod
 * bridge), the local route overlaps that node's range: cidr-overlap, naming the route line and the
 * owner. Also: telling a switched packet from a routed one, and finding a pod by an address the API
 * does not list (a second address on its eth0) through the node's neighbour table.
 */
import type {PodModel} from '../model/cluster.js'
import type {NodeDatapath} from '../model/node.js'
import {cidrContains, cidrOverlaps} from '../net/cidr.js'
import type {LookupResult} from '../net/route-lookup.js'
import {describeRoute} from '../parse/iproute2/routes.js'
import {neighEvidence, routeEvidence, sourceOf} from './evidence.js'
import type {ReasonCode, TraceEvidence} from './types.js'
import {podByIp, type Walk} from './walk.js'

export interface Misdelivery {
  code: ReasonCode
  message: string
  evidence: TraceEvidence[]
  /** The evidence cannot tell whether something on the device answers (an unknown hop, not a drop). */
  unknown?: boolean
}

function addrEvidence(node: NodeDatapath, ifname: string, local: string, prefixlen: number): TraceEvidence {
  return {source: sourceOf(node, 'addrs'), text: `${ifname}: ${local.includes(':') ? 'inet6' : 'inet'} ${local}/${prefixlen}`}
}

/** IPv4 and global IPv6 addresses on a device (callers match them to an address, which picks the family): [address, prefix length, connected CIDR]. */
function inetOn(node: NodeDatapath, ifname: string): {local: string; prefixlen: number; cidr: string}[] {
  return (node.addrs?.find((i) => i.ifname === ifname)?.addrs ?? []).filter((a) => a.family === 'inet' || (a.family === 'inet6' && !a.local.startsWith('fe80:')))
}

/**
 * Switched, not routed: the source and destination share a subnet of the bridge (the pod's own
 * on-link range). Without addresses on the bridge, any destination the bridge routes is taken as on-link.
 */
export function onOneSubnet(node: NodeDatapath, bridge: string, src: string, dst: string): boolean {
  if (!src) return true
  const subnets = inetOn(node, bridge).filter((a) => cidrContains(a.cidr, src))
  return subnets.length === 0 || subnets.some((a) => cidrContains(a.cidr, dst))
}

/** A pod on `nodeName` that answers for `ip` on `dev`: the neighbour entry's MAC is the MAC of one of its API addresses. */
export function localPodByNeighbour(w: Walk, node: NodeDatapath, dev: string, ip: string, nodeName: string): {pod: PodModel; evidence: TraceEvidence[]} | undefined {
  const entry = node.neighbours?.find((n) => n.dst === ip && n.dev === dev && n.lladdr)
  const mac = entry?.lladdr?.toLowerCase()
  if (!entry || !mac) return undefined
  for (const other of node.neighbours ?? []) {
    if (other === entry || other.dev !== dev || other.lladdr?.toLowerCase() !== mac) continue
    const pod = podByIp(w.cluster, other.dst)
    if (pod && pod.node === nodeName) {
      return {pod, evidence: [neighEvidence(node, entry), neighEvidence(node, other), {source: `Pod ${pod.namespace}/${pod.name}`, text: `status.podIP: ${other.dst}; spec.nodeName: ${pod.node}`}]}
    }
  }
  return undefined
}

export function misdelivered(w: Walk, node: NodeDatapath, route: LookupResult, dst: string): Misdelivery {
  const dev = route.dev ?? '?'
  const line = route.route ? describeRoute(route.route) : (route.trail.at(-1) ?? route.kind)
  const evidence: TraceEvidence[] = route.route ? [routeEvidence(node, route.route)] : []
  const prefix = route.route?.prefixLength ?? 0
  for (const a of inetOn(node, dev).filter((x) => cidrContains(x.cidr, dst))) evidence.push(addrEvidence(node, dev, a.local, a.prefixlen))
  const routed = `${node.name} sends ${dst} onto its own ${dev} by "${line}"`

  // The API places the address on another node: a pod there, or that node's pod CIDR.
  const pod = podByIp(w.cluster, dst)
  const owner = w.cluster.nodes.find((n) => n.name !== node.name && (pod ? n.name === pod.node : n.podCIDRs.some((c) => cidrContains(c, dst))))
  const ownerCidr = owner?.podCIDRs.find((c) => cidrContains(c, dst) && (!route.route || cidrOverlaps(c, route.route.dst)))
  if (owner && ownerCidr) {
    const i = owner.podCIDRs.indexOf(ownerCidr)
    evidence.push({source: `Node ${owner.name}`, text: `spec.podCIDRs[${i}]: ${ownerCidr}`})
    const who = pod ? `pod ${pod.namespace}/${pod.name} on ${owner.name}` : `in ${owner.name}'s pod CIDR`
    return {code: 'cidr-overlap', evidence, message: `${routed}, but ${dst} is ${who}: ${node.name}'s ${route.route?.dst ?? dev} overlaps ${owner.name}'s pod CIDR ${ownerCidr}`}
  }

  // Not in the API: another node whose own pod bridge holds a more specific subnet with the address.
  let best: {node: string; ifname: string; local: string; prefixlen: number; ev: TraceEvidence} | undefined
  for (const n of w.cluster.nodes) {
    if (n.name === node.name) continue
    const other = w.node(n.name)
    if (!other) continue
    for (const l of other.links ?? []) {
      if (l.kind !== 'bridge') continue
      for (const a of inetOn(other, l.ifname)) {
        if (!cidrContains(a.cidr, dst) || a.prefixlen <= prefix || (best && best.prefixlen >= a.prefixlen)) continue
        best = {node: n.name, ifname: l.ifname, local: a.local, prefixlen: a.prefixlen, ev: addrEvidence(other, l.ifname, a.local, a.prefixlen)}
      }
    }
  }
  if (best) {
    evidence.push(best.ev)
    return {code: 'cidr-overlap', evidence, message: `${routed}, where nothing has that address; it lives on ${best.node}, whose ${best.ifname} holds ${best.local}/${best.prefixlen}: ${node.name}'s ${route.route?.dst ?? dev} overlaps that range`}
  }

  const mine = w.cluster.nodes.find((n) => n.name === node.name)?.podCIDRs.find((c) => cidrContains(c, dst))
  if (mine && !pod) {
    evidence.push({source: 'cluster state', text: `no Pod has status.podIP ${dst}`})
    return {code: 'address-unowned', evidence, message: `no pod has ${dst}: it is in ${node.name}'s pod CIDR ${mine}, but no pod in the cluster state has it, so nothing on ${dev} answers for it`}
  }
  // Outside every pod CIDR and no pod's: something the API does not list may still own it on the
  // device (a container outside Kubernetes, a second address on a pod's eth0). Only the node's
  // neighbour table can say: an entry that failed means nothing answered ARP; without one, or with
  // a MAC that is no pod's, the evidence cannot tell.
  const entry = node.neighbours?.find((n) => n.dst === dst && n.dev === dev)
  const nobody = `no pod in the cluster state has ${dst}`
  if (entry && !entry.lladdr && entry.state.some((s) => s === 'FAILED' || s === 'INCOMPLETE')) {
    evidence.push(neighEvidence(node, entry))
    return {code: 'route-missing', evidence, message: `${node.name} routes ${dst} to ${dev}, but ${nobody} and nothing on ${dev} answered ARP for it (${entry.state.join(',')})`}
  }
  if (entry) evidence.push(neighEvidence(node, entry))
  else evidence.push({source: sourceOf(node, 'neigh'), text: node.neighbours ? `no entry for ${dst} on ${dev}` : 'not gathered'})
  const why = entry?.lladdr ? `${dst} answers from ${entry.lladdr} on ${dev}, which is no pod's` : `${node.name}'s neighbour table has no entry for it on ${dev}`
  return {code: 'evidence-missing', unknown: true, evidence, message: `${node.name} routes ${dst} to ${dev}, but ${nobody} and ${why}: whether something outside the cluster state answers there is not in the evidence`}
}
