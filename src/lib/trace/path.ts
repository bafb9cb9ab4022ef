/**
 * `knet trace SRC DST` as a pure function of a snapshot: resolve the endpoints, start where the
 * packet starts (a pod's eth0, a node's own stack, or an external address entering at a node), walk
 * node by node, and turn the leaves into shared hops, one branch per Service endpoint, and a verdict.
 */
import {buildClusterModel} from '../model/cluster.js'
import {buildNodeDatapath, type NodeDatapath} from '../model/node.js'
import {lookupRoute} from '../net/route-lookup.js'
import {badInput} from '../report/errors.js'
import type {Snapshot} from '../snapshot/schema.js'
import type {Packet} from '../datapath/netfilter/packet.js'
import {bridgeState, downDeviceFor, podAttachment} from './bridge.js'
import {impliedProtocol, resolveEndpoint, type EndpointSpec} from './endpoints.js'
import {linkEvidence, sourceOf} from './evidence.js'
import {visitNode, type Arrival} from './node-hop.js'
import {TRACE_SCHEMA_VERSION, type TraceProtocol, type TraceResult} from './types.js'
import {composeResult} from './verdict.js'
import {failLeaf, hop, podByIp, type HopDraft, type Leaf, type Walk} from './walk.js'

export interface TraceRequest {
  source: EndpointSpec
  destination: EndpointSpec
  protocol?: TraceProtocol
  port?: number
  /** For a source outside the cluster: the node where it enters. */
  entryNode?: string
  /** Payload bytes; with it, a packet larger than an MTU on the path is a drop (mtu-exceeded). */
  size?: number
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
  const destination = resolveEndpoint(request.destination, cluster, {role: 'destination', ...(request.protocol ? {protocol: request.protocol} : {}), ...(request.port === undefined ? {} : {port: request.port})})
  const protocol = impliedProtocol(destination, request.protocol)
  if (protocol === 'icmp') destination.port = null
  else if (destination.port === null) throw badInput(`no port for ${destination.input}`, 'give DST:PORT or --port')
  const source = resolveEndpoint(request.source, cluster, {role: 'source', protocol})
  const w: Walk = {cluster, node, source, destination, protocol, ...(request.size === undefined ? {} : {size: request.size})}

  const packet: Packet = {
    family: 4, src: source.kind === 'node' ? '' : source.ip, dst: destination.ip, protocol, mark: 0, ctstate: 'NEW',
    ...(destination.port === null ? {} : {dport: destination.port}),
    ...(protocol === 'icmp' ? {icmpType: 8, icmpCode: 0} : {}),
  }
  let leaves: Leaf[]
  const cni = cluster.cni
  if (cni?.cni === 'cilium' && !cni.kubeProxy) {
    // Cilium without kube-proxy forwards and translates in eBPF, which no evidence knet reads shows.
    const h = hop(source.node, null, source.name ?? source.ip, 'the datapath is Cilium eBPF with kube-proxy replacement: routing and NAT happen in BPF programs knet cannot read', 'unknown', [{source: 'cluster state', text: `${cni.evidence ?? 'cilium DaemonSet'}; no kube-proxy DaemonSet`}])
    leaves = [failLeaf([], h, 'unknown-datapath', 'Cilium with kube-proxy replacement: the eBPF datapath is not in evidence', {masquerade: false}, true)]
  } else {
    leaves = start(w, packet, request)
  }
  return {schemaVersion: TRACE_SCHEMA_VERSION, source: strip(source), destination: strip(destination), protocol, port: destination.port, ...composeResult(leaves, w)}
}

function strip<T extends {pod?: unknown; service?: unknown; servicePort?: unknown; nodeModel?: unknown}>(e: T): Omit<T, 'pod' | 'service' | 'servicePort' | 'nodeModel'> {
  const {pod: _p, service: _s, servicePort: _sp, nodeModel: _n, ...rest} = e
  return rest
}

function start(w: Walk, packet: Packet, request: TraceRequest): Leaf[] {
  const {source} = w
  if (source.kind === 'node') {
    return visitNode(w, {...arrival(source.node as string, packet, undefined, source.node as string, []), note: `generated on ${source.node as string} (nat OUTPUT, not PREROUTING)`})
  }
  if (source.kind === 'external') {
    const entry = request.entryNode
    if (!entry) throw badInput(`${source.ip} is no pod's, Service's or node's address`, 'say where it enters the cluster with --entry-node NAME')
    if (!w.cluster.nodes.some((n) => n.name === entry)) throw badInput(`--entry-node: no node ${entry} in the cluster state`)
    const dp = w.node(entry)
    const back = dp?.routes4 ? lookupRoute({rules: dp.rules4 ?? [], routes: dp.routes4}, {dst: source.ip}) : undefined
    const inIface = back?.dev ?? 'eth0'
    const first = hop(null, null, source.ip, `external traffic from ${source.ip} entering at ${entry} by ${inIface} (the device of ${entry}'s route back to it)`, 'ok', source.evidence)
    return visitNode(w, arrival(entry, {...packet, inIface}, inIface, `${entry} ${inIface}`, [first]))
  }
  // A pod: its eth0, then its host side on the node, identified from the node's own state.
  const pod = source.pod
  const nodeName = source.node
  const podLabel = `${pod?.name ?? source.ip} eth0`
  const eth0 = hop(nodeName, 'eth0', podLabel, `leaves pod ${source.name ?? source.ip} by eth0 from ${source.ip}`, 'ok', source.evidence)
  if (!nodeName) return [failLeaf([], eth0, 'evidence-missing', `pod ${source.name ?? ''} is not scheduled on a node`, {masquerade: false}, true)]
  const dp = w.node(nodeName)
  if (!dp?.routes4) {
    const h = hop(nodeName, null, 'veth?', `${nodeName}'s routes are not in evidence`, 'unknown', dp ? [{source: sourceOf(dp, 'routes4'), text: dp.evidence.routes4?.status ?? 'absent'}] : [])
    return [failLeaf([eth0], h, 'evidence-missing', `${nodeName}'s datapath was not gathered`, {masquerade: false}, true)]
  }
  // The node's route back to the pod names the device the pod sits behind (a bridge, or a routed veth).
  const back = lookupRoute({rules: dp.rules4 ?? [], routes: dp.routes4}, {dst: source.ip})
  const dev = back.kind === 'unicast' && !back.gateway ? back.dev : undefined
  const down = downDeviceFor(dp, source.ip)
  if (!dev && down) {
    const h = hop(nodeName, down.ifname, down.ifname, `${down.ifname}, which holds ${source.ip}'s subnet, is down`, 'fail', [linkEvidence(dp, down)])
    return [failLeaf([eth0], h, 'link-down', `${nodeName}: ${down.ifname} is down`, {masquerade: false})]
  }
  if (!dev) {
    const h = hop(nodeName, null, 'veth?', `${nodeName} has no direct route back to ${source.ip}`, 'fail', back.trail.map((t) => ({source: sourceOf(dp, 'routes4'), text: t})))
    return [failLeaf([eth0], h, 'route-missing', `${nodeName} has no route back to its pod ${source.ip}`, {masquerade: false})]
  }
  const att = podAttachment(dp, source.ip, dev)
  const veth = hop(nodeName, att.device, att.device ?? 'veth?', att.action, att.status, att.evidence, att.code)
  if (att.status !== 'ok') return [failLeaf([eth0], veth, att.code ?? 'evidence-missing', `${nodeName}: ${att.action}`, {masquerade: false}, att.status === 'unknown')]
  const b = bridgeState(dp, dev)
  if (b.isBridge && b.status !== 'ok') {
    const h = hop(nodeName, dev, dev, b.action, b.status, b.evidence, b.code)
    return [failLeaf([eth0, veth], h, b.code ?? 'link-down', `${nodeName}: ${b.action}`, {masquerade: false}, b.status === 'unknown')]
  }
  // The bridge is where the node's stack sees the packet (a routed CNI: the veth itself).
  const hops: HopDraft[] = b.isBridge ? [eth0, veth] : [eth0]
  const label = b.isBridge ? dev : `${nodeName} ${dev}`
  return visitNode(w, {...arrival(nodeName, {...packet, inIface: dev}, dev, label, hops), ...(att.device ? {inPort: att.device} : {})})
}

function arrival(node: string, packet: Packet, inIface: string | undefined, label: string, hops: HopDraft[]): Arrival {
  return {node, packet, ...(inIface === undefined ? {} : {inIface}), label, hops, masquerade: false, visited: []}
}

export {podByIp}
