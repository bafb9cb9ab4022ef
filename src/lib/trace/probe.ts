/**
 * `knet trace --probe`: the prediction next to a real packet, and whether they agree. In a lab the
 * packet is the lab's prober's (what `knet lab probe` sends); on a live cluster it is sent from the
 * source pod through exec (probe-exec.ts). A disagreement is a finding about knet itself: the
 * command says so on stderr and exits TRACE_DISAGREES.
 */
import type {PodAccessOptions} from '../gather/node/pod-access.js'
import type {ProbeRequest, ProbeResult} from '../lab/probe.js'
import {badInput} from '../report/errors.js'
import type {TraceProbe, TraceResult} from './types.js'
import {hostPort} from '../net/cidr.js'

/** What the lab prober is asked to send for this trace: same source, destination address, port, protocol, size. */
export function probeRequestFor(result: TraceResult, size?: number): ProbeRequest {
  if (result.source.kind === 'external' || !result.source.name) throw badInput('--probe: an external source cannot send a packet from the lab', 'probe from a pod or node/NAME')
  const service = result.destination.kind === 'service' || result.nat.dnat.length > 1
  return {
    source: result.source.name,
    destination: hostPort(result.destination.ip, result.port),
    protocol: result.protocol,
    // The traced family: the prober sends from the source's address of it (ping -6, ICMPv6 for icmp).
    ...(result.family === 6 ? {family: 6 as const} : {}),
    ...(size === undefined ? {} : {size}),
    ...(result.source.port === null ? {} : {sourcePort: result.source.port}),
    // A Service: enough short attempts to see every endpoint (the prober stops once all have answered).
    ...(service ? {timeoutMs: 500} : {}),
  }
}

const short = (endpoint: string) => endpoint.split('/').pop() ?? endpoint

/**
 * What a real packet did, whoever sent it: the lab prober's result, or the exec probe's. Which
 * endpoint answered is known when the reply names it (the lab's responders answer with their pod
 * name); identifiesEndpoints false means a partial outcome can only be compared as partial.
 */
export type Observation = Pick<ProbeResult, 'outcome' | 'answeredBy' | 'attempts' | 'outcomes' | 'silentEndpoints' | 'detail'> & {identifiesEndpoints?: boolean}

function describe(o: Observation): string {
  const counts = Object.entries(o.outcomes).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')
  const parts = [`${o.attempts} attempt${o.attempts === 1 ? '' : 's'}: ${counts || 'none'}`]
  if (o.answeredBy.length > 0) parts.push(`answered by ${o.answeredBy.join(', ')}`)
  if (o.silentEndpoints && o.silentEndpoints.length > 0 && o.outcome !== 'delivered') parts.push(`silent: ${o.silentEndpoints.join(', ')}`)
  if (o.detail) parts.push(o.detail)
  return parts.join('; ')
}

/** Prediction against observation. unknown predicts nothing (agrees: null); partial must name the same answering endpoints. */
export function compareWithProbe(result: TraceResult, observed: Observation): TraceProbe {
  const seen = describe(observed)
  const o = observed.outcome
  const base = {observed: o}
  switch (result.verdict) {
    case 'unknown':
      return {...base, agrees: null, detail: `trace made no prediction (unknown); the real packet: ${o} (${seen})`}
    case 'delivered':
      return o === 'delivered' ? {...base, agrees: true, detail: seen} : {...base, agrees: false, detail: `predicted delivered, but the real packet was ${o} (${seen})`}
    case 'dropped':
      return o === 'delivered' || o === 'partial'
        ? {...base, agrees: false, detail: `predicted dropped (${result.reason?.code ?? '?'}), but the real packet was ${o} (${seen})`}
        : {...base, agrees: true, detail: seen}
    case 'partial': {
      if (o !== 'partial') return {...base, agrees: false, detail: `predicted partial, but the real packet was ${o} (${seen})`}
      if (observed.identifiesEndpoints === false) return {...base, agrees: true, detail: `${seen}; which endpoints answered is unknown (the replies do not name them)`}
      const predicted = result.branches.filter((b) => b.verdict === 'delivered').map((b) => short(b.endpoint)).sort()
      const answered = [...observed.answeredBy].sort()
      if (predicted.join(',') === answered.join(',')) return {...base, agrees: true, detail: seen}
      return {...base, agrees: false, detail: `predicted answers from ${predicted.join(', ') || 'none'}, but ${answered.join(', ') || 'none'} answered (${seen})`}
    }
  }
}

/** Send the real packet in lab `lab` and compare. */
export async function probeInLab(lab: string, result: TraceResult, size?: number): Promise<TraceProbe> {
  const {labProbe} = await import('../lab/probe.js')
  return compareWithProbe(result, await labProbe(lab, probeRequestFor(result, size)))
}

export interface LiveProbeOptions {
  kubeconfig?: string
  context?: string
  /** Each API request (--timeout). */
  timeoutMs: number
  /** The ephemeral container's and node pods' image (--image). */
  image?: string
  /** The most the ephemeral container may take to run; for a node source, the node pod's whole run (--node-timeout). */
  startTimeoutMs?: number
  size?: number
  /** How a node source is reached (--node-access): its knet node pod (pod, the default) or the agent's pod (agent). */
  nodeAccess?: string
  pod?: Pick<PodAccessOptions, 'debugNamespace' | 'agentSelector' | 'agentNamespace'>
  onProgress?: (message: string) => void
}

/** Send the real packet from the source pod or node of a live cluster (through the API's exec) and compare. */
export async function probeLive(result: TraceResult, o: LiveProbeOptions): Promise<TraceProbe> {
  const {probeFromNode, probeFromPod, probeSource} = await import('./probe-exec.js')
  const source = probeSource(result)
  if (source.kind === 'none') return {observed: 'unknown', agrees: null, via: null, detail: source.why}
  const mode = o.nodeAccess ?? 'pod'
  if (source.kind === 'node' && mode !== 'pod' && mode !== 'agent') {
    return {observed: 'unknown', agrees: null, via: null, detail: `no packet was sent: from a node, knet sends it through a pod on that node (--node-access pod or agent), not --node-access ${mode}`}
  }
  const {openPodClient} = await import('../gather/cluster/pods.js')
  const {DEFAULT_DEBUG_NAMESPACE, DEFAULT_IMAGE} = await import('../gather/node/pod-manifest.js')
  const {DEFAULT_NODE_TIMEOUT_MS} = await import('../gather/node/pod-access.js')
  const client = openPodClient({kubeconfig: o.kubeconfig, context: o.context, timeoutMs: o.timeoutMs})
  const image = o.image ?? DEFAULT_IMAGE
  if (source.kind === 'node') {
    return probeFromNode(result, {
      nodePods: {
        mode: mode as 'pod' | 'agent',
        client,
        image,
        debugNamespace: o.pod?.debugNamespace ?? DEFAULT_DEBUG_NAMESPACE,
        ...(o.pod?.agentSelector === undefined ? {} : {agentSelector: o.pod.agentSelector}),
        agentNamespace: o.pod?.agentNamespace ?? 'kube-system',
        nodeTimeoutMs: o.startTimeoutMs ?? DEFAULT_NODE_TIMEOUT_MS,
        ...(o.onProgress ? {onProgress: o.onProgress} : {}),
      },
      ...(o.size === undefined ? {} : {size: o.size}),
    })
  }
  return probeFromPod(result, {
    client,
    image,
    startTimeoutMs: o.startTimeoutMs ?? 120_000,
    ...(o.size === undefined ? {} : {size: o.size}),
    ...(o.onProgress ? {onProgress: o.onProgress} : {}),
  })
}
