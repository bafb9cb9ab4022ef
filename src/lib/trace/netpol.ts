/**
 * NetworkPolicy for one connection, from the API objects as the spec defines it: a pod selected by
 * a policy of a direction is isolated in that direction, and then only what some rule of some
 * selecting policy admits (peer and port) passes. Egress is judged at the source pod, ingress at the
 * destination pod, both on the translated (post-DNAT) address and port, as enforcement sees them.
 */
import type {ClusterModel, LabelSelector, NetworkPolicyModel, PodModel, PolicyPeer, PolicyPort} from '../model/cluster.js'
import {selectorMatches} from '../model/cluster/netpol.js'
import {cidrContains} from '../net/cidr.js'
import type {Packet} from '../datapath/netfilter/packet.js'
import type {HopStatus, TraceEvidence, TraceProtocol} from './types.js'
import {podByIp, type Walk} from './walk.js'

export interface PolicyJudgement {
  status: HopStatus
  message: string
  evidence: TraceEvidence[]
}

type Match = boolean | 'unknown'

const selects = selectorMatches

const isEmpty = (s: LabelSelector) => Object.keys(s.matchLabels).length === 0 && s.matchExpressions.length === 0

function peerMatches(cluster: ClusterModel, policy: NetworkPolicyModel, peer: PolicyPeer, ip: string, pod: PodModel | undefined): Match {
  if (peer.ipBlock) return cidrContains(peer.ipBlock.cidr, ip) && !peer.ipBlock.except.some((c) => cidrContains(c, ip))
  if (!pod) return false
  let nsOk: Match
  if (!peer.namespaceSelector) nsOk = pod.namespace === policy.namespace
  else if (isEmpty(peer.namespaceSelector)) nsOk = true
  else {
    const ns = cluster.namespaces?.find((n) => n.name === pod.namespace)
    nsOk = ns ? selects(peer.namespaceSelector, ns.labels) : 'unknown'
  }
  if (nsOk === false) return false
  const podOk = !peer.podSelector || selects(peer.podSelector, pod.labels)
  return podOk ? nsOk : false
}

function portMatches(ports: PolicyPort[], protocol: TraceProtocol, port: number | null, target: PodModel | undefined): boolean {
  if (ports.length === 0) return true
  if (protocol === 'icmp') return false
  return ports.some((p) => {
    if (p.protocol.toLowerCase() !== protocol) return false
    if (p.port === undefined) return true
    if (port === null) return false
    if (typeof p.port === 'number') return p.endPort === undefined ? p.port === port : port >= p.port && port <= p.endPort
    // A named port is the destination pod's container port of that name.
    return (target?.containers ?? []).some((c) => c.ports.some((cp) => cp.name === p.port && cp.containerPort === port && cp.protocol.toLowerCase() === protocol))
  })
}

/** Does `pod`'s policy (direction) admit the peer? undefined status "ok" when no policy selects the pod. */
export function judgePolicy(
  cluster: ClusterModel, direction: 'Ingress' | 'Egress', pod: PodModel,
  peer: {ip: string; pod?: PodModel}, protocol: TraceProtocol, port: number | null, target: PodModel | undefined,
): PolicyJudgement {
  const all = cluster.networkPolicies
  if (!all) return {status: 'unknown', message: 'NetworkPolicies could not be read', evidence: []}
  const selecting = all.filter((p) => p.namespace === pod.namespace && p.policyTypes.includes(direction) && selects(p.podSelector, pod.labels))
  const what = direction === 'Ingress' ? 'ingress' : 'egress'
  if (selecting.length === 0) return {status: 'ok', message: `no NetworkPolicy selects ${pod.namespace}/${pod.name} for ${what}`, evidence: []}
  const names = selecting.map((p) => `${p.namespace}/${p.name}`)
  const ev = (p: NetworkPolicyModel, text: string): TraceEvidence => ({source: `NetworkPolicy ${p.namespace}/${p.name}`, text})
  let unsure: NetworkPolicyModel | undefined
  for (const p of selecting) {
    const rules = direction === 'Ingress' ? p.ingress : p.egress
    for (const [i, rule] of rules.entries()) {
      const peerOk: Match = rule.peers.length === 0 ? true : rule.peers.reduce<Match>((acc, x) => (acc === true ? true : peerMatches(cluster, p, x, peer.ip, peer.pod) === true ? true : acc === 'unknown' || peerMatches(cluster, p, x, peer.ip, peer.pod) === 'unknown' ? 'unknown' : false), false)
      if (peerOk === false || !portMatches(rule.ports, protocol, port, target)) continue
      if (peerOk === 'unknown') {
        unsure = p
        continue
      }
      return {status: 'ok', message: `${what} admitted by NetworkPolicy ${p.namespace}/${p.name}`, evidence: [ev(p, `spec.${what}[${i}] admits ${peer.pod ? `${peer.pod.namespace}/${peer.pod.name}` : peer.ip}${port === null ? '' : ` port ${port}/${protocol}`}`)]}
    }
  }
  if (unsure) return {status: 'unknown', message: `NetworkPolicy ${unsure.namespace}/${unsure.name} may admit it, but the peer namespace's labels are not in evidence`, evidence: [ev(unsure, 'namespaceSelector needs Namespace labels')]}
  return {
    status: 'fail',
    message: `NetworkPolicy ${names.join(', ')} selects ${pod.namespace}/${pod.name} for ${what} and admits nothing from ${peer.pod ? `${peer.pod.namespace}/${peer.pod.name}` : peer.ip}${port === null ? ` (${protocol})` : ` on ${port}/${protocol}`}`,
    evidence: selecting.map((p) => ev(p, `spec.podSelector selects ${pod.name}; policyTypes ${p.policyTypes.join(',')}; ${(direction === 'Ingress' ? p.ingress : p.egress).length} ${what} rule(s), none matching`)),
  }
}

/** Forward direction only: does the API's NetworkPolicy deny this connection (egress of the source, ingress of the pod it now goes to)? */
export function deniedByPolicy(w: Walk, p: Packet): PolicyJudgement | undefined {
  if (w.reply) return undefined
  const target = podByIp(w.cluster, p.dst)
  const port = p.dport ?? null
  const checks = [
    ...(w.source.pod && target ? [judgePolicy(w.cluster, 'Egress', w.source.pod, {ip: p.dst, pod: target}, w.protocol, port, target)] : []),
    ...(target ? [judgePolicy(w.cluster, 'Ingress', target, {ip: w.source.ip, ...(w.source.pod ? {pod: w.source.pod} : {})}, w.protocol, port, target)] : []),
  ]
  return checks.find((j) => j.status === 'fail')
}
