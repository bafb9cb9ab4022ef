/**
 * Shared by the fault tests: one lab per file, a baseline that must be delivered before every
 * break and after every heal, and probe lines that show a whole batch's outcomes at once.
 */
import type {ProbeRequest, ProbeResult} from '../../../src/lib/lab/probe.js'

export type Expectation = [ProbeRequest, string]

/** "SRC → DST proto[ size N]: outcome [answeredBy]" */
export function probeLine(r: ProbeResult): string {
  const size = r.protocol === 'icmp' && r.size !== 56 ? ` size ${r.size}` : ''
  return `${r.source.name.split('/').pop()} → ${r.destination.input} ${r.protocol}${size}: ${r.outcome} [${r.answeredBy.join(',')}]`
}

/**
 * Service probes for a Service with a dead endpoint, with short attempts (each one that goes to the
 * dead endpoint waits its whole timeout; a live endpoint needs only one of its many attempts
 * answered in time): 40 of them see each live one of four endpoints with probability 1 − 0.75^40
 * (pass {attempts: 24} for two endpoints: 1 − 0.5^24). Pass {attempts: 2} where the whole Service
 * is expected to time out.
 */
export function svc(source: string, service: string, extra: Partial<ProbeRequest> = {}): ProbeRequest {
  return {source, destination: `svc/default/${service}`, attempts: 40, timeoutMs: 200, ...extra}
}

export function pod(source: string, destination: string, protocol: 'tcp' | 'udp' | 'icmp' = 'tcp', extra: Partial<ProbeRequest> = {}): ProbeRequest {
  return {source, destination, protocol, ...extra}
}

/** What must be delivered whenever no fault is applied (2 nodes × 2 pods). */
export const BASELINE: Expectation[] = [
  [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]'],
  [pod('web-2-2', 'web-1-2', 'udp'), 'web-2-2 → web-1-2 udp: delivered [web-1-2]'],
  [pod('web-1-1', 'web-1-2', 'icmp'), 'web-1-1 → web-1-2 icmp: delivered [web-1-2]'],
  [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'],
  [{source: 'web-1-2', destination: 'svc/default/web'}, 'web-1-2 → svc/default/web tcp: delivered [web-1-1,web-1-2,web-2-1,web-2-2]'],
  [{source: 'web-2-1', destination: 'svc/default/dns'}, 'web-2-1 → svc/default/dns udp: delivered [web-1-1,web-2-1]'],
]
