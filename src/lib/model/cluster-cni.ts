/**
 * The CNI analysis should assume for a node: the one the cluster's DaemonSets show, else the one the
 * node's own interfaces and CNI config show (node-cni.ts), with the line that says so.
 */
import type {Evidence} from '../report/finding.js'
import type {AnalysisModel} from './model.js'
import {FLANNEL_BACKEND_ANNOTATION} from './cluster/nodes.js'
import {isGenericCni, nodeCni, type NodeCniId} from './node-cni.js'
import type {NodeDatapath} from './node.js'

/** CNIs whose pods do not take their IPs (or routes) from the nodes' spec.podCIDRs by default. */
export const OWN_IPAM_CNIS = new Set(['calico', 'cilium', 'aws-vpc-cni', 'azure-cni', 'ovn-kubernetes', 'kube-ovn', 'gke-netd'])

export interface CniSeen {
  cni?: NodeCniId
  evidence: Evidence[]
}

export function cniOf(model: AnalysisModel, node?: NodeDatapath): CniSeen {
  const cluster = model.cluster?.cni
  if (cluster?.cni) return {cni: cluster.cni, evidence: [{source: 'api: DaemonSets', text: cluster.evidence ?? cluster.cni}]}
  const seen = node ? nodeCni(node, model.cluster?.cni?.kubeProxy) : undefined
  const sign = seen?.signs.find((s) => s.cni === seen.cni)
  // flanneld without a DaemonSet knet reads (k3s embeds it; a host service; another namespace) still
  // announces its backend on the Node; a host-gw node has no flannel device to show it otherwise.
  const backend = node ? model.index.nodeByName().get(node.name)?.flannelBackend : undefined
  const vendor = seen?.cni !== undefined && !isGenericCni(seen.cni)
  if (backend && !vendor) {
    return {cni: 'flannel', evidence: [{source: `api: Node ${node?.name ?? ''} metadata.annotations`, text: `${FLANNEL_BACKEND_ANNOTATION}: ${backend}`}]}
  }
  return seen?.cni && sign ? {cni: seen.cni, evidence: [sign.evidence]} : {evidence: []}
}

/** The CNI of the cluster: its DaemonSets', else the first node whose evidence shows a vendor's plugin. */
export function clusterCni(model: AnalysisModel): CniSeen {
  const fromApi = cniOf(model)
  if (fromApi.cni) return fromApi
  const seen = model.nodes.map((n) => cniOf(model, n)).filter((c) => c.cni !== undefined)
  return seen.find((c) => c.cni !== 'bridge' && c.cni !== 'ptp') ?? seen[0] ?? {evidence: []}
}
