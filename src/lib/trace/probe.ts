/**
 * `knet trace --probe`: the prediction next to a real packet (the lab's prober, what `knet lab
 * probe` sends), and whether they agree. A disagreement is a finding about knet itself: the command
 * says so on stderr and exits TRACE_DISAGREES. Only the lab can send packets until pod-exec node
 * access lands.
 */
import type {ProbeRequest, ProbeResult} from '../lab/probe.js'
import {badInput} from '../report/errors.js'
import type {TraceProbe, TraceResult} from './types.js'

/** What the lab prober is asked to send for this trace: same source, destination address, port, protocol, size. */
export function probeRequestFor(result: TraceResult, size?: number): ProbeRequest {
  if (result.source.kind === 'external' || !result.source.name) throw badInput('--probe: an external source cannot send a packet from the lab', 'probe from a pod or node/NAME')
  const service = result.destination.kind === 'service' || result.nat.dnat.length > 1
  return {
    source: result.source.name,
    destination: `${result.destination.ip}${result.port === null ? '' : `:${result.port}`}`,
    protocol: result.protocol,
    ...(size === undefined ? {} : {size}),
    ...(result.source.port === null ? {} : {sourcePort: result.source.port}),
    // A Service: enough short attempts to see every endpoint (the prober stops once all have answered).
    ...(service ? {timeoutMs: 500} : {}),
  }
}

const short = (endpoint: string) => endpoint.split('/').pop() ?? endpoint

function describe(o: ProbeResult): string {
  const counts = Object.entries(o.outcomes).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')
  const parts = [`${o.attempts} attempt${o.attempts === 1 ? '' : 's'}: ${counts || 'none'}`]
  if (o.answeredBy.length > 0) parts.push(`answered by ${o.answeredBy.join(', ')}`)
  if (o.silentEndpoints && o.silentEndpoints.length > 0 && o.outcome !== 'delivered') parts.push(`silent: ${o.silentEndpoints.join(', ')}`)
  if (o.detail) parts.push(o.detail)
  return parts.join('; ')
}

/** Prediction against observation. unknown predicts nothing (agrees: null); partial must name the same answering endpoints. */
export function compareWithProbe(result: TraceResult, observed: ProbeResult): TraceProbe {
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
