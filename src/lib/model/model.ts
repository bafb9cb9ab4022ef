/**
 * The analysis model doctor's checks read: the cluster model, each node's datapath, the collection
 * errors, and the indexes several checks share (pod IP → pods, Service → ready endpoints, labels →
 * pods, each node's kube-proxy view…). Each index is built once, on first use, so a run of one
 * check does not pay for the others and no check rebuilds what another already built.
 */
import type {Finding} from '../report/finding.js'
import type {CollectionError} from '../report/collection-error.js'
import type {Snapshot} from '../snapshot/schema.js'
import {buildClusterModel, type BuildOptions, type ClusterModel, type EndpointSliceModel, type NodeModel, type PodModel, type ServiceModel} from './cluster.js'
import {buildNodeDatapath, type NodeDatapath} from './node.js'
import {readKubeProxyView} from './kube-proxy-view.js'
import {readKubeProxyNftView} from './kube-proxy-nft-view.js'
import {readKubeProxyIpvsView} from './kube-proxy-ipvs-view.js'

export interface ReadyEndpoint {
  ip: string
  port?: number
  protocol: string
  /** The slice and field the endpoint came from, for evidence. */
  slice: string
  field: string
}

export interface KubeProxyRule {
  text: string
  line: number
}

export interface KubeProxyTarget {
  ip: string
  port?: number
  chain: string
  rule: KubeProxyRule
}

/** One Service port as a node's kube-proxy iptables rules implement it. */
export interface KubeProxyServicePort {
  /** kube-proxy's ServicePortName: "ns/name:port", or "ns/name" for an unnamed port. */
  portName: string
  namespace: string
  name: string
  port: string
  /** Lower case, as in the rules: tcp, udp, sctp. */
  protocol: string
  clusterIP?: string
  chain: string
  rule: KubeProxyRule
  targets: KubeProxyTarget[]
  /** A rule of this port's chains that could not be read (garbled by a mismatched iptables): its targets are not known. */
  unreadable?: KubeProxyRule
}

export interface KubeProxyView {
  node: string
  /** Where the rules were read: "node-1: iptables-save", "node-1: nft -j list ruleset". */
  source: string
  /** The mode whose rules these are (issue 15: iptables, nftables and IPVS are each read in their own layout). */
  mode: KubeProxyMode
  ports: KubeProxyServicePort[]
  /** Keyed by `${portName}|${protocol}`. */
  byKey: Map<string, KubeProxyServicePort>
  /** filter-table REJECT rules kube-proxy writes for Service ports without endpoints. */
  noEndpoints: {portName: string; rule: KubeProxyRule}[]
  /** Rules that belong to no Service of the cluster state and name none (IPVS virtual services are tied to Services by address only). */
  orphans?: {what: string; rule: KubeProxyRule}[]
}

export type KubeProxyMode = 'iptables' | 'ipvs' | 'nftables'

export interface ObservedMode {
  mode: KubeProxyMode
  evidence: Finding['evidence'][number]
}

export interface AnalysisModel {
  cluster?: ClusterModel
  nodes: NodeDatapath[]
  collectionErrors: CollectionError[]
  index: ModelIndex
}

export interface ModelIndex {
  nodeByName(): Map<string, NodeModel>
  /** Every node address (InternalIP, ExternalIP…) → its node. */
  nodeByAddress(): Map<string, NodeModel>
  /** Pod IP → pods holding it (hostNetwork pods included; finished pods left out). */
  podsByIp(): Map<string, PodModel[]>
  serviceByKey(): Map<string, ServiceModel>
  slicesByService(): Map<string, EndpointSliceModel[]>
  /** Every address listed in any EndpointSlice. */
  endpointAddresses(): Set<string>
  /** Pods of a namespace matching every label of an equality selector. */
  selectPods(namespace: string, selector: Record<string, string>): PodModel[]
  podsInNamespace(namespace: string): PodModel[]
  kubeProxyView(node: NodeDatapath): KubeProxyView | undefined
  observedKubeProxyMode(node: NodeDatapath): ObservedMode | undefined
}

/** With `release`, the snapshot's API objects are emptied as the model is built (see BuildOptions). */
export function buildModel(snapshot: Snapshot, options: BuildOptions = {}): AnalysisModel {
  const cluster = snapshot.cluster ? buildClusterModel(snapshot.cluster, options) : undefined
  const nodes = snapshot.nodes.map(buildNodeDatapath).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return {...(cluster ? {cluster} : {}), nodes, collectionErrors: snapshot.collectionErrors.map((e) => ({...e, kind: e.kind as CollectionError['kind']})), index: buildIndex(cluster)}
}

export function buildAnalysisModel(cluster: ClusterModel | undefined, nodes: NodeDatapath[], collectionErrors: CollectionError[] = []): AnalysisModel {
  return {...(cluster ? {cluster} : {}), nodes, collectionErrors, index: buildIndex(cluster)}
}

function once<T>(make: () => T): () => T {
  let value: {v: T} | undefined
  return () => (value ??= {v: make()}).v
}

function buildIndex(cluster: ClusterModel | undefined): ModelIndex {
  const nodes = cluster?.nodes ?? []
  const pods = cluster?.pods ?? []
  const nodeByName = once(() => new Map(nodes.map((n) => [n.name, n])))
  const nodeByAddress = once(() => {
    const m = new Map<string, NodeModel>()
    for (const n of nodes) for (const a of n.addresses) if (a.type !== 'Hostname' && a.type !== 'InternalDNS' && a.type !== 'ExternalDNS') m.set(a.address, n)
    return m
  })
  const podsByIp = once(() => {
    const m = new Map<string, PodModel[]>()
    for (const p of pods) {
      if (p.phase === 'Succeeded' || p.phase === 'Failed') continue
      for (const ip of p.podIPs) {
        const list = m.get(ip)
        if (list) list.push(p)
        else m.set(ip, [p])
      }
    }
    return m
  })
  const serviceByKey = once(() => new Map((cluster?.services ?? []).map((s) => [`${s.namespace}/${s.name}`, s])))
  const slicesByService = once(() => {
    const m = new Map<string, EndpointSliceModel[]>()
    for (const s of cluster?.endpointSlices ?? []) {
      if (!s.serviceName) continue
      const key = `${s.namespace}/${s.serviceName}`
      const list = m.get(key)
      if (list) list.push(s)
      else m.set(key, [s])
    }
    return m
  })
  const endpointAddresses = once(() => new Set((cluster?.endpointSlices ?? []).flatMap((s) => s.endpoints.flatMap((e) => e.addresses))))
  const byNamespace = once(() => {
    const m = new Map<string, {all: PodModel[]; byLabel: Map<string, PodModel[]>}>()
    for (const p of pods) {
      let ns = m.get(p.namespace)
      if (!ns) m.set(p.namespace, (ns = {all: [], byLabel: new Map()}))
      ns.all.push(p)
      for (const [k, v] of Object.entries(p.labels)) {
        const key = `${k}=${v}`
        const list = ns.byLabel.get(key)
        if (list) list.push(p)
        else ns.byLabel.set(key, [p])
      }
    }
    return m
  })
  // Several checks select the pods of every Service with the Service's own selector object: each
  // selection is made once per selector object and namespace.
  const selected = new WeakMap<Record<string, string>, {namespace: string; pods: PodModel[]}>()
  const selectPods = (namespace: string, selector: Record<string, string>): PodModel[] => {
    const known = selected.get(selector)
    if (known !== undefined && known.namespace === namespace) return known.pods
    const pods = selectPodsOnce(namespace, selector)
    selected.set(selector, {namespace, pods})
    return pods
  }
  const selectPodsOnce = (namespace: string, selector: Record<string, string>): PodModel[] => {
    const ns = byNamespace().get(namespace)
    if (!ns) return []
    const entries = Object.entries(selector)
    if (entries.length === 0) return ns.all
    // Start from the rarest label, then filter: cost is the smallest candidate list, not all pods.
    let smallest: PodModel[] | undefined
    for (const [k, v] of entries) {
      const list = ns.byLabel.get(`${k}=${v}`)
      if (!list) return []
      if (!smallest || list.length < smallest.length) smallest = list
    }
    return (smallest ?? []).filter((p) => entries.every(([k, v]) => p.labels[k] === v))
  }
  const views = new WeakMap<NodeDatapath, KubeProxyView | undefined>()
  const kubeProxyView = (node: NodeDatapath): KubeProxyView | undefined => {
    if (!views.has(node)) views.set(node, nodeKubeProxyView(node, cluster))
    return views.get(node)
  }
  return {
    nodeByName,
    nodeByAddress,
    podsByIp,
    serviceByKey,
    slicesByService,
    endpointAddresses,
    selectPods,
    podsInNamespace: (namespace) => byNamespace().get(namespace)?.all ?? [],
    kubeProxyView,
    observedKubeProxyMode: (node) => observeMode(node, kubeProxyView(node)),
  }
}


/**
 * The node's kube-proxy rules in whichever mode it shows: iptables (KUBE-SERVICES with Service
 * chains), else the nft table `kube-proxy`, else IPVS (virtual services); iptables otherwise, even
 * when empty, so a node with no rules reads as "no rules for any Service".
 */
function nodeKubeProxyView(node: NodeDatapath, cluster?: ClusterModel): KubeProxyView | undefined {
  const ipt = node.iptables4 ? readKubeProxyView(node.name, node.evidence['iptables-save']?.source ?? `${node.name}: iptables-save`, node.iptables4) : undefined
  if (ipt && ipt.ports.length > 0) return ipt
  const nft = node.nft ? readKubeProxyNftView(node.name, node.evidence.nft?.source ?? `${node.name}: nft`, node.nft) : undefined
  if (nft) return nft
  const ipvs = readKubeProxyIpvsView(node, cluster)
  if (ipvs) return ipvs
  return ipt
}

/** The kube-proxy mode a node's own state shows (its rules, kube-ipvs0, IPVS services, nft table). */
export function observeKubeProxyMode(node: NodeDatapath): ObservedMode | undefined {
  return observeMode(node, nodeKubeProxyView(node))
}

function observeMode(node: NodeDatapath, view: KubeProxyView | undefined): ObservedMode | undefined {
  const ev = (id: string, text: string) => ({source: node.evidence[id]?.source ?? `${node.name}: ${id}`, text})
  const first = view?.ports[0]
  if (first && view?.mode === 'iptables') return {mode: 'iptables', evidence: ev('iptables-save', first.rule.text)}
  const ipvsLink = node.links?.find((l) => l.ifname === 'kube-ipvs0')
  if (ipvsLink) return {mode: 'ipvs', evidence: ev('links', `${ipvsLink.ifindex}: kube-ipvs0 ${ipvsLink.kind ?? ''}`.trim())}
  const firstVs = node.ipvs?.services[0]
  if (firstVs) return {mode: 'ipvs', evidence: ev('ipvsadm', `-A ${firstVs.protocol} ${firstVs.address ?? firstVs.fwmark}:${firstVs.port ?? ''} -s ${firstVs.scheduler}`)}
  const nftTable = node.nft?.tables.find((t) => t.name === 'kube-proxy')
  if (nftTable) return {mode: 'nftables', evidence: ev('nft', `table ${nftTable.family} kube-proxy`)}
  // An IPv6-only cluster's kube-proxy writes its rules to ip6tables alone.
  for (const [dump, id] of [[node.iptables4, 'iptables-save'], [node.iptables6, 'ip6tables-save']] as const) {
    const services = dump?.tables.find((t) => t.name === 'nat')?.chainIndex.get('KUBE-SERVICES')
    if (services && services.rules[0]) return {mode: 'iptables', evidence: ev(id, services.rules[0].raw)}
  }
  return undefined
}
