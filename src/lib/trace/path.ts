/**
 * `knet trace SRC DST` as a pure function of a snapshot: resolve the endpoints, start where the
 * packet starts (a pod's eth0, a node's own stack, or an external address entering at a node), walk
 * node by node, and turn the leaves into shared hops, one branch per Service endpoint, and a verdict.
 */
import {buildClusterModel, type ClusterModel} from '../model/cluster.js'
import {buildAnalysisModel, observeKubeProxyMode} from '../model/model.js'
import {buildNodeDatapath, type NodeDatapath} from '../model/node.js'
import {podRanges as readPodRanges, type PodRange} from '../model/pod-ranges.js'
import {lookupRoute} from '../net/route-lookup.js'
import {parseIp, type Family} from '../net/cidr.js'
import {familyTables} from '../model/node-family.js'
import {badInput} from '../report/errors.js'
import type {Snapshot} from '../snapshot/schema.js'
import type {Packet} from '../datapath/netfilter/packet.js'
import {impliedProtocol, resolveEndpoint, type EndpointSpec, type ResolvedEndpoint} from './endpoints.js'
import {notGathered} from './evidence.js'
import {visitNode} from './node-hop.js'
import {hasOwnNftChains} from '../datapath/nftables/pipeline.js'
import {ipvsReadable} from './node-netfilter.js'
import {arrival, leavePod} from './pod-start.js'
import {withReply} from './reply.js'
import {TRACE_SCHEMA_VERSION, type TraceProtocol, type TraceResult} from './types.js'
import {composeResult} from './verdict.js'
import {failLeaf, hop, podByIp, type Leaf, type Walk} from './walk.js'

export interface TraceRequest {
  source: EndpointSpec
  destination: EndpointSpec
  protocol?: TraceProtocol
  port?: number
  /** For a source outside the cluster: the node where it enters. */
  entryNode?: string
  /** Payload bytes; with it, a packet larger than an MTU on the path is a drop (mtu-exceeded). */
  size?: number
  /** The client's source port (TCP/UDP): a flow conntrack already holds follows its entry, not the nat rules. */
  sourcePort?: number
  /** --ip-family: which of a dual-stack Service's (or pod's) addresses is traced; absent: the destination's first. */
  family?: Family
}

export function traceSnapshot(snapshot: Snapshot, request: TraceRequest): TraceResult {
  if (!snapshot.cluster) throw badInput('the cluster objects are missing', 'trace needs the cluster state: use --snapshot with cluster objects, --objects, the API, or --lab')
  const cluster = buildClusterModel(snapshot.cluster)
  const built = new Map<string, NodeDatapath>()
  const node = (name: string): NodeDatapath | undefined => {
    if (!built.has(name)) {
      const ev = snapshot.nodes.find((n) => n.name === name)
      if (ev) built.set(name, buildNodeDatapath(ev))
    }
    return built.get(name)
  }
  const {source, destination, protocol} = resolveRequest(cluster, request)
  // Every node's pod ranges (IPAM blocks need all nodes' routes): read once, when first asked.
  let ranges: PodRange[] | undefined
  const podRanges = (): PodRange[] => {
    ranges ??= readPodRanges(buildAnalysisModel(cluster, snapshot.nodes.flatMap((n) => node(n.name) ?? []))).ranges
    return ranges
  }
  const family: Family = parseIp(destination.ip)?.family ?? 4
  const w: Walk = {cluster, node, podRanges, source, destination, protocol, family, ...(request.size === undefined ? {} : {size: request.size})}

  const packet: Packet = {
    family, src: source.kind === 'node' ? '' : source.ip, dst: destination.ip, protocol, mark: 0, ctstate: 'NEW',
    ...(destination.port === null ? {} : {dport: destination.port}),
    ...(request.sourcePort === undefined || protocol === 'icmp' ? {} : {sport: request.sourcePort}),
    // An echo request: ICMP type 8, ICMPv6 type 128.
    ...(protocol === 'icmp' ? {icmpType: family === 6 ? 128 : 8, icmpCode: 0} : {}),
  }
  let leaves: Leaf[]
  const unreadableNat = serviceNatNotReadable(w, request)
  const cni = cluster.cni
  if (cni?.cni === 'cilium' && !cni.kubeProxy) {
    // Cilium without kube-proxy forwards and translates in eBPF, which no evidence knet reads shows.
    const h = hop(source.node, null, source.name ?? source.ip, 'the datapath is Cilium eBPF with kube-proxy replacement: routing and NAT happen in BPF programs knet cannot read', 'unknown', [{source: 'cluster state', text: `${cni.evidence ?? 'cilium DaemonSet'}; no kube-proxy DaemonSet`}])
    leaves = [failLeaf([], h, 'unknown-datapath', 'Cilium with kube-proxy replacement: the eBPF datapath is not in evidence', {masquerade: false}, true)]
  } else if (unreadableNat) {
    leaves = [unreadableNat]
  } else {
    // Delivered means the connection works: its reply must find its way back too.
    leaves = start(w, packet, request).map((leaf) => withReply(w, leaf))
  }
  return {schemaVersion: TRACE_SCHEMA_VERSION, source: strip(source), destination: strip(destination), protocol, port: destination.port, family, ...composeResult(leaves, w)}
}

/** SRC and DST against the cluster state (bad input, exit 2, for what cannot be traced). */
export function resolveRequest(cluster: ClusterModel, request: TraceRequest): {source: ResolvedEndpoint; destination: ResolvedEndpoint; protocol: TraceProtocol} {
  const destination = resolveEndpoint(request.destination, cluster, {role: 'destination', ...(request.protocol ? {protocol: request.protocol} : {}), ...(request.port === undefined ? {} : {port: request.port}), ...(request.family === undefined ? {} : {family: request.family})})
  const protocol = impliedProtocol(destination, request.protocol)
  if (protocol === 'icmp') destination.port = null
  else if (destination.port === null) throw badInput(`no port for ${destination.input}`, 'give DST:PORT or --port')
  // One trace is one family: the source's address is the one of the destination's family.
  const source = resolveEndpoint(request.source, cluster, {role: 'source', protocol, family: parseIp(destination.ip)?.family ?? 4})
  if (request.sourcePort !== undefined) {
    if (protocol === 'icmp') throw badInput('--source-port needs tcp or udp')
    source.port = request.sourcePort
  }
  if (source.kind === 'external') {
    const entry = request.entryNode
    if (!entry) throw badInput(`${source.ip} is no pod's, Service's or node's address`, 'say where it enters the cluster with --entry-node NAME')
    if (!cluster.nodes.some((n) => n.name === entry)) throw badInput(`--entry-node: no node ${entry} in the cluster state`)
  }
  return {source, destination, protocol}
}

function strip<T extends {pod?: unknown; service?: unknown; servicePort?: unknown; nodeModel?: unknown}>(e: T): Omit<T, 'pod' | 'service' | 'servicePort' | 'nodeModel'> {
  const {pod: _p, service: _s, servicePort: _sp, nodeModel: _n, ...rest} = e
  return rest
}

/**
 * A Service (or NodePort) is translated by kube-proxy on the node where the packet first meets
 * netfilter. In IPVS or nftables mode those translations are not in iptables: without the mode's
 * own evidence (ipvsadm, nft) the trace says so (evidence-missing, quoting what the node command
 * returned) instead of walking iptables rules that are not used.
 */
function serviceNatNotReadable(w: Walk, request: TraceRequest): Leaf | undefined {
  const {source, destination} = w
  const natNode = destination.kind === 'service'
    ? (source.kind === 'external' ? request.entryNode : source.node)
    : destination.kind === 'node' && destination.port !== null ? destination.node : undefined
  if (!natNode) return undefined
  const dp = w.node(natNode)
  const observed = dp ? observeKubeProxyMode(dp) : undefined
  const configured = w.cluster.kubeProxy.mode
  const mode = observed?.mode ?? (configured === 'ipvs' || configured === 'nftables' ? configured : undefined)
  if (mode !== 'ipvs' && mode !== 'nftables') return undefined
  // Issue 15: kube-proxy's nft table (and IPVS with its evidence) are evaluated like iptables.
  if (dp && serviceNatReadable(dp, mode)) return undefined
  const evidence = observed ? [observed.evidence] : [{source: w.cluster.kubeProxy.source ?? 'kube-proxy ConfigMap', text: `mode: ${mode}`}]
  // What was asked of the node and what came back (a timeout, nft not installed), or that it was never asked.
  const ids = mode === 'ipvs' ? ['ipvsadm', 'iptables-save'] : ['nft']
  if (dp) for (const id of ids) if (dp.evidence[id]?.status !== 'ok') evidence.push(notGathered(dp, id))
  const needs = mode === 'ipvs' ? 'its virtual services (ipvsadm -S -n) and iptables-save' : 'its nft tables (nft -j list chains, nft -j list table)'
  const h = hop(natNode, null, destination.name ?? destination.ip, `kube-proxy on ${natNode} runs in ${mode} mode: the Service translation is in ${mode === 'ipvs' ? 'IPVS' : 'nftables'}, and ${needs} are not in evidence`, 'unknown', evidence)
  return failLeaf([], h, 'evidence-missing', `${natNode}: kube-proxy ${mode} mode, whose translation is not in evidence (${mode === 'ipvs' ? 'ipvsadm' : 'nft'} not gathered)`, {masquerade: false}, true)
}

function serviceNatReadable(dp: NodeDatapath, mode: 'ipvs' | 'nftables'): boolean {
  if (mode === 'nftables') return hasOwnNftChains(dp.nft, dp.iptables4 !== undefined)
  return ipvsReadable(dp)
}

function start(w: Walk, packet: Packet, request: TraceRequest): Leaf[] {
  const {source} = w
  if (source.kind === 'node') {
    return visitNode(w, {...arrival(source.node as string, packet, undefined, source.node as string, []), note: `generated on ${source.node as string} (nat OUTPUT, not PREROUTING)`})
  }
  if (source.kind === 'external') {
    const entry = request.entryNode as string
    const dp = w.node(entry)
    const tables = dp ? familyTables(dp, w.family) : undefined
    const back = tables && tables.routes.length > 0 ? lookupRoute(tables, {dst: source.ip}) : undefined
    const inIface = back?.dev ?? 'eth0'
    const first = hop(null, null, source.ip, `external traffic from ${source.ip} entering at ${entry} by ${inIface} (the device of ${entry}'s route back to it)`, 'ok', source.evidence)
    return visitNode(w, arrival(entry, {...packet, inIface}, inIface, `${entry} ${inIface}`, [first]))
  }
  // A pod: its eth0, then its host side on the node, identified from the node's own state.
  return leavePod(w, {ip: source.ip, node: source.node, name: source.name ?? source.ip, short: source.pod?.name ?? source.ip, evidence: source.evidence}, packet)
}


export {podByIp}
