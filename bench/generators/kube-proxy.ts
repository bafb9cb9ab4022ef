/**
 * A kube-proxy iptables dump for S Services × E endpoints, consistent with a synthetic cluster.
 *
 * The cluster comes from the shared generator (src/lib/apiserver/generate.ts): S Services and S·E
 * pods, so each Service selects about E pods (1 % of pods are not ready, some Services are
 * headless, NodePort or LoadBalancer with either traffic policy). The dump is what kube-proxy's
 * iptables mode writes for one worker node of that cluster (src/lib/lab/kube-proxy-rules.ts, the
 * generator the lab loads into real namespaces), so doctor's NAT checks on it should be silent:
 * the benchmark measures a healthy node, and the test can count exactly what the parser must find.
 */
import {generateCluster} from '../../src/lib/apiserver/generate.js'
import {kubeProxyIptablesRules, type EndpointModel, type KubeProxyModel, type ServiceModel} from '../../src/lib/lab/kube-proxy-rules.js'

export interface NatCase {
  services: number
  endpoints: number
  seed?: number
}

export interface NatFixture {
  /** API objects of the whole cluster (Nodes, Pods, Services, EndpointSlices, …). */
  objects: unknown[]
  /** The worker whose rules the dump holds. */
  nodeName: string
  model: KubeProxyModel
  /** iptables-restore input (also what iptables-save prints back, up to formatting). */
  restore: string
  expected: {
    /** Service ports with at least one ready endpoint: one KUBE-SVC- chain each. */
    servicePorts: number
    /** Ready endpoints over all Service ports: one KUBE-SEP- chain (and DNAT rule) each. */
    endpoints: number
    /** Service ports without ready endpoints: a REJECT rule each in filter KUBE-SERVICES. */
    rejected: number
  }
}

/** Kubernetes' limit is 110 pods per node by default; 100 keeps every node's /24 comfortably. */
const PODS_PER_NODE = 100

interface Obj {
  kind: string
  metadata: {name: string; namespace?: string; labels?: Record<string, string>}
  spec?: Record<string, unknown>
  endpoints?: {addresses: string[]; conditions?: {ready?: boolean}; nodeName?: string}[]
  ports?: {name?: string; port?: number; protocol?: string}[]
}

export function natFixture({services, endpoints, seed = 42}: NatCase): NatFixture {
  const pods = services * endpoints
  const nodes = Math.max(3, Math.ceil(pods / PODS_PER_NODE))
  const objects = generateCluster({nodes, pods, services, seed, cni: 'flannel', kubeProxyMode: 'iptables'})
  const nodeName = 'node-00001'
  const model: KubeProxyModel = {clusterCIDR: '10.128.0.0/9', nodeName, services: kubeProxyServices(objects as Obj[])}
  let servicePorts = 0
  let readyEndpoints = 0
  let rejected = 0
  for (const s of model.services) {
    const ready = s.endpoints.filter((e) => e.ready !== false).length
    for (const _ of s.ports) {
      if (ready === 0) rejected++
      else servicePorts++
      readyEndpoints += ready
    }
  }
  return {objects, nodeName, model, restore: kubeProxyIptablesRules(model), expected: {servicePorts, endpoints: readyEndpoints, rejected}}
}

/**
 * What kube-proxy reads from the API: Services with a cluster IP, and for each Service port the
 * endpoints of the EndpointSlices that list that port (a port no slice lists has no endpoints).
 * One ServiceModel per port, since endpoints are per port; the chain names are the same.
 */
export function kubeProxyServices(objects: Obj[]): ServiceModel[] {
  const slices = new Map<string, Obj[]>()
  for (const o of objects) {
    if (o.kind !== 'EndpointSlice') continue
    const key = `${o.metadata.namespace}/${o.metadata.labels?.['kubernetes.io/service-name'] ?? ''}`
    const list = slices.get(key)
    if (list) list.push(o)
    else slices.set(key, [o])
  }
  const out: ServiceModel[] = []
  for (const o of objects) {
    if (o.kind !== 'Service') continue
    const spec = o.spec as {clusterIP?: string; externalTrafficPolicy?: 'Cluster' | 'Local'; ports?: {name?: string; port: number; protocol?: string; nodePort?: number}[]}
    if (!spec.clusterIP || spec.clusterIP === 'None') continue
    const own = slices.get(`${o.metadata.namespace}/${o.metadata.name}`) ?? []
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP'
      const eps: EndpointModel[] = []
      let targetPort = p.port
      for (const slice of own) {
        const sp = (slice.ports ?? []).find((x) => (x.name ?? '') === (p.name ?? '') && (x.protocol ?? 'TCP') === protocol)
        if (!sp) continue
        targetPort = sp.port ?? p.port
        for (const e of slice.endpoints ?? []) {
          for (const ip of e.addresses) eps.push({ip, ready: e.conditions?.ready !== false, ...(e.nodeName ? {nodeName: e.nodeName} : {})})
        }
      }
      out.push({
        namespace: o.metadata.namespace ?? 'default',
        name: o.metadata.name,
        clusterIP: spec.clusterIP,
        ...(spec.externalTrafficPolicy ? {externalTrafficPolicy: spec.externalTrafficPolicy} : {}),
        ports: [{name: p.name ?? '', port: p.port, protocol, targetPort, ...(p.nodePort === undefined ? {} : {nodePort: p.nodePort})}],
        endpoints: eps,
      })
    }
  }
  return out
}
