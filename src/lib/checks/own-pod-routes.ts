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
import {describeRule} from '../parse/iproute2/rules.js'
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
        const diverted = linkIsUp(dev) ? divertedFromPod(node, here, pod, ip, dev) : undefined
        if (diverted) results.push({...base, status: 'route-missing', veth: dev, message: diverted.message, evidence: [...diverted.evidence, routeEv, podEv(pod, ip)]})
        else if (linkIsUp(dev)) results.push({...base, status: 'ok', veth: dev, message: '', evidence: [routeEv]})
        else results.push(down(base, dev, `the node's route to ${ip}`, [nodeEvidence(node, 'links', linkText(dev)), routeEv, podEv(pod, ip)]))
        continue
      }
      // A bridge's subnet route is veth-detached's and bridge-down's; any other device (the node's NIC, whose subnet the pod's address is in with the AWS VPC CNI) is not the pod's.
      if (dev?.kind === 'bridge') continue
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

/**
 * A source-selected rule (the AWS VPC CNI's "from POD lookup TABLE" for a pod on a secondary ENI)
 * that catches traffic from another pod of this node to `pod` before any rule reaches the table
 * with the pod's route: the VPC CNI puts "to POD lookup main" at priority 512 for exactly that, and
 * without it that traffic leaves the node. Judged for each other pod of the node as the source,
 * arriving on its own veth, as the kernel routes it; only on nodes with such rules.
 */
function divertedFromPod(node: NodeDatapath, here: PodModel[], pod: PodModel, ip: string, veth: Link): {message: string; evidence: Evidence[]} | undefined {
  const rules = node.rules4 ?? []
  if (!node.routes4 || !rules.some((r) => r.src !== undefined && !r.not)) return undefined
  for (const other of here) {
    if (other === pod) continue
    for (const src of other.podIPs.filter((x) => !x.includes(':'))) {
      const from = lookupRoute({rules, routes: node.routes4}, {dst: src})
      if (from.kind !== 'unicast' || from.gateway || !from.dev || from.dev === veth.ifname) continue
      const found = lookupRoute({rules, routes: node.routes4}, {dst: ip, src, iif: from.dev})
      if (found.dev === veth.ifname && found.kind === 'unicast') continue
      const rule = found.rule ? describeRule(found.rule) : undefined
      const chose = found.route ? describeRoute(found.route) : found.kind
      return {
        message: `${node.name} sends traffic from its pod ${other.namespace}/${other.name} (${src}) to its pod ${pod.namespace}/${pod.name} (${ip}) by ${rule ? `rule "${rule}"` : 'its rules'} to ${chose}, not to ${veth.ifname}: no rule before it sends that traffic to the table with the pod's route (the AWS VPC CNI's per-pod "to ${ip} lookup main", priority 512)`,
        evidence: [...(found.rule ? [nodeEvidence(node, 'rules4', describeRule(found.rule))] : []), ...(found.route ? [nodeEvidence(node, 'routes4', chose)] : [])],
      }
    }
  }
  return undefined
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
