/**
 * The cluster's pod and Service ranges, as far as the API lets them be known. The pod range is not
 * an API field: it lives in kube-controller-manager/kube-proxy flags (visible only through
 * kube-proxy's config) and per-node podCIDRs. The Service range is held by networking.k8s.io/v1
 * ServiceCIDR objects from Kubernetes 1.33 (kube-apiserver writes the `kubernetes` one from its
 * --service-cluster-ip-range, and kube-proxy reads them); on older clusters it lives only in
 * kube-apiserver flags, and only the `kubernetes` Service's IP — always the range's first usable
 * address — hints at it.
 */
import {parseCidr} from '../../net/cidr.js'
import type {NodeModel} from './nodes.js'
import {arr, meta, rec, str, type ModelProblem} from './read.js'
import type {ServiceModel} from './services.js'

/** One Service range from a ServiceCIDR object. */
export interface ServiceRange {
  cidr: string
  /** The ServiceCIDR's name ("kubernetes" for the API server's own). */
  serviceCIDR: string
  /** Where in it: "spec.cidrs[0]". */
  field: string
}

export interface ClusterCidrs {
  /** kube-proxy's clusterCIDR (the whole pod range), when its config was readable. */
  podFromKubeProxy: string[]
  /** Each node's allocated pod range(s). Empty with CNIs that do not use them (AWS VPC CNI, Calico IPAM). */
  podFromNodes: {node: string; cidr: string}[]
  /** default/kubernetes clusterIPs. */
  kubernetesServiceIPs: string[]
  /** The Service ranges of every ServiceCIDR object, both families, in name order. Empty when there were none to read. */
  service: ServiceRange[]
  /**
   * Only without ServiceCIDRs: a Service range inferred from the kubernetes Service IP and
   * well-known defaults (kubeadm and kind 10.96.0.0/12, EKS 10.100.0.0/16 or 172.20.0.0/16, AKS
   * 10.0.0.0/16, GKE 34.118.224.0/20). Labelled as an assumption wherever it is shown.
   */
  serviceAssumed?: {cidr: string; reason: string}
}

const DEFAULT_SERVICE_RANGES = ['10.96.0.0/12', '10.100.0.0/16', '172.20.0.0/16', '10.0.0.0/16', '34.118.224.0/20']

export function clusterCidrs(
  nodes: readonly NodeModel[],
  services: readonly ServiceModel[],
  kubeProxyCidrs: readonly string[],
  serviceCIDRs: readonly unknown[] = [],
  problems: ModelProblem[] = [],
): ClusterCidrs {
  const kubernetes = services.find((s) => s.namespace === 'default' && s.name === 'kubernetes')
  const ips = kubernetes?.clusterIPs ?? []
  const service = serviceRanges(serviceCIDRs, problems)
  // The IPv4 ClusterIP, also where the Service is IPv6-primary (cidr-overlap guesses the IPv6 range).
  const first = ips.find((ip) => !ip.includes(':'))
  const range = service.length === 0 && first ? DEFAULT_SERVICE_RANGES.find((r) => firstHostOf(r) === first) : undefined
  return {
    podFromKubeProxy: [...kubeProxyCidrs],
    podFromNodes: nodes.flatMap((n) => n.podCIDRs.map((cidr) => ({node: n.name, cidr}))),
    kubernetesServiceIPs: [...ips],
    service,
    ...(range ? {serviceAssumed: {cidr: range, reason: `the kubernetes Service has ${first}, the first address of this common default range`}} : {}),
  }
}

/** spec.cidrs of each ServiceCIDR (at most one IPv4 and one IPv6 each); an unreadable entry is a problem. */
function serviceRanges(raw: readonly unknown[], problems: ModelProblem[]): ServiceRange[] {
  const out: ServiceRange[] = []
  raw.forEach((obj, i) => {
    const m = meta(obj)
    if (!m) {
      problems.push({subject: `serviceCIDRs[${i}]`, message: 'ServiceCIDR without metadata.name'})
      return
    }
    arr(rec(rec(obj).spec).cidrs).forEach((value, j) => {
      const text = str(value)
      const cidr = text === undefined ? undefined : parseCidr(text)
      if (!cidr || !text?.includes('/')) {
        problems.push({subject: `ServiceCIDR ${m.name}`, message: `spec.cidrs[${j}] ${JSON.stringify(value)} is not a CIDR`})
        return
      }
      out.push({cidr: cidr.text, serviceCIDR: m.name, field: `spec.cidrs[${j}]`})
    })
  })
  return out.sort((a, b) => (a.serviceCIDR === b.serviceCIDR ? 0 : a.serviceCIDR < b.serviceCIDR ? -1 : 1))
}

function firstHostOf(cidr: string): string | undefined {
  const [base, bits] = cidr.split('/')
  const octets = (base ?? '').split('.').map(Number)
  if (octets.length !== 4 || bits === undefined) return undefined
  const value = (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) >>> 0
  const next = (value + 1) >>> 0
  return [next >>> 24, (next >>> 16) & 255, (next >>> 8) & 255, next & 255].join('.')
}
