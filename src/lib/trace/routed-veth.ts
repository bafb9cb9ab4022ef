/**
 * Pods on routed veths, with no bridge: the CNI ptp plugin (kindnet), Calico, AWS VPC CNI. Each
 * pod's host-side veth is reached by a route to the pod's address (a /32, or a per-pod table
 * selected by `ip rule`); the veth carries at most a /32 gateway address (ptp) or none (Calico, AWS).
 * Which veth is which pod is named from evidence, strongest first: the node's route to the pod,
 * the CNI's cached result (its host interface for that address), host-local IPAM's container id
 * joined to that cache, the neighbour entry, and — when exactly one pod of the node and exactly
 * one routed veth lack a route — the pairing that leaves.
 */
import type {PodModel} from '../model/cluster.js'
import type {NodeDatapath} from '../model/node.js'
import {lookupRoute, type LookupResult} from '../net/route-lookup.js'
import {parseIp} from '../net/cidr.js'
import {familyDatapath, familyTables} from '../model/node-family.js'
import type {CniResultRecord} from '../parse/cni-records.js'
import type {Link} from '../parse/iproute2/links.js'
import {linkEvidence, linkIsUp, neighEvidence, routeEvidence, sourceOf} from './evidence.js'
import type {ReasonCode, TraceEvidence} from './types.js'
import {podRangeOf, type Walk} from './walk.js'

/** A veth whose peer is in another namespace and whose IPv4 addresses, if any, are /32s (a gateway, as ptp puts on each). */
export function isRoutedPodVeth(node: NodeDatapath, l: Link): boolean {
  if (l.kind !== 'veth' || l.linkNetnsid === undefined || l.master !== undefined) return false
  const inet = (node.addrs ?? []).filter((i) => i.ifname === l.ifname).flatMap((i) => i.addrs.filter((a) => a.family === 'inet'))
  return inet.every((a) => a.prefixlen === 32)
}

export interface NamedVeth {
  link: Link
  /** How it was identified, for the hop's action. */
  how: string
  evidence: TraceEvidence[]
}

/** A route that hands `ip` straight to a device (no gateway), in any table: the per-pod route. */
function directRouteTo(node: NodeDatapath, ip: string): {dev: string; evidence: TraceEvidence} | undefined {
  const f = familyDatapath(node, parseIp(ip)?.family ?? 4)
  const r = (f.routes ?? []).find((x) => x.prefixLength === f.hostPrefix && x.dst === `${ip}/${f.hostPrefix}` && !x.gateway && x.dev && (x.type === 'unicast' || x.type === 'unspec'))
  return r?.dev ? {dev: r.dev, evidence: routeEvidence(node, r)} : undefined
}

/** The CNI's own record of which host interface it created for `ip` (the bridge plugin also lists its bridge: the veth is the one). */
function fromCniRecords(node: NodeDatapath, ip: string): {link: Link; evidence: TraceEvidence[]} | undefined {
  const veth = (r: CniResultRecord): Link | undefined => {
    const found = r.hostInterfaces.map((n) => node.links?.find((l) => l.ifname === n && l.kind === 'veth')).filter((l): l is Link => l !== undefined)
    return found.length === 1 ? found[0] : undefined
  }
  const resultText = (r: CniResultRecord, l: Link) => `${r.path}: ips ${r.ips.join(', ') || '(none)'}; host interface ${l.ifname}`
  const byResult = node.cniResults?.find((r) => r.ips.includes(ip) && veth(r))
  const direct = byResult ? veth(byResult) : undefined
  if (byResult && direct) return {link: direct, evidence: [{source: sourceOf(node, 'cni-results'), text: resultText(byResult, direct)}]}
  const ipam = node.cniIpam?.find((r) => r.ip === ip && r.containerId)
  const joined = ipam ? node.cniResults?.find((r) => r.containerId === ipam.containerId && (!ipam.ifname || !r.ifName || r.ifName === ipam.ifname) && veth(r)) : undefined
  const link = joined ? veth(joined) : undefined
  if (ipam && joined && link) {
    return {
      link,
      evidence: [{source: sourceOf(node, 'cni-ipam'), text: `${ipam.path}: ${ipam.containerId ?? ''} ${ipam.ifname ?? ''}`.trim()}, {source: sourceOf(node, 'cni-results'), text: resultText(joined, link)}],
    }
  }
  return undefined
}

/**
 * The host-side veth of pod `ip` on `node`, or undefined when no evidence names it. `pods` are the
 * API's pods on this node (for the pairing of the one unrouted pod with the one unrouted veth).
 */
export function podVeth(node: NodeDatapath, ip: string, pods: PodModel[] = []): NamedVeth | undefined {
  const links = node.links ?? []
  const find = (name: string) => links.find((l) => l.ifname === name)
  const route = directRouteTo(node, ip)
  const routed = route ? find(route.dev) : undefined
  if (route && routed?.kind === 'veth') return {link: routed, how: `the node's route to ${ip}`, evidence: [route.evidence, linkEvidence(node, routed)]}
  const recorded = fromCniRecords(node, ip)
  if (recorded) return {link: recorded.link, how: "the CNI's record", evidence: [...recorded.evidence, linkEvidence(node, recorded.link)]}
  // A failed resolution says where the node looked for the address, not where it lives.
  const neigh = node.neighbours?.find((n) => n.dst === ip && n.dev && find(n.dev)?.kind === 'veth' && !n.state.includes('FAILED') && !n.state.includes('INCOMPLETE'))
  const byNeigh = neigh?.dev ? find(neigh.dev) : undefined
  if (neigh && byNeigh) return {link: byNeigh, how: `the neighbour entry for ${ip}`, evidence: [neighEvidence(node, neigh), linkEvidence(node, byNeigh)]}
  // The pairing that is left: one pod without a route, one routed veth without one.
  const fam = familyDatapath(node, parseIp(ip)?.family ?? 4)
  const unroutedPods = pods.filter((p) => p.podIPs.some((x) => parseIp(x)?.family === fam.family && !directRouteTo(node, x)))
  const unroutedVeths = links.filter((l) => isRoutedPodVeth(node, l) && !(fam.routes ?? []).some((r) => r.dev === l.ifname && r.prefixLength === fam.hostPrefix && r.type !== 'local'))
  const only = unroutedVeths[0]
  if (unroutedPods.length === 1 && unroutedPods[0]?.podIPs.includes(ip) && unroutedVeths.length === 1 && only) {
    return {
      link: only,
      how: `elimination: ${only.ifname} is the only pod veth without a per-pod route, and ${unroutedPods[0].name} the only pod of ${node.name} without one`,
      evidence: [linkEvidence(node, only), {source: sourceOf(node, fam.routesId), text: `(no route to ${ip}, none with dev ${only.ifname})`}],
    }
  }
  return undefined
}

/** The node routes pods by per-pod routes to veths (and not by a bridge's subnet). */
export function routesPodsByVeth(node: NodeDatapath): boolean {
  return (node.links ?? []).some((l) => isRoutedPodVeth(node, l))
}

export interface Unrouted {
  code: ReasonCode
  message: string
  evidence: TraceEvidence[]
  /** The veth, when evidence names it. */
  device?: string
}

/**
 * The node does not hand its own pod's address to a veth (its route leads elsewhere): the pod's
 * veth is down (the kernel drops routes through a link set down), or the per-pod route is missing.
 * undefined when the node is not a routed-veth node or the address is not one of its pods'.
 */
export function unroutedLocalPod(w: Walk, node: NodeDatapath, ip: string, decided?: {result: LookupResult; src?: string}): Unrouted | undefined {
  if (!routesPodsByVeth(node)) return undefined
  const here = w.cluster.pods.filter((p) => p.node === node.name && !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed')
  const pod = here.find((p) => p.podIPs.includes(ip))
  const own = podRangeOf(w, ip, node.name)
  const family = parseIp(ip)?.family ?? 4
  const back = lookupRoute(familyTables(node, family), {dst: ip})
  const trail: TraceEvidence[] = back.trail.map((t) => ({source: sourceOf(node, familyDatapath(node, family).routesId), text: t}))
  if (!pod) {
    if (!own) return undefined
    return {code: 'address-unowned', evidence: [...trail, {source: 'cluster state', text: `no Pod has status.podIP ${ip}`}], message: `no pod has ${ip}: it is in ${node.name}'s ${own.kind} ${own.cidr}, but no pod in the cluster state has it (and ${node.name} routes it to no veth)`}
  }
  const named = podVeth(node, ip, here)
  const podEv: TraceEvidence = {source: `Pod ${pod.namespace}/${pod.name}`, text: `status.podIP: ${ip}; spec.nodeName: ${node.name}`}
  if (named && !linkIsUp(named.link)) {
    return {code: 'link-down', device: named.link.ifname, evidence: [...named.evidence, podEv], message: `${node.name}: ${named.link.ifname}, the host side of pod ${pod.namespace}/${pod.name} (named by ${named.how}), is down, and the node's route to ${ip} went with it`}
  }
  // The node's own route reaches the veth, but this packet's rules chose another table first: a per-pod rule is gone.
  if (decided && named && back.kind === 'unicast' && back.dev === named.link.ifname && decided.result.dev !== named.link.ifname) {
    const chose = decided.result.trail.at(-1) ?? decided.result.kind
    return {
      code: 'route-missing',
      device: named.link.ifname,
      evidence: [...decided.result.trail.map((t) => ({source: `${sourceOf(node, 'rules4')} / ${sourceOf(node, 'routes4')}`, text: t})), ...named.evidence, podEv],
      message: `${node.name} routes traffic ${decided.src ? `from ${decided.src} ` : ''}to its own pod ${pod.namespace}/${pod.name} (${ip}) by ${chose}, not to its veth ${named.link.ifname}: no rule sends it to the table with the pod's route first (the AWS VPC CNI's per-pod "to ${ip} lookup main", priority 512)`,
    }
  }
  const which = named ? ` (its veth ${named.link.ifname}, named by ${named.how}, is up)` : ''
  return {code: 'route-missing', ...(named ? {device: named.link.ifname} : {}), evidence: [...trail, ...(named?.evidence ?? []), podEv], message: `${node.name} has no route to its own pod ${pod.namespace}/${pod.name} (${ip})${which}: a routed CNI needs one per pod`}
}

/** The gateway Calico gives every pod: no interface owns it; the host veth answers ARP for it by proxy. */
export const CALICO_GATEWAY = '169.254.1.1'

/**
 * A Calico-style pod leaves only if its host veth answers the pod's ARP for the link-local gateway:
 * proxy_arp on that veth (or on "all"), or the node owning the address. Other routed CNIs reach the
 * node differently (ptp: the gateway /32 on the veth; AWS/Azure: a static neighbour entry in the
 * pod; Cilium: eBPF), so only veths Calico made (cali*, or a Calico cluster's veth without an address)
 * are judged; undefined when the gateway is answered or it is not that layout or proxy_arp was not gathered.
 */
export function gatewayUnanswered(w: Walk, node: NodeDatapath, dev: string): {message: string; evidence: TraceEvidence[]} | undefined {
  const link = node.links?.find((l) => l.ifname === dev)
  // IPv6 pods find their gateway by NDP (Calico: fe80::ecee:eeff:feee:eeee, answered without proxy_arp): not judged here.
  if (!link || !isRoutedPodVeth(node, link) || w.family === 6) return undefined
  const calico = w.cluster.cni?.cni === 'calico' || w.cluster.cni?.cni === 'canal'
  const hasInet = (node.addrs ?? []).some((i) => i.ifname === dev && i.addrs.some((a) => a.family === 'inet'))
  if (hasInet || !(dev.startsWith('cali') || calico)) return undefined
  if ((node.addrs ?? []).some((i) => i.addrs.some((a) => a.local === CALICO_GATEWAY))) return undefined
  const proxy = node.proxyArp
  const own = proxy?.get(dev)
  const all = proxy?.get('all')
  if (own === undefined || all === undefined || own !== 0 || all !== 0) return undefined
  const src = sourceOf(node, 'proxy-arp')
  return {
    message: `proxy_arp is 0 on ${dev} (and on all): nothing answers the pod's ARP for its gateway ${CALICO_GATEWAY}, so it can send nothing`,
    evidence: [{source: src, text: `/proc/sys/net/ipv4/conf/${dev}/proxy_arp:0`}, {source: src, text: '/proc/sys/net/ipv4/conf/all/proxy_arp:0'}, linkEvidence(node, link)],
  }
}
