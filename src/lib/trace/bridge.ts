/**
 * A pod's host side on a node: which device carries it, read from the node's own state — a /32
 * route of a routed CNI, or on a bridge the neighbour entry for the pod's IP and the FDB entry for
 * its MAC. When that evidence is missing the veth is not guessed; only what holds for every
 * pod-facing veth on the node can still be said.
 */
import type {NodeDatapath} from '../model/node.js'
import type {Link} from '../parse/iproute2/links.js'
import {cidrContains} from '../net/cidr.js'
import {fdbEvidence, linkEvidence, linkIsUp, neighEvidence, notGathered, sourceOf} from './evidence.js'
import {podVeth} from './routed-veth.js'
import {isPodFacingVeth} from '../model/pod-veth.js'
import type {HopStatus, ReasonCode, TraceEvidence} from './types.js'

export interface PodAttachment {
  status: HopStatus
  code?: ReasonCode
  /** The host-side device, null when it could not be identified. */
  device: string | null
  action: string
  evidence: TraceEvidence[]
}

/** The node's pod-facing veths (model/pod-veth.ts: no subnet address of either family). */
function podFacingVeths(node: NodeDatapath, links: Link[]): Link[] {
  return links.filter((l) => isPodFacingVeth(node, l))
}

export function podAttachment(node: NodeDatapath, podIp: string, dev: string): PodAttachment {
  const links = node.links
  if (!links) return {status: 'unknown', code: 'evidence-missing', device: null, action: `links of ${node.name} were not gathered`, evidence: [{source: sourceOf(node, 'links'), text: node.evidence.links?.status ?? 'absent'}]}
  const devLink = links.find((l) => l.ifname === dev)
  if (!devLink) return {status: 'unknown', code: 'evidence-missing', device: null, action: `the route names ${dev}, which is not among ${node.name}'s links`, evidence: []}
  if (devLink.kind !== 'bridge') {
    // Routed CNI: the route's device is the pod's host-side interface itself.
    const up = linkIsUp(devLink)
    return {status: up ? 'ok' : 'fail', ...(up ? {} : {code: 'link-down' as const}), device: dev, action: up ? `routed to the pod's host-side ${dev}` : `${dev} is down`, evidence: [linkEvidence(node, devLink)]}
  }
  const neigh = node.neighbours?.find((n) => n.dst === podIp && n.dev === dev && n.lladdr)
  const mac = neigh?.lladdr?.toLowerCase()
  const fdb = mac ? node.fdb?.find((f) => f.mac.toLowerCase() === mac && f.master === dev && f.ifname !== dev && !f.flags.includes('self')) : undefined
  const port = fdb ? links.find((l) => l.ifname === fdb.ifname) : undefined
  if (neigh && fdb && port) {
    const evidence = [neighEvidence(node, neigh), fdbEvidence(node, fdb), linkEvidence(node, port)]
    if (port.master !== dev) return {status: 'fail', code: 'veth-detached', device: port.ifname, action: `${port.ifname} is not a port of ${dev}`, evidence}
    if (!linkIsUp(port)) return {status: 'fail', code: 'link-down', device: port.ifname, action: `${port.ifname} is down`, evidence}
    const state = port.bridgePort?.state
    if (state !== undefined && state !== 'forwarding') return {status: 'fail', code: 'link-down', device: port.ifname, action: `${port.ifname} is in bridge state ${state}, not forwarding`, evidence}
    return {status: 'ok', device: port.ifname, action: `${podIp} (${mac}) is behind ${port.ifname}, a forwarding port of ${dev}`, evidence}
  }
  // No neighbour/FDB pair: the CNI's own records may still name the pod's veth.
  const named = podVeth(node, podIp)
  if (named) {
    const evidence = named.evidence
    if (named.link.master !== dev) return {status: 'fail', code: 'veth-detached', device: named.link.ifname, action: `${named.link.ifname} (named by ${named.how}) is not a port of ${dev}`, evidence}
    if (!linkIsUp(named.link)) return {status: 'fail', code: 'link-down', device: named.link.ifname, action: `${named.link.ifname} (named by ${named.how}) is down`, evidence}
    return {status: 'ok', device: named.link.ifname, action: `${podIp} is behind ${named.link.ifname} (named by ${named.how}), an up port of ${dev}`, evidence}
  }
  const why = !neigh ? `no neighbour entry for ${podIp} on ${dev}` : `no FDB entry on ${dev} for ${podIp}'s MAC ${mac ?? ''}`
  // Without addresses a node's own uplink veth (a lab's, kind's) cannot be told from a pod's: nothing is said of either.
  if (!node.addrs) return {status: 'unknown', code: 'evidence-missing', device: null, action: `${why}, and the addresses of ${node.name} were not gathered, so its pod-facing veths are not known`, evidence: [notGathered(node, 'addrs')]}
  const veths = podFacingVeths(node, links)
  const detached = veths.filter((l) => l.master === undefined)
  const down = veths.filter((l) => l.master === dev && !linkIsUp(l))
  const evidence: TraceEvidence[] = [
    neigh ? neighEvidence(node, neigh) : {source: sourceOf(node, 'neigh'), text: `(no entry for ${podIp} dev ${dev})`},
    ...[...detached, ...down].map((l) => linkEvidence(node, l)),
  ]
  if (detached.length > 0) {
    const names = detached.map((l) => l.ifname).join(', ')
    // With the pod's MAC known and on no port, a detached pod veth is the explanation the evidence gives.
    if (neigh) return {status: 'fail', code: 'veth-detached', device: null, action: `${why}, and ${names} (peer in another namespace) is on no bridge`, evidence}
    return {status: 'unknown', code: 'evidence-missing', device: null, action: `${why}, so the pod's veth is not known; ${names} is on no bridge`, evidence}
  }
  // The pod's MAC known and on no port, and a pod veth down (a down port loses its FDB entries).
  if (down.length > 0 && neigh) return {status: 'fail', code: 'link-down', device: null, action: `${why}, and ${down.map((l) => l.ifname).join(', ')} (on ${dev}) is down`, evidence}
  if (down.length > 0) return {status: 'unknown', code: 'evidence-missing', device: null, action: `${why}, so the pod's veth is not known; ${down.map((l) => l.ifname).join(', ')} is down`, evidence}
  if (veths.length === 0) return {status: 'unknown', code: 'evidence-missing', device: null, action: `${why}, and ${node.name} has no veth with a peer in another namespace`, evidence}
  return {
    status: 'ok', device: null,
    action: `${why}, so the pod's veth is not named; every pod-facing veth (${veths.map((l) => l.ifname).join(', ')}) is an up port of ${dev}`,
    evidence: [...evidence, ...veths.map((l) => linkEvidence(node, l))],
  }
}

/** The bridge itself: present and up. */
export function bridgeState(node: NodeDatapath, dev: string): {status: HopStatus; code?: ReasonCode; action: string; evidence: TraceEvidence[]; isBridge: boolean} {
  const l = node.links?.find((x) => x.ifname === dev)
  if (!node.links) return {status: 'unknown', code: 'evidence-missing', action: `links of ${node.name} were not gathered`, evidence: [], isBridge: false}
  if (!l) return {status: 'unknown', code: 'evidence-missing', action: `${dev} is not among ${node.name}'s links`, evidence: [], isBridge: false}
  const up = linkIsUp(l)
  return {status: up ? 'ok' : 'fail', ...(up ? {} : {code: 'link-down' as const}), action: up ? `${dev} is up` : `${dev} is down`, evidence: [linkEvidence(node, l)], isBridge: l.kind === 'bridge'}
}

/**
 * A device that holds an address in the destination's subnet but is down: the kernel removed its
 * connected route, so a missing route to a local pod is really a link that is down.
 */
export function downDeviceFor(node: NodeDatapath, ip: string): Link | undefined {
  for (const i of node.addrs ?? []) {
    if (!i.addrs.some((a) => (a.family === 'inet' || a.family === 'inet6') && cidrContains(a.cidr, ip))) continue
    const l = node.links?.find((x) => x.ifname === i.ifname)
    if (l && !linkIsUp(l)) return l
  }
  return undefined
}
