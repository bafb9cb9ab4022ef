/**
 * How each node with routing evidence reaches every other node's pod CIDR: the route the kernel
 * would pick (lookupRoute), and for VXLAN overlays the neighbour and FDB entries behind it. Shared
 * by route-missing and route-nexthop-wrong, computed once per model. A route (or local address)
 * on one of the node's own bridges that claims the range is an overlap, cidr-overlap's to report.
 */
import type {NodeModel} from '../model/cluster.js'
import type {AnalysisModel} from '../model/model.js'
import type {NodeDatapath} from '../model/node.js'
import {formatIp, parseCidr} from '../net/cidr.js'
import {lookupRoute} from '../net/route-lookup.js'
import {describeRoute} from '../parse/iproute2/routes.js'
import type {Evidence} from '../report/finding.js'
import {bridgeClaimOver} from './bridge-claims.js'
import {nodeEvidence, OWN_IPAM_CNIS, PER_NODE_ROUTE_CNIS} from './evidence.js'

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

const cache = new WeakMap<AnalysisModel, PodRoutes>()

export function podCidrRoutes(model: AnalysisModel, nodes: NodeDatapath[]): PodRoutes {
  const hit = cache.get(model)
  if (hit) return {results: hit.results.filter((r) => nodes.includes(r.node)), skipped: hit.skipped}
  const out: PodRoutes = {results: [], skipped: []}
  const cni = model.cluster?.cni?.cni
  if (cni && OWN_IPAM_CNIS.has(cni)) {
    out.skipped.push(`${cni} routes its own IPAM blocks, not the nodes' spec.podCIDRs`)
  } else {
    const clusterNodes = model.cluster?.nodes ?? []
    const byName = model.index.nodeByName()
    for (const node of nodes) {
      if (!byName.has(node.name)) {
        out.skipped.push(`${node.name} is not a Node in the cluster state`)
        continue
      }
      for (const remote of clusterNodes) {
        if (remote.name === node.name) continue
        for (const cidr of remote.podCIDRs) {
          const r = judge(model, node, remote, cidr, out.skipped)
          if (r) out.results.push(r)
        }
      }
    }
  }
  cache.set(model, out)
  return {results: out.results.filter((r) => nodes.includes(r.node)), skipped: out.skipped}
}

function judge(model: AnalysisModel, node: NodeDatapath, remote: NodeModel, cidrText: string, skipped: string[]): PodRouteResult | undefined {
  const cidr = parseCidr(cidrText)
  if (!cidr) return undefined
  const routes = cidr.family === 4 ? node.routes4 : node.routes6
  const routesId = cidr.family === 4 ? 'routes4' : 'routes6'
  if (!routes) {
    skipped.push(`${routesId} not available on ${node.name}, so routes to IPv${cidr.family} pod CIDRs were not checked`)
    return undefined
  }
  const probe = formatIp(cidr.family, cidr.first + (cidr.prefixLength < (cidr.family === 4 ? 32 : 128) ? 1n : 0n))
  const rules = cidr.family === 4 ? node.rules4 : node.rules6
  const found = lookupRoute({...(rules ? {rules} : {}), routes}, {dst: probe, family: cidr.family})
  const base = {node, remote, cidr: cidr.text}
  const where = `${remote.name}'s pod CIDR ${cidr.text}`
  // The route (or the local address) is on a bridge of this node that claims part of that range:
  // a CIDR overlap, which cidr-overlap reports with the bridge's address and route lines.
  const claim = bridgeClaimOver(node, found.route?.dev ?? found.dev, cidr)
  if (claim) {
    const evidence = found.route ? [nodeEvidence(node, routesId, describeRoute(found.route))] : claim.evidence
    return {...base, status: 'overlap', message: `${node.name} delivers ${where} onto its own bridge ${claim.dev} (${claim.cidr.text})`, evidence}
  }
  if (found.kind !== 'unicast') {
    const text = found.route ? describeRoute(found.route) : `ip route get ${probe}: ${found.kind === 'no-route' ? 'no route in any table consulted' : found.kind}`
    return {...base, status: 'missing', message: `no usable route to ${where} (${found.kind})`, evidence: [nodeEvidence(node, routesId, text)]}
  }
  const route = found.route
  if (!route) return {...base, status: 'ok', message: '', evidence: []}
  const routeEv = nodeEvidence(node, routesId, describeRoute(route))
  if (route.prefixLength === 0) {
    // Cloud route tables (kubenet on GCE/AWS) legitimately carry pod CIDRs past the default gateway;
    // a CNI that installs per-node routes never does.
    const cni = model.cluster?.cni?.cni
    if (!cni || !PER_NODE_ROUTE_CNIS.has(cni)) return {...base, status: 'ok', message: '', evidence: [routeEv]}
    return {...base, status: 'missing', message: `no route to ${where}: only the default route matches, and ${cni} installs one route per node`, evidence: [routeEv]}
  }
  const byAddress = model.index.nodeByAddress()
  const dev = node.links?.find((l) => l.ifname === (found.dev ?? route.dev))
  if (dev?.kind === 'vxlan' && found.gateway) return judgeVxlan(node, remote, cidr.text, found.gateway, dev.ifname, routeEv, byAddress, skipped)
  const gateways = found.nexthops?.map((n) => n.gateway).filter((g): g is string => g !== undefined) ?? (found.gateway ? [found.gateway] : [])
  for (const gw of gateways) {
    const owner = byAddress.get(gw)
    if (owner?.name === remote.name) continue
    const message = owner
      ? `route to ${where} goes via ${gw}, which is ${owner.name}'s address`
      : `route to ${where} goes via ${gw}, which is no node's address (a replaced node's old IP?); ${remote.name} is ${remote.internalIPs.join(', ') || 'unknown'}`
    return {...base, status: 'wrong', message, evidence: [routeEv]}
  }
  return {...base, status: 'ok', message: '', evidence: [routeEv]}
}

function judgeVxlan(
  node: NodeDatapath,
  remote: NodeModel,
  cidr: string,
  gateway: string,
  dev: string,
  routeEv: Evidence,
  byAddress: Map<string, NodeModel>,
  skipped: string[],
): PodRouteResult | undefined {
  const base = {node, remote, cidr}
  if (!node.neighbours || !node.fdb) {
    skipped.push(`neighbour or FDB entries not available on ${node.name}, so VXLAN peers were not checked`)
    return undefined
  }
  const neigh = node.neighbours.find((n) => n.dst === gateway && n.dev === dev && n.lladdr && !n.state.includes('FAILED') && !n.state.includes('INCOMPLETE'))
  if (!neigh?.lladdr) {
    return {...base, status: 'missing', message: `no neighbour entry for VTEP ${gateway} on ${dev} (route to ${remote.name}'s pod CIDR ${cidr})`, evidence: [routeEv]}
  }
  const neighEv = nodeEvidence(node, 'neigh', `${neigh.dst} dev ${neigh.dev} lladdr ${neigh.lladdr} ${neigh.state.join(',')}`)
  const fdb = node.fdb.find((f) => f.ifname === dev && f.mac === neigh.lladdr && f.dst)
  if (!fdb?.dst) {
    return {...base, status: 'missing', message: `no FDB entry for ${neigh.lladdr} on ${dev}: VXLAN packets to ${remote.name}'s pod CIDR ${cidr} have no remote VTEP`, evidence: [routeEv, neighEv]}
  }
  const fdbEv = nodeEvidence(node, 'bridge-fdb', `${fdb.mac} dev ${fdb.ifname} dst ${fdb.dst} ${[...fdb.flags, fdb.state].filter(Boolean).join(' ')}`)
  const owner = byAddress.get(fdb.dst)
  if (owner?.name === remote.name) return {...base, status: 'ok', message: '', evidence: [routeEv, neighEv, fdbEv]}
  const message = owner
    ? `VXLAN traffic for ${remote.name}'s pod CIDR ${cidr} is sent to VTEP ${fdb.dst}, which is ${owner.name}`
    : `VXLAN traffic for ${remote.name}'s pod CIDR ${cidr} is sent to VTEP ${fdb.dst}, which is no node's address (a replaced node's old IP?); ${remote.name} is ${remote.internalIPs.join(', ') || 'unknown'}`
  return {...base, status: 'wrong', message, evidence: [routeEv, neighEv, fdbEv]}
}
