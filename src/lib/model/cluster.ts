/**
 * The typed cluster model: what the network analyses read, built purely from ClusterEvidence.
 * Tolerant by design — snapshots come from many servers, versions and hand-made files — so odd
 * objects become `problems` and the rest of the model still stands. Collections are sorted by
 * namespace/name, so the API path and an objects file of the same cluster build equal models.
 */
import {detectCni, type CniDetection} from '../gather/cluster/cni-detect.js'
import type {ClusterEvidence} from '../gather/cluster/evidence.js'
import type {CollectionError} from '../report/collection-error.js'
import {clusterCidrs, type ClusterCidrs} from './cluster/cidrs.js'
import {buildEndpointSlices, type EndpointSliceModel} from './cluster/endpointslices.js'
import {readKubeProxy, type KubeProxyModel} from './cluster/kube-proxy.js'
import {buildNetworkPolicies, type NetworkPolicyModel} from './cluster/netpol.js'
import {buildNamespaces} from './cluster/namespaces.js'
import {buildNodes, type NodeModel} from './cluster/nodes.js'
import {buildPods, type PodModel} from './cluster/pods.js'
import type {ModelProblem} from './cluster/read.js'
import {buildServices, type ServiceModel} from './cluster/services.js'

export type {ClusterCidrs, EndpointSliceModel, KubeProxyModel, ModelProblem, NetworkPolicyModel, NodeModel, PodModel, ServiceModel}
export type {Endpoint} from './cluster/endpointslices.js'
export type {LabelSelector, PolicyPeer, PolicyPort, PolicyRule} from './cluster/netpol.js'
export type {ContainerPort} from './cluster/pods.js'
export type {ServicePort, ServiceType} from './cluster/services.js'
export type {NodeAddress, Taint} from './cluster/nodes.js'

export interface ClusterModel {
  nodes: NodeModel[]
  pods: PodModel[]
  services: ServiceModel[]
  endpointSlices: EndpointSliceModel[]
  /** undefined when NetworkPolicies could not be read: policy analysis must say "skipped", not "allowed". */
  networkPolicies?: NetworkPolicyModel[]
  /** undefined when DaemonSets could not be read. */
  cni?: CniDetection
  /** undefined when Namespaces could not be read (or an objects file had none). */
  namespaces?: {name: string; labels: Record<string, string>}[]
  kubeProxy: KubeProxyModel
  cidrs: ClusterCidrs
  serverVersion?: {major: string; minor: string; gitVersion: string}
  /** Objects the model could not read fully. */
  problems: ModelProblem[]
  /** Carried over from gathering, for "skipped: …" reasons. */
  collectionErrors: CollectionError[]
}

export function buildClusterModel(evidence: ClusterEvidence): ClusterModel {
  const problems: ModelProblem[] = []
  const failed = new Set(evidence.errors.map((e) => e.source))
  const o = evidence.objects
  const nodes = buildNodes(o.nodes, problems)
  const services = buildServices(o.services, problems)
  // No DaemonSets at all means they were not read (forbidden, or absent from a file), not "no CNI".
  const cni = failed.has('daemonsets') || o.daemonSets.length === 0 ? undefined : detectCni(o.daemonSets)
  const namespaces = buildNamespaces(o.namespaces ?? [], problems)
  const kubeProxy = readKubeProxy(o.kubeProxyConfigMap, cni?.kubeProxy, problems)
  return {
    nodes,
    pods: buildPods(o.pods, problems),
    services,
    endpointSlices: buildEndpointSlices(o.endpointSlices, problems),
    ...(failed.has('networkpolicies') ? {} : {networkPolicies: buildNetworkPolicies(o.networkPolicies, problems)}),
    ...(cni ? {cni} : {}),
    ...(namespaces.length > 0 ? {namespaces} : {}),
    kubeProxy,
    cidrs: clusterCidrs(nodes, services, kubeProxy.clusterCIDRs),
    ...(evidence.serverVersion ? {serverVersion: evidence.serverVersion} : {}),
    problems,
    collectionErrors: [...evidence.errors],
  }
}
