/**
 * `knet lab probe`: real packets from a pod's (or node's) namespace, and what really happened —
 * the ground truth trace and doctor are checked against. TCP and UDP go through prober.js (which
 * learns the answering pod's name from the responder); ICMP through `ping -M do`, so a packet too
 * big for the path fails instead of being fragmented.
 */
import {execa} from 'execa'
import {KnetError} from '../report/errors.js'
import {inNetns} from './exec.js'
import {assertLabPlatform} from './platform.js'
import type {LabPlan} from './plan.js'
import {helperScript} from './processes.js'
import type {ProberAttempt, ProberJob} from './prober.js'
import {labPlanOf, labRoot, readLabState} from './state.js'
import {resolveDestination, resolveSource, type ProbeProtocol, type ProbeSource, type ResolvedDestination} from './targets.js'
import {pingFailureReason} from '../parse/ping.js'

export const PROBE_SCHEMA_VERSION = 1
export const SERVICE_ATTEMPTS = 40

export type ProbeOutcome = 'delivered' | 'refused' | 'timeout' | 'error'

export interface ProbeRequest {
  source: string
  destination: string
  protocol?: ProbeProtocol
  /** Payload bytes: UDP datagram size, or ping's -s (ICMP data, without the 28 bytes of headers). */
  size?: number
  /** Attempts; default 1, or up to SERVICE_ATTEMPTS for a Service (stopping once every endpoint answered). */
  attempts?: number
  timeoutMs?: number
  /** TCP/UDP: send every attempt from this source port (e.g. to hit one UDP conntrack entry again). */
  sourcePort?: number
  /** The address family for destinations given by name (a pod, node or Service); default: the lab's primary one. */
  family?: 4 | 6
}

export interface ProbeResult {
  schemaVersion: 1
  lab: string
  source: ProbeSource
  destination: ResolvedDestination
  protocol: ProbeProtocol
  port: number | null
  size: number
  /** delivered|refused|timeout|error when every attempt agreed; "partial" when some were delivered and some not. */
  outcome: ProbeOutcome | 'partial'
  /** Names of the pods that answered (for ICMP to a pod: that pod), sorted, each once. */
  answeredBy: string[]
  attempts: number
  outcomes: Record<ProbeOutcome, number>
  /** For a Service: endpoints that never answered. */
  silentEndpoints?: string[]
  detail?: string
}

export async function loadLabPlan(name: string, root = labRoot()): Promise<LabPlan> {
  const state = await readLabState(name, root)
  if (!state) throw new KnetError('bad-input', `no lab named ${name}`, {suggestion: `start one with "knet lab up --name ${name}"`})
  if (state.status !== 'up') throw new KnetError('bad-input', `lab ${name} is ${state.status}, not up`, {suggestion: `run "knet lab down --name ${name}" then "knet lab up --name ${name}"`})
  return labPlanOf(state)
}

export async function labProbe(name: string, request: ProbeRequest, options: {root?: string; plan?: LabPlan} = {}): Promise<ProbeResult> {
  assertLabPlatform()
  const plan = options.plan ?? (await loadLabPlan(name, options.root))
  return probeWithPlan(plan, request)
}

export async function probeWithPlan(plan: LabPlan, request: ProbeRequest): Promise<ProbeResult> {
  return (await probeMany(plan, [request]))[0] as ProbeResult
}

interface Prepared {
  request: ProbeRequest
  source: ProbeSource
  destination: ResolvedDestination
  endpoints: string[]
  job: ProberJob | undefined
  size: number
  attempts: number
  timeoutMs: number
}

/**
 * Several probes at once: all TCP/UDP probes from one source share one prober process (their
 * attempts run concurrently), so a whole matrix costs one process per source, not per probe.
 */
export async function probeMany(plan: LabPlan, requests: ProbeRequest[]): Promise<ProbeResult[]> {
  const prepared = requests.map((request) => prepare(plan, request))
  const bySource = new Map<string, number[]>()
  prepared.forEach((p, i) => {
    if (p.job) bySource.set(p.source.netns, [...(bySource.get(p.source.netns) ?? []), i])
  })
  const attempts: ProberAttempt[][] = prepared.map(() => [])
  await Promise.all([
    ...[...bySource].map(async ([netns, indexes]) => {
      const out = await prober(netns, indexes.map((i) => prepared[i]?.job as ProberJob))
      out.forEach((list, k) => (attempts[indexes[k] as number] = list))
    }),
    ...prepared.map(async (p, i) => {
      if (!p.job) attempts[i] = await ping(p.source.netns, p.destination.ip, p.size, p.attempts, p.timeoutMs)
    }),
  ])
  return prepared.map((p, i) => summarise(plan, p, attempts[i] ?? []))
}

function prepare(plan: LabPlan, request: ProbeRequest): Prepared {
  const destination = resolveDestination(plan, request.destination, request.protocol, request.family)
  // The source speaks the destination's family (the kernel picks that address of the pod or node).
  const source = resolveSource(plan, request.source, destination.ip.includes(':') ? 6 : 4)
  const protocol = destination.protocol
  const endpoints = destination.service?.endpoints ?? []
  const attempts = request.attempts ?? (destination.service && endpoints.length > 1 ? SERVICE_ATTEMPTS : 1)
  const timeoutMs = request.timeoutMs ?? 1000
  const size = request.size ?? (protocol === 'icmp' ? 56 : 16)
  if (protocol !== 'icmp' && destination.port === undefined) throw new KnetError('bad-input', `${request.destination}: give a port for ${protocol} (DST:PORT)`)
  const job: ProberJob | undefined =
    protocol === 'icmp'
      ? undefined
      : {
          protocol,
          ip: destination.ip,
          port: destination.port as number,
          attempts,
          timeoutMs,
          size,
          ...(endpoints.length > 1 ? {stopAfterDistinct: endpoints.length} : {}),
          ...(request.sourcePort === undefined ? {} : {sourcePort: request.sourcePort}),
        }
  return {request, source, destination, endpoints, job, size, attempts, timeoutMs}
}

function summarise(plan: LabPlan, p: Prepared, results: ProberAttempt[]): ProbeResult {
  const {source, destination, endpoints, size} = p
  const protocol = destination.protocol
  const outcomes: Record<ProbeOutcome, number> = {delivered: 0, refused: 0, timeout: 0, error: 0}
  for (const r of results) outcomes[r.outcome] += 1
  const answered = new Set(results.flatMap((r) => (r.answeredBy ? [r.answeredBy] : [])))
  if (protocol === 'icmp' && outcomes.delivered > 0 && destination.kind === 'pod' && destination.name) answered.add(destination.name.split('/').pop() as string)
  const details = [...new Set(results.flatMap((r) => (r.detail ? [r.detail] : [])))]
  return {
    schemaVersion: PROBE_SCHEMA_VERSION,
    lab: plan.params.name,
    source,
    destination,
    protocol,
    port: protocol === 'icmp' ? null : (destination.port ?? null),
    size,
    outcome: overall(outcomes, results.length),
    answeredBy: [...answered].sort(),
    attempts: results.length,
    outcomes,
    ...(destination.service ? {silentEndpoints: endpoints.filter((e) => !answered.has(e))} : {}),
    ...(details.length > 0 ? {detail: details.join('; ')} : {}),
  }
}

function overall(outcomes: Record<ProbeOutcome, number>, total: number): ProbeResult['outcome'] {
  if (outcomes.delivered === total) return 'delivered'
  if (outcomes.delivered > 0) return 'partial'
  const order: ProbeOutcome[] = ['refused', 'timeout', 'error']
  return order.reduce((best, o) => (outcomes[o] > outcomes[best] ? o : best), order[0] as ProbeOutcome)
}

/**
 * How long a prober or ping process may take beyond its own attempts' timeouts before it is taken
 * for hung: the attempts time themselves inside the process, so this only has to cover starting
 * Node in the namespace — seconds on an idle machine, over ten with two CI runs on two cores.
 */
const PROCESS_ALLOWANCE_MS = 120_000

async function prober(netns: string, jobs: ProberJob[]): Promise<ProberAttempt[][]> {
  const argv = inNetns(netns, [process.execPath, helperScript('prober'), JSON.stringify(jobs)])
  const longest = Math.max(...jobs.map((j) => j.attempts * j.timeoutMs))
  const r = await execa(argv[0] as string, argv.slice(1), {reject: false, timeout: longest + PROCESS_ALLOWANCE_MS})
  if (r.timedOut) throw new KnetError('command-failed', `probe from ${netns} did not finish within ${Math.round((longest + PROCESS_ALLOWANCE_MS) / 1000)} s`)
  const out: ProberAttempt[][] = jobs.map(() => [])
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const {job, ...attempt} = JSON.parse(line) as ProberAttempt & {job: number}
    out[job]?.push(attempt)
  }
  if (out.some((a) => a.length === 0)) throw new KnetError('command-failed', `probe from ${netns} failed: ${r.stderr.split('\n')[0] || (r.exitCode === undefined ? `killed by ${r.signal ?? 'a signal'}` : `exit ${r.exitCode}`)}`)
  return out
}


async function ping(netns: string, ip: string, size: number, attempts: number, timeoutMs: number): Promise<ProberAttempt[]> {
  const out: ProberAttempt[] = []
  const wait = String(Math.max(1, Math.ceil(timeoutMs / 1000)))
  for (let i = 0; i < attempts; i++) {
    const start = Date.now()
    const argv = inNetns(netns, ['ping', '-n', '-c', '1', '-W', wait, '-s', String(size), '-M', 'do', ip])
    const r = await execa(argv[0] as string, argv.slice(1), {reject: false, timeout: timeoutMs + PROCESS_ALLOWANCE_MS})
    const text = `${r.stdout}\n${r.stderr}`
    const ms = Date.now() - start
    if (r.exitCode === 0) {
      out.push({outcome: 'delivered', ms})
      continue
    }
    const reason = pingFailureReason(text)
    if (reason) out.push({outcome: 'error', detail: reason, ms})
    else if (r.exitCode === 1) out.push({outcome: 'timeout', ms})
    else out.push({outcome: 'error', detail: text.trim().split('\n')[0] ?? `ping exit ${r.exitCode}`, ms})
  }
  return out
}
