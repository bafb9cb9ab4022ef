/**
 * How each node with routing evidence reaches every other node's pod ranges (pod-ranges.ts:
 * spec.podCIDRs, and IPAM blocks read from the nodes' routes): the route the kernel would pick
 * (lookupRoute), and for VXLAN overlays the neighbour and FDB entries behind it. Shared by
 * route-missing and route-nexthop-wrong, computed once per model. A route (or local address) on
 * one of the node's own bridges that claims the range is an overlap, cidr-overlap's to report.
 *
 * Reaching a range only through the default route is judged by what the node's own table does
 * with the others: a node that routes some other nodes' ranges by their own routes and one only by
 * its default route has lost that one, whatever the CNI. One that sends them all to the default
 * route leaves pod routing to the network (kubenet, cloud route tables), unless its CNI is one that
 * installs a route per node, or the node holds a CNI's overlay device (vxlan.calico, flannel.1):
 * that CNI routes other nodes' pods through the device, so with two nodes the one lost route is
 * still seen.
 *
 * On Calico's vxlan.calico a route's gateway is the owner's tunnel address, which calico-node also
 * writes on the owner's Node (projectcalico.org/IPv4VXLANTunnelAddr): when the VTEP entries behind a
 * gateway fail and that gateway is not the owner's annotated address, the route itself is stale.
 */
import type {NodeModel} from '../model/cluster.js'
import {calicoTunnelAddr, calicoVtepMismatch, isCalicoVxlanDevice} from '../model/cluster/calico-annotations.js'
import type {AnalysisModel} from '../model/model.js'
import type {NodeDatapath} from '../model/node.js'
import {cniOverlayLink} from '../model/node-cni.js'
import {formatIp} from '../net/cidr.js'
import {lookupRoute} from '../net/route-lookup.js'
import {describeRoute} from '../parse/iproute2/routes.js'
import type {Evidence} from '../report/finding.js'
import {bridgeClaimOver} from './bridge-claims.js'
import {cniOf, unreadableDatapath} from './cni.js'
import {linkText, nodeEvidence, PER_NODE_ROUTE_CNIS} from './evidence.js'
import {podRanges, type PodRange} from '../model/pod-ranges.js'

export interface PodRouteResult {
  node: NodeDatapath
  remote: NodeModel
  cidr: string
  /** overlap: the route delivers onto one of the node's own bridges, which claims that range (cidr-overlap reports it). */
  status: 'ok' | 'missing' | 'wrong' | 'overlap'
  message: string
  evidence: Evidence[]
}

export interface PodRoutes {
  results: PodRouteResult[]
  skipped: string[]
}

/** A range reached only by the default route: judged once all of the node's ranges are looked up. */
/** Why no route between nodes is judged when the CNI's own IPAM gives no per-node ranges. */
function ownIpamSkip(cni: string): string {
  // The VPC CNIs give pods addresses of the cloud subnet: the subnet delivers them, no node routes another's.
  if (cni === 'aws-vpc-cni' || cni === 'azure-cni') return `${cni} gives pods addresses of the VPC subnet, delivered by the subnet to the node holding them: no node routes another node's pods, so there are no routes between nodes to check`
  return `${cni} assigns pod addresses from its own IPAM blocks, not the nodes' spec.podCIDRs, and no node's routes show a block (no blackhole route for an own block, no route to another node's)`
}

interface DefaultOnly {
  range: PodRange
  where: string
  routeEv: Evidence
}

const cache = new WeakMap<AnalysisModel, PodRoutes>()

export function podCidrRoutes(model: AnalysisModel, nodes: NodeDatapath[]): PodRoutes {
  const hit = cache.get(model)
  if (hit) return {results: hit.results.filter((r) => nodes.includes(r.node)), skipped: hit.skipped}
  const out: PodRoutes = {results: [], skipped: []}
  const {ranges, ownIpam} = podRanges(model)
  if (ownIpam && ranges.length === 0) out.skipped.push(ownIpamSkip(ownIpam))
  const byName = model.index.nodeByName()
  for (const node of nodes) {
    if (!byName.has(node.name)) {
      out.skipped.push(`${node.name} is not a Node in the cluster state`)
      continue
    }
    const unreadable = unreadableDatapath(model, node)
    if (unreadable) {
      out.skipped.push(unreadable)
      continue
    }
    const defaultOnly: DefaultOnly[] = []
    const specifics: {range: PodRange; routeEv: Evidence}[] = []
    for (const range of ranges) {
      if (range.owner.name === node.name) continue
      const r = judge(model, node, range, out.skipped)
      if (!r) continue
      if ('defaultOnly' in r) defaultOnly.push(r.defaultOnly)
      else {
        out.results.push(r.result)
        if (r.specific) specifics.push(r.specific)
      }
    }
    const cni = cniOf(model, node).cni
    const overlay = cniOverlayLink(node)
    for (const d of defaultOnly) {
      const base = {node, remote: d.range.owner, cidr: d.range.cidr.text}
      const origin = d.range.origin ? [d.range.origin] : []
      // Another node's range is the clearest witness; another block of the same node will do.
      const specific = specifics.find((x) => x.range.owner !== d.range.owner) ?? specifics[0]
      if (cni && PER_NODE_ROUTE_CNIS.has(cni)) {
        out.results.push({...base, status: 'missing', message: `no route to ${d.where}: only the default route matches, and ${cni} installs one route per node`, evidence: [d.routeEv, ...origin]})
      } else if (overlay) {
        // With two nodes no other range's route is left to compare with: the CNI's own tunnel device says the route belongs there.
        const message = `no route to ${d.where}: only the default route matches, while ${node.name} has ${overlay.cni}'s overlay device ${overlay.link.ifname}, through which ${overlay.cni} routes other nodes' pods`
        out.results.push({...base, status: 'missing', message, evidence: [d.routeEv, nodeEvidence(node, 'links', linkText(overlay.link)), ...origin]})
      } else if (specific) {
        const message = `no route to ${d.where}: only the default route matches, while ${node.name} routes ${rangeName(specific.range)} by its own route`
        out.results.push({...base, status: 'missing', message, evidence: [d.routeEv, specific.routeEv, ...origin]})
      } else {
        // Cloud route tables (kubenet on GCE/AWS) legitimately carry pod ranges past the default gateway.
        out.results.push({...base, status: 'ok', message: '', evidence: [d.routeEv]})
      }
    }
  }
  cache.set(model, out)
  return {results: out.results.filter((r) => nodes.includes(r.node)), skipped: out.skipped}
}

function rangeName(range: PodRange): string {
  return `${range.owner.name}'s ${range.kind} ${range.cidr.text}`
}

type Judged = {result: PodRouteResult; specific?: {range: PodRange; routeEv: Evidence}} | {defaultOnly: DefaultOnly}

function judge(model: AnalysisModel, node: NodeDatapath, range: PodRange, skipped: string[]): Judged | undefined {
  const {cidr, owner: remote} = range
  const routes = cidr.family === 4 ? node.routes4 : node.routes6
  const routesId = cidr.family === 4 ? 'routes4' : 'routes6'
  if (!routes) {
    skipped.push(`${routesId} not available on ${node.name}, so routes to IPv${cidr.family} pod ranges were not checked`)
    return undefined
  }
  const probe = formatIp(cidr.family, cidr.first + (cidr.prefixLength < (cidr.family === 4 ? 32 : 128) ? 1n : 0n))
  const rules = cidr.family === 4 ? node.rules4 : node.rules6
  const found = lookupRoute({...(rules ? {rules} : {}), routes}, {dst: probe, family: cidr.family})
  const base = {node, remote, cidr: cidr.text}
  const where = rangeName(range)
  const origin = range.origin ? [range.origin] : []
  const done = (status: PodRouteResult['status'], message: string, evidence: Evidence[]): Judged => ({result: {...base, status, message, evidence: status === 'ok' ? evidence : [...evidence, ...origin]}})
  // The route (or the local address) is on a bridge of this node that claims part of that range:
  // a CIDR overlap, which cidr-overlap reports with the bridge's address and route lines.
  const claim = bridgeClaimOver(node, found.route?.dev ?? found.dev, cidr)
  if (claim) {
    const evidence = found.route ? [nodeEvidence(node, routesId, describeRoute(found.route))] : claim.evidence
    return done('overlap', `${node.name} delivers ${where} onto its own bridge ${claim.dev} (${claim.cidr.text})`, evidence)
  }
  if (found.kind !== 'unicast') {
    const text = found.route ? describeRoute(found.route) : `ip route get ${probe}: ${found.kind === 'no-route' ? 'no route in any table consulted' : found.kind}`
    const dropping = found.kind === 'blackhole' || found.kind === 'unreachable' || found.kind === 'prohibit'
    // A blackhole for the node's own blocks is Calico's layout; one over another node's range drops its pods' traffic.
    const message = dropping ? `${found.kind} route for ${where}: ${node.name} drops traffic to those pods` : `no usable route to ${where} (${found.kind})`
    return done('missing', message, [nodeEvidence(node, routesId, text)])
  }
  const route = found.route
  if (!route) return done('ok', '', [])
  const routeEv = nodeEvidence(node, routesId, describeRoute(route))
  if (route.prefixLength === 0) return {defaultOnly: {range, where, routeEv}}
  const ok = (evidence: Evidence[]): Judged => ({result: {...base, status: 'ok', message: '', evidence}, specific: {range, routeEv}})
  const byAddress = model.index.nodeByAddress()
  const dev = node.links?.find((l) => l.ifname === (found.dev ?? route.dev))
  if (dev?.kind === 'vxlan' && found.gateway) {
    const nodes = model.cluster?.nodes ?? []
    // Calico annotates each Node with its VTEP's tunnel address: the gateway can be named from it.
    const vtepName = isCalicoVxlanDevice(dev.ifname) && calicoTunnelAddr(remote, cidr.family) === found.gateway ? ` (${remote.name}'s VXLAN tunnel address)` : ''
    const r = judgeVxlan(node, remote, where, found.gateway, dev.ifname, routeEv, byAddress, skipped, vtepName)
    if (!r) return undefined
    if (r.status === 'ok') return ok(r.evidence)
    // The VTEP chain fails and the route's gateway is not the tunnel address the owner's Node
    // carries: the route itself is stale (a replaced node's old tunnel address), whatever the entries.
    const stale = calicoVtepMismatch(nodes, remote, found.gateway, dev.ifname, where)
    return stale ? done('wrong', stale.message, [...r.evidence, ...stale.evidence]) : done(r.status, r.message, r.evidence)
  }
  const gateways = found.nexthops?.map((n) => n.gateway).filter((g): g is string => g !== undefined) ?? (found.gateway ? [found.gateway] : [])
  const local = localAddresses(node)
  for (const gw of gateways) {
    const owner = byAddress.get(gw)
    // A next hop the node owns hands the packet to a local device (cilium_host): not a peer to judge.
    if (owner?.name === remote.name || (!owner && local.has(gw))) continue
    const message = owner
      ? `route to ${where} goes via ${gw}, which is ${owner.name}'s address`
      : `route to ${where} goes via ${gw}, which is no node's address (a replaced node's old IP?); ${remote.name} is ${remote.internalIPs.join(', ') || 'unknown'}`
    return done('wrong', message, [routeEv])
  }
  return ok([routeEv])
}

const localCache = new WeakMap<NodeDatapath, Set<string>>()

function localAddresses(node: NodeDatapath): Set<string> {
  let set = localCache.get(node)
  if (!set) localCache.set(node, (set = new Set((node.addrs ?? []).flatMap((i) => i.addrs.map((a) => a.local)))))
  return set
}

function judgeVxlan(
  node: NodeDatapath,
  remote: NodeModel,
  where: string,
  gateway: string,
  dev: string,
  routeEv: Evidence,
  byAddress: Map<string, NodeModel>,
  skipped: string[],
  vtepName = '',
): Pick<PodRouteResult, 'status' | 'message' | 'evidence'> | undefined {
  if (!node.neighbours || !node.fdb) {
    skipped.push(`neighbour or FDB entries not available on ${node.name}, so VXLAN peers were not checked`)
    return undefined
  }
  const neigh = node.neighbours.find((n) => n.dst === gateway && n.dev === dev && n.lladdr && !n.state.includes('FAILED') && !n.state.includes('INCOMPLETE'))
  if (!neigh?.lladdr) {
    return {status: 'missing', message: `no neighbour entry for VTEP ${gateway}${vtepName} on ${dev} (route to ${where})`, evidence: [routeEv]}
  }
  const neighEv = nodeEvidence(node, 'neigh', `${neigh.dst} dev ${neigh.dev} lladdr ${neigh.lladdr} ${neigh.state.join(',')}`)
  const fdb = node.fdb.find((f) => f.ifname === dev && f.mac === neigh.lladdr && f.dst)
  if (!fdb?.dst) {
    return {status: 'missing', message: `no FDB entry for ${neigh.lladdr} on ${dev}: VXLAN packets to ${where} have no remote VTEP`, evidence: [routeEv, neighEv]}
  }
  const fdbEv = nodeEvidence(node, 'bridge-fdb', `${fdb.mac} dev ${fdb.ifname} dst ${fdb.dst} ${[...fdb.flags, fdb.state].filter(Boolean).join(' ')}`)
  const owner = byAddress.get(fdb.dst)
  if (owner?.name === remote.name) return {status: 'ok', message: '', evidence: [routeEv, neighEv, fdbEv]}
  const message = owner
    ? `VXLAN traffic for ${where} is sent to VTEP ${fdb.dst}, which is ${owner.name}`
    : `VXLAN traffic for ${where} is sent to VTEP ${fdb.dst}, which is no node's address (a replaced node's old IP?); ${remote.name} is ${remote.internalIPs.join(', ') || 'unknown'}`
  return {status: 'wrong', message, evidence: [routeEv, neighEv, fdbEv]}
}
