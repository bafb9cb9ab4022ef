/**
 * How each node reaches its own pods when they sit on routed veths, with no bridge (kindnet's ptp,
 * Calico, AWS VPC CNI): the route the kernel picks for a pod's address must hand it to that pod's
 * host veth, and the veth must be up. Shared by route-missing (the route is gone while the veth is
 * there) and veth-down (the pod's veth is down), computed once per model, so each pod gets exactly
 * one verdict.
 *
 * The pod's veth is named by trace's own rules (trace/routed-veth.ts: the route to the pod, the
 * CNI's cached result, the neighbour entry, or the one unrouted pod paired with the one unrouted
 * veth), so doctor and trace never disagree about which veth is whose. Pods on a bridge are left
 * to veth-detached and bridge-down: their addresses are reached by the bridge's subnet route.
 */
import type {PodModel} from '../model/cluster.js'
import type {AnalysisModel} from '../model/model.js'
import type {NodeDatapath} from '../model/node.js'
import {lookupRoute} from '../net/route-lookup.js'
import type {Link} from '../parse/iproute2/links.js'
import {describeRoute} from '../parse/iproute2/routes.js'
import type {Evidence} from '../report/finding.js'
import {linkIsUp, sourceOf} from '../trace/evidence.js'
import {podVeth} from '../trace/routed-veth.js'
import {unreadableDatapath} from './cni.js'
import {api, isPodVeth, linkText, nodeEvidence} from './evidence.js'
import {routedVeths} from './routed-pods.js'

export interface OwnPodResult {
  node: NodeDatapath
  pod: PodModel
  ip: string
  /** route-missing: the veth is there (or none is named) but the node routes the address elsewhere. */
  status: 'ok' | 'route-missing' | 'veth-down'
  veth?: Link
  message: string
  evidence: Evidence[]
}

export interface OwnPodRoutes {
  results: OwnPodResult[]
  skipped: string[]
}

const cache = new WeakMap<AnalysisModel, Map<NodeDatapath, OwnPodResult[]>>()

export function ownPodRoutes(model: AnalysisModel, nodes: NodeDatapath[]): OwnPodRoutes {
  let byNode = cache.get(model)
  if (!byNode) cache.set(model, (byNode = new Map()))
  const out: OwnPodRoutes = {results: [], skipped: []}
  const pods = model.cluster?.pods ?? []
  for (const node of nodes) {
    const unreadable = unreadableDatapath(model, node)
    if (unreadable) {
      out.skipped.push(unreadable)
      continue
    }
    let results = byNode.get(node)
    if (!results) byNode.set(node, (results = judgeNode(node, pods.filter((p) => p.node === node.name && !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed'))))
    out.results.push(...results)
  }
  return out
}

function judgeNode(node: NodeDatapath, here: PodModel[]): OwnPodResult[] {
  if (!node.routes4 || !node.links) return []
  const routedNode = routedVeths(node).length > 0
  const podEv = (pod: PodModel, ip: string): Evidence => api('Pod', `${pod.namespace}/${pod.name}`, 'status.podIPs', `${ip} (spec.nodeName ${node.name})`)
  const results: OwnPodResult[] = []
  for (const pod of here) {
    for (const ip of pod.podIPs.filter((x) => !x.includes(':'))) {
      const found = lookupRoute({rules: node.rules4 ?? [], routes: node.routes4}, {dst: ip})
      const dev = found.kind === 'unicast' && !found.gateway ? node.links.find((l) => l.ifname === found.dev) : undefined
      const routeEv = found.route ? nodeEvidence(node, 'routes4', describeRoute(found.route)) : nodeEvidence(node, 'routes4', `(no route to ${ip} in any table consulted)`)
      const base = {node, pod, ip}
      // Handed to a veth on no bridge: the pod's own routed veth (a bridge's subnet route is not this check's).
      if (dev && dev.kind === 'veth' && !dev.master && isPodVeth(node, dev)) {
        if (linkIsUp(dev)) results.push({...base, status: 'ok', veth: dev, message: '', evidence: [routeEv]})
        else results.push(down(base, dev, `the node's route to ${ip}`, [nodeEvidence(node, 'links', linkText(dev)), routeEv, podEv(pod, ip)]))
        continue
      }
      if (dev) continue
      const named = podVeth(node, ip, here)
      const veth = named && named.link.kind === 'veth' && !named.link.master && isPodVeth(node, named.link) ? named.link : undefined
      if (!veth && !routedNode) continue
      // What named the veth (its link line is quoted in doctor's own words below).
      const how = named ? named.evidence.filter((e) => e.source !== sourceOf(node, 'links')).map((e) => ({source: e.source, text: e.text})) : []
      if (veth && !linkIsUp(veth)) {
        results.push(down(base, veth, named?.how ?? '', [nodeEvidence(node, 'links', linkText(veth)), routeEv, ...how, podEv(pod, ip)]))
        continue
      }
      const where = found.route ? `it follows ${describeRoute(found.route)}` : 'no route matches it'
      const which = veth ? `; its host veth ${veth.ifname} (named by ${named?.how ?? ''}) is up` : '; no evidence names its host veth'
      results.push({
        ...base,
        status: 'route-missing',
        ...(veth ? {veth} : {}),
        message: `${node.name} has no route to its own pod ${pod.namespace}/${pod.name} (${ip}): ${where}${which}`,
        evidence: [routeEv, ...(veth ? [nodeEvidence(node, 'links', linkText(veth))] : []), ...how, podEv(pod, ip)],
      })
    }
  }
  return results
}

function down(base: Pick<OwnPodResult, 'node' | 'pod' | 'ip'>, veth: Link, how: string, evidence: Evidence[]): OwnPodResult {
  const {node, pod, ip} = base
  return {
    ...base,
    status: 'veth-down',
    veth,
    message: `${veth.ifname}, the host veth of pod ${pod.namespace}/${pod.name} (${ip}, named by ${how}), is down on ${node.name}: the pod can send and receive nothing`,
    evidence,
  }
}
