/**
 * The cluster's pod and Service ranges, as far as the API lets them be known. Neither is an API
 * field: the pod range lives in kube-controller-manager/kube-proxy flags (visible only through
 * kube-proxy's config) and per-node podCIDRs; the Service range lives in kube-apiserver flags,
 * and only the `kubernetes` Service's IP — always the range's first usable address — shows it.
 */
import type {NodeModel} from './nodes.js'
import type {ServiceModel} from './services.js'

export interface ClusterCidrs {
  /** kube-proxy's clusterCIDR (the whole pod range), when its config was readable. */
  podFromKubeProxy: string[]
  /** Each node's allocated pod range(s). Empty with CNIs that do not use them (AWS VPC CNI, Calico IPAM). */
  podFromNodes: {node: string; cidr: string}[]
  /** default/kubernetes clusterIPs. */
  kubernetesServiceIPs: string[]
  /**
   * A Service range inferred from the kubernetes Service IP and well-known defaults (kubeadm and
   * kind 10.96.0.0/12, EKS 10.100.0.0/16 or 172.20.0.0/16, AKS 10.0.0.0/16, GKE 34.118.224.0/20).
   * Labelled as an assumption wherever it is shown.
   */
  serviceAssumed?: {cidr: string; reason: string}
}

const DEFAULT_SERVICE_RANGES = ['10.96.0.0/12', '10.100.0.0/16', '172.20.0.0/16', '10.0.0.0/16', '34.118.224.0/20']

export function clusterCidrs(nodes: readonly NodeModel[], services: readonly ServiceModel[], kubeProxyCidrs: readonly string[]): ClusterCidrs {
  const kubernetes = services.find((s) => s.namespace === 'default' && s.name === 'kubernetes')
  const ips = kubernetes?.clusterIPs ?? []
  const first = ips[0]
  const range = first ? DEFAULT_SERVICE_RANGES.find((r) => firstHostOf(r) === first) : undefined
  return {
    podFromKubeProxy: [...kubeProxyCidrs],
    podFromNodes: nodes.flatMap((n) => n.podCIDRs.map((cidr) => ({node: n.name, cidr}))),
    kubernetesServiceIPs: [...ips],
    ...(range ? {serviceAssumed: {cidr: range, reason: `the kubernetes Service has ${first}, the first address of this common default range`}} : {}),
  }
}

function firstHostOf(cidr: string): string | undefined {
  const [base, bits] = cidr.split('/')
  const octets = (base ?? '').split('.').map(Number)
  if (octets.length !== 4 || bits === undefined) return undefined
  const value = (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) >>> 0
  const next = (value + 1) >>> 0
  return [next >>> 24, (next >>> 16) & 255, (next >>> 8) & 255, next & 255].join('.')
}
