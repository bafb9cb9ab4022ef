/**
 * A VXLAN next hop (flannel's layout): the onlink gateway's permanent neighbour entry gives the
 * remote VTEP's MAC, the FDB entry for that MAC gives the remote VTEP's underlay address, and the
 * underlay route to it says how the encapsulated packet leaves. An inner packet must fit the VXLAN
 * device's MTU; an encapsulated one bigger than the underlay device's MTU leaves in fragments (the
 * outer header's DF is not set by default), and it is the receiving node's own NIC that may then
 * refuse full-size frames coming the other way (node-hop.ts checks arrivals).
 */
import type {NodeModel} from '../model/cluster.js'
import {calicoTunnelEvidence, calicoVtepMismatch, isCalicoVxlanDevice, nodeByCalicoTunnel, type CalicoVtepMismatch} from '../model/cluster/calico-annotations.js'
import type {NodeDatapath} from '../model/node.js'
import type {Link} from '../parse/iproute2/links.js'
import {lookupRoute} from '../net/route-lookup.js'
import {parseIp} from '../net/cidr.js'
import {familyDatapath, familyTables} from '../model/node-family.js'
import {fdbEvidence, linkEvidence, neighEvidence, sourceOf} from './evidence.js'
import type {ReasonCode, TraceEvidence} from './types.js'

export const VXLAN_OVERHEAD = 50

/** What VXLAN adds to an inner packet: outer Ethernet (14) + VXLAN (8) + UDP (8) + the underlay's IP header (20 for IPv4, 40 for IPv6). */
export function vxlanOverhead(vtep: string | undefined): number {
  return parseIp(vtep ?? '')?.family === 6 ? VXLAN_OVERHEAD + 20 : VXLAN_OVERHEAD
}

export interface OverlayStep {
  ok: boolean
  code?: ReasonCode
  action: string
  evidence: TraceEvidence[]
  vtep?: string
  vni?: number
  /** Bytes an inner packet may have: the VXLAN device's MTU (else underlay MTU − 50). */
  mtu?: number
  /** The underlay device's MTU: a bigger encapsulated packet leaves in fragments. */
  underlayMtu?: number
  underlayDev?: string
  underlayEvidence?: TraceEvidence[]
}

export function overlayStep(node: NodeDatapath, vxlan: Link, gateway: string): OverlayStep {
  const evidence: TraceEvidence[] = [linkEvidence(node, vxlan)]
  const vni = vxlan.vxlan?.id
  const neigh = node.neighbours?.find((n) => n.dst === gateway && n.dev === vxlan.ifname && n.lladdr && !n.state.includes('FAILED') && !n.state.includes('INCOMPLETE'))
  if (!node.neighbours) return {ok: false, code: 'evidence-missing', action: `neighbours of ${node.name} were not gathered`, evidence}
  if (!neigh) {
    evidence.push({source: sourceOf(node, 'neigh'), text: `(no entry for ${gateway} dev ${vxlan.ifname})`})
    return {ok: false, code: 'route-missing', action: `no neighbour entry for the remote VTEP address ${gateway} on ${vxlan.ifname}: the remote VTEP's MAC is unknown`, evidence}
  }
  evidence.push(neighEvidence(node, neigh))
  const mac = (neigh.lladdr ?? '').toLowerCase()
  if (!node.fdb) return {ok: false, code: 'evidence-missing', action: `the FDB of ${node.name} was not gathered`, evidence}
  const fdb = node.fdb.find((f) => f.mac.toLowerCase() === mac && f.ifname === vxlan.ifname && f.dst !== undefined)
  if (!fdb?.dst) {
    evidence.push({source: sourceOf(node, 'bridge-fdb'), text: `(no entry for ${mac} dev ${vxlan.ifname})`})
    return {ok: false, code: 'route-missing', action: `no FDB entry on ${vxlan.ifname} for ${mac}: the remote VTEP's underlay address is unknown`, evidence}
  }
  evidence.push(fdbEvidence(node, fdb))
  const vtep = fdb.dst
  // The underlay has its own family: an IPv6 pod network may be carried over IPv4 VTEPs, and the other way round.
  const underFamily = parseIp(vtep)?.family ?? 4
  const under = lookupRoute(familyTables(node, underFamily), {dst: vtep, ...(vxlan.vxlan?.local && parseIp(vxlan.vxlan.local)?.family === underFamily ? {src: vxlan.vxlan.local} : {})})
  const underlayEvidence = under.trail.map((t) => ({source: sourceOf(node, familyDatapath(node, underFamily).routesId), text: t}))
  if (under.kind !== 'unicast' || !under.dev) {
    return {ok: false, code: under.kind === 'no-route' ? 'route-missing' : 'route-blackhole', action: `no usable underlay route to VTEP ${vtep} (${under.kind})`, evidence: [...evidence, ...underlayEvidence], vtep, ...(vni === undefined ? {} : {vni})}
  }
  const underLink = node.links?.find((l) => l.ifname === under.dev)
  if (underLink) underlayEvidence.push(linkEvidence(node, underLink))
  const left = underLink?.mtu === undefined ? undefined : underLink.mtu - vxlanOverhead(vtep)
  const mtu = vxlan.mtu ?? left
  return {
    ok: true,
    action: `encapsulated in VXLAN${vni === undefined ? '' : ` VNI ${vni}`} to VTEP ${vtep}${mtu === undefined ? '' : `; inner MTU ${mtu}`}${left === undefined ? '' : `, ${left} left after encapsulation on ${under.dev}`}`,
    evidence, vtep, ...(vni === undefined ? {} : {vni}), ...(mtu === undefined ? {} : {mtu}), ...(underLink?.mtu === undefined ? {} : {underlayMtu: underLink.mtu}), underlayDev: under.dev, underlayEvidence,
  }
}

/**
 * What Calico's Node annotations say about a vxlan.calico route's gateway: whose tunnel address it is
 * (named in the hop), and whether it is not the tunnel address of the node that holds `dst` (a stale
 * route). Nothing for other VXLAN devices or without the annotations.
 */
export function calicoVtep(nodes: readonly NodeModel[], owner: NodeModel | undefined, gateway: string, dev: string, dst: string): {named?: {node: string; evidence: TraceEvidence}; stale?: CalicoVtepMismatch} {
  if (!isCalicoVxlanDevice(dev)) return {}
  const holder = nodeByCalicoTunnel(nodes, gateway)
  const family = parseIp(gateway)?.family ?? 4
  const evidence = holder ? calicoTunnelEvidence(holder, family) : undefined
  const stale = owner ? calicoVtepMismatch(nodes, owner, gateway, dev, `${dst} (on ${owner.name})`) : undefined
  // The holder's line is the hop's already: the stale route's evidence adds the owner's.
  const staleOnly = stale ? {...stale, evidence: stale.evidence.filter((e) => e.text !== evidence?.text || e.source !== evidence.source)} : undefined
  return {...(holder && evidence ? {named: {node: holder.name, evidence}} : {}), ...(staleOnly ? {stale: staleOnly} : {})}
}
