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
import {buildIpamBlocks, type IpamBlockModel} from './cluster/ipam-blocks.js'
import {readKubeProxy, type KubeProxyModel} from './cluster/kube-proxy.js'
import {buildNetworkPolicies, type NetworkPolicyModel} from './cluster/netpol.js'
import {buildNamespaces} from './cluster/namespaces.js'
import {buildNodes, type NodeModel} from './cluster/nodes.js'
import {buildPods, type PodModel} from './cluster/pods.js'
import type {ModelProblem} from './cluster/read.js'
import {buildServices, type ServiceModel} from './cluster/services.js'
import type {TakenObjects} from './cluster/taken.js'

export type {ClusterCidrs, EndpointSliceModel, IpamBlockModel, KubeProxyModel, ModelProblem, NetworkPolicyModel, NodeModel, PodModel, ServiceModel}
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
  /**
   * Calico's IPAMBlocks held by a node (host affinity, not being deleted); undefined when they were
   * not read (no Calico CRDs, forbidden, an older snapshot or a file without them).
   */
  ipamBlocks?: IpamBlockModel[]
  serverVersion?: {major: string; minor: string; gitVersion: string}
  /** Objects the model could not read fully. */
  problems: ModelProblem[]
  /** Carried over from gathering, for "skipped: …" reasons. */
  collectionErrors: CollectionError[]
}

export interface BuildOptions {
  /**
   * Empty the evidence's object lists as they are read, for a caller that is done with the raw
   * objects (doctor): then the raw objects and their model are never both held in full.
   */
  release?: boolean
  /** Pods, Services and EndpointSlices already modelled while the snapshot was read (their lists in the evidence are empty). */
  taken?: TakenObjects
}

export function buildClusterModel(evidence: ClusterEvidence, {release = false, taken}: BuildOptions = {}): ClusterModel {
  const failed = new Set(evidence.errors.map((e) => e.source))
  const o = evidence.objects
  // One list of problems per kind, joined in a fixed order whichever way each kind was built.
  const nodeProblems: ModelProblem[] = []
  const nodes = buildNodes(o.nodes, nodeProblems, release)
  const services = taken?.services ?? built(buildServices, o.services, release)
  // No DaemonSets at all means they were not read (forbidden, or absent from a file), not "no CNI".
  const cni = failed.has('daemonsets') || o.daemonSets.length === 0 ? undefined : detectCni(o.daemonSets)
  const otherProblems: ModelProblem[] = []
  const namespaces = buildNamespaces(o.namespaces ?? [], otherProblems, release)
  const kubeProxy = readKubeProxy(o.kubeProxyConfigMap, cni?.kubeProxy, otherProblems)
  const pods = taken?.pods ?? built(buildPods, o.pods, release)
  const endpointSlices = taken?.endpointSlices ?? built(buildEndpointSlices, o.endpointSlices, release)
  const policyProblems: ModelProblem[] = []
  const networkPolicies = failed.has('networkpolicies') ? undefined : buildNetworkPolicies(o.networkPolicies, policyProblems, release)
  const ipamBlocks = o.ipamBlocks ? buildIpamBlocks(o.ipamBlocks, otherProblems, release) : undefined
  return {
    nodes,
    pods: pods.items,
    services: services.items,
    endpointSlices: endpointSlices.items,
    ...(networkPolicies ? {networkPolicies} : {}),
    ...(cni ? {cni} : {}),
    ...(namespaces.length > 0 ? {namespaces} : {}),
    kubeProxy,
    cidrs: clusterCidrs(nodes, services.items, kubeProxy.clusterCIDRs, o.serviceCIDRs, otherProblems),
    ...(ipamBlocks ? {ipamBlocks} : {}),
    ...(evidence.serverVersion ? {serverVersion: evidence.serverVersion} : {}),
    problems: [...nodeProblems, ...services.problems, ...otherProblems, ...pods.problems, ...endpointSlices.problems, ...policyProblems],
    collectionErrors: [...evidence.errors],
  }
}

function built<T>(build: (raw: unknown[], problems: ModelProblem[], release: boolean) => T[], raw: unknown[], release: boolean): {items: T[]; problems: ModelProblem[]} {
  const problems: ModelProblem[] = []
  return {items: build(raw, problems, release), problems}
}
