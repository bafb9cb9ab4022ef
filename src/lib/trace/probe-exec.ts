/**
 * `knet trace --probe` on a real cluster: the real packet is sent from the source pod itself,
 * through the pods/exec API (client-node's Exec), with the first tool the pod has — nc, curl, wget,
 * bash's /dev/tcp (TCP); nc -u, bash's /dev/udp (UDP); ping (ICMP). A tool is "not there" when the
 * runtime cannot start it (containerd's "executable file not found") or it exits 126/127, and then
 * the next is tried. A pod with none of them gets an ephemeral debug container (--image, as
 * `kubectl debug` adds one; it shares the pod's network namespace, so the packet is the pod's) —
 * the one thing knet ever writes to a workload, never removable, and said so in `probe.via`.
 * A node source sends it from the node's own network namespace: from knet's node pod on that node
 * (--node-access pod: created for the probe and deleted after it, as for gathering) or the agent's
 * pod there (--node-access agent). An outside address is not probed: the answer says so, as an
 * unknown observation, not an error.
 */
import {randomBytes} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'
import type {ExecOutput, PodClient, PodState} from '../gather/cluster/pods.js'
import {onNodePod, type PodSessionOptions} from '../gather/node/pod-gather.js'
import {KnetError} from '../report/errors.js'
import {compareWithProbe, type Observation} from './probe.js'
import {PROBE_WAIT_S, probeArgv, readToolRun, TOOL_ORDER, UDP_PAYLOAD, validTarget, type ExecOutcome, type ProbeTarget, type ProbeTool, type ToolVerdict} from './probe-exec-argv.js'
import type {TraceProbe, TraceResult} from './types.js'

/** knet's ephemeral containers are named this plus a run id. */
export const EPHEMERAL_PREFIX = 'knet-probe-'
/** The ephemeral container's command: it stops by itself after this long (it can never be removed). */
export const EPHEMERAL_LIFETIME_S = 300
/** Attempts for a Service with several endpoints (kube-proxy picks one per connection). */
export const SERVICE_ATTEMPTS = 12
/**
 * UDP has no handshake: one datagram, or its answer, lost or late on a busy node is not the path
 * dropping it. A single target is sent to again after a timeout, up to this many times in all, and
 * one answer is delivered. (A TCP connect is retransmitted by the kernel within the tool's wait.)
 */
export const UDP_TRIES = 3

export interface ExecProbeOptions {
  client: PodClient
  /** The ephemeral container's image (--image; default: the node pods' debug image). */
  image: string
  /** The most knet waits for the ephemeral container to run. */
  startTimeoutMs: number
  /** Names the ephemeral container (knet-probe-RUNID); random by default. */
  runId?: string
  pollMs?: number
  /** ICMP payload bytes (--size); ping sends it with DF set, as the lab prober does. */
  size?: number
  onProgress?: (message: string) => void
}

type Run = {tool: ProbeTool; verdict: Extract<ToolVerdict, {usable: true}>}

/** Who sends the real packet: the source pod, the source node, or nobody (and why). */
export type ProbeSource = {kind: 'pod'; namespace: string; name: string} | {kind: 'node'; node: string} | {kind: 'none'; why: string}

export function probeSource(result: TraceResult): ProbeSource {
  const s = result.source
  if (s.kind === 'pod' && s.name?.startsWith('pod/')) {
    const [, namespace = '', name = ''] = s.name.split('/')
    return {kind: 'pod', namespace, name}
  }
  if (s.kind === 'node' && s.name?.startsWith('node/')) return {kind: 'node', node: s.name.slice('node/'.length)}
  return {kind: 'none', why: `no packet was sent: ${s.ip} is outside the cluster, and knet sends real packets only from a pod or a node (through exec)`}
}

const notSent = (detail: string, via: string | null = null): TraceProbe => ({observed: 'unknown', agrees: null, via, detail})

/** The packet the trace is about, as the probe tools' templates take it; a string when it cannot be sent (no port, an address no template takes). */
function probeTarget(result: TraceResult, size: number | undefined): ProbeTarget | string {
  const target: ProbeTarget = {protocol: result.protocol, ip: result.destination.ip, port: result.port, ...(result.protocol === 'icmp' && size !== undefined ? {size} : {}), ...(result.protocol !== 'icmp' && result.source.port !== null ? {sourcePort: result.source.port} : {})}
  try {
    validTarget(target)
    return target
  } catch (error) {
    return `no packet was sent: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** Send the real packet from the trace's source pod and compare it with the prediction. */
export async function probeFromPod(result: TraceResult, o: ExecProbeOptions): Promise<TraceProbe> {
  const source = probeSource(result)
  if (source.kind !== 'pod') return notSent(source.kind === 'none' ? source.why : `no packet was sent: ${result.source.name ?? 'the source'} is a node, not a pod`)
  const {namespace, name} = source
  const target = probeTarget(result, o.size)
  if (typeof target === 'string') return notSent(target)
  const pod = await o.client.get(namespace, name)
  const where = `pod/${namespace}/${name}`
  if (!pod) return notSent(`${where} no longer exists: no packet was sent`)
  if (pod.phase !== 'Running') return notSent(`${where} is ${pod.phase ?? 'not running'}: no packet was sent`)
  const container = pod.defaultContainer && pod.containers.includes(pod.defaultContainer) ? pod.defaultContainer : pod.containers[0]
  if (!container) return notSent(`${where} has no container to exec in`)

  const absent: string[] = []
  let found = await firstTool(o.client, namespace, name, container, target, absent)
  let via = found ? `exec ${found.tool} in ${where} (container ${container})` : ''
  let execIn = container
  if (!found) {
    // One an earlier run added that is still running (and has the same image) is used again rather than adding another for good.
    const earlier = pod.ephemeral.find((e) => e.name.startsWith(EPHEMERAL_PREFIX) && e.state === 'running' && e.image === o.image)
    const ephemeral = earlier?.name ?? `${EPHEMERAL_PREFIX}${o.runId ?? randomBytes(4).toString('hex')}`
    if (earlier) {
      o.onProgress?.(`${where} has none of ${candidates(target).join(', ')}: using ephemeral container ${ephemeral} (${o.image}), added by an earlier run`)
    } else {
      o.onProgress?.(`${where} has none of ${candidates(target).join(', ')}: adding ephemeral container ${ephemeral} (${o.image})`)
      await o.client.addEphemeralContainer(namespace, name, ephemeralContainer(ephemeral, o.image, container))
    }
    const ready = earlier ? true : await waitEphemeral(o, namespace, name, ephemeral)
    const prefix = `ephemeral container ${ephemeral} (image ${o.image}${earlier ? ', added by an earlier run' : ''}) in ${where}`
    if (ready !== true) return notSent(`no packet was sent: ${ready}; the pod has none of ${candidates(target).join(', ')} (${absent.join('; ')})`, prefix)
    execIn = ephemeral
    found = await firstTool(o.client, namespace, name, ephemeral, target, [])
    if (!found) return notSent(`no packet was sent: the image has none of ${candidates(target).join(', ')} either`, prefix)
    via = `${prefix}: ${found.tool}`
  }
  const runs = await sendAgain(o.client, {namespace, name, container: execIn}, target, found, attempts(result))
  return {...compareWithProbe(result, observation(result, runs, absent)), via}
}

export interface NodeProbeOptions {
  /** Where the node's commands run: knet's node pod (created and deleted here) or the agent's pod. */
  nodePods: PodSessionOptions
  /** ICMP payload bytes (--size). */
  size?: number
}

/** Send the real packet from the trace's source node (its network namespace, through a pod on it) and compare. */
export async function probeFromNode(result: TraceResult, o: NodeProbeOptions): Promise<TraceProbe> {
  const source = probeSource(result)
  if (source.kind !== 'node') return notSent(source.kind === 'none' ? source.why : `no packet was sent: ${result.source.name ?? 'the source'} is a pod, not a node`)
  const target = probeTarget(result, o.size)
  if (typeof target === 'string') return notSent(target)
  const {client} = o.nodePods
  const {run, errors} = await onNodePod(o.nodePods, source.node, async (t): Promise<TraceProbe> => {
    const where = `${t.kind === 'pod' ? "knet's node pod" : 'agent pod'} ${t.namespace}/${t.name} on ${source.node}`
    const absent: string[] = []
    const found = await firstTool(client, t.namespace, t.name, t.container, target, absent)
    if (!found) return notSent(`no packet was sent: ${where} has none of ${candidates(target).join(', ')} (${absent.join('; ')})`, where)
    const runs = await sendAgain(client, t, target, found, attempts(result))
    return {...compareWithProbe(result, observation(result, runs, absent)), via: `exec ${found.tool} in ${where} (the node's network namespace)`}
  })
  // A pod left behind is said at once, with the way out; it does not change what the packet did.
  for (const e of errors) o.nodePods.onProgress?.(e.message)
  if (run.ok) return run.value
  // What every later request would meet too (RBAC, credentials) ends the run as it would for a pod source.
  if (run.error instanceof KnetError && (run.error.kind === 'forbidden' || run.error.kind === 'unauthorized')) throw run.error
  return notSent(`no packet was sent: ${run.error instanceof KnetError ? run.error.oneLine() : run.error instanceof Error ? run.error.message : String(run.error)}`)
}

/** One connection per attempt: several for a Service with several endpoints (kube-proxy picks one per connection). */
const attempts = (result: TraceResult): number => (result.nat.dnat.length > 1 ? SERVICE_ATTEMPTS : 1)

/** The first run (the one that found the tool), then the other attempts with the same tool. */
async function sendAgain(client: PodClient, at: {namespace: string; name: string; container: string}, target: ProbeTarget, found: Run, total: number): Promise<Run[]> {
  const runs: Run[] = [found]
  const again = async (): Promise<void> => {
    const verdict = readToolRun(found.tool, target.protocol, await execTool(client, at.namespace, at.name, at.container, found.tool, target))
    // The tool worked a moment ago; anything it cannot say now is an error of this attempt.
    runs.push({tool: found.tool, verdict: verdict.usable ? verdict : {usable: true, outcome: 'error', detail: verdict.why}})
  }
  for (let i = 1; i < total; i++) await again()
  if (untilAnswered(target.protocol, total)) while (runs.length < UDP_TRIES && runs.every((r) => r.verdict.outcome === 'timeout')) await again()
  return runs
}

/** A UDP packet to one target: sent until answered (UDP_TRIES), not counted per attempt. */
function untilAnswered(protocol: ProbeTarget['protocol'], total: number): boolean {
  return protocol === 'udp' && total === 1
}

/** The tools that can send this packet, in the order they are tried. */
function candidates(target: ProbeTarget): ProbeTool[] {
  return TOOL_ORDER[target.protocol].filter((tool) => probeArgv(tool, target) !== undefined)
}

async function firstTool(client: PodClient, namespace: string, name: string, container: string, target: ProbeTarget, absent: string[]): Promise<Run | undefined> {
  for (const tool of TOOL_ORDER[target.protocol]) {
    // A tool that cannot send this packet (e.g. pin --source-port) is not a candidate.
    if (!probeArgv(tool, target)) continue
    const verdict = readToolRun(tool, target.protocol, await execTool(client, namespace, name, container, tool, target))
    if (verdict.usable) return {tool, verdict}
    absent.push(verdict.why)
  }
  return undefined
}

async function execTool(client: PodClient, namespace: string, name: string, container: string, tool: ProbeTool, target: ProbeTarget): Promise<ExecOutput> {
  const argv = probeArgv(tool, target) as string[]
  try {
    // The tool's own wait, plus room for the exec round trip; a bash connect that hangs is cut here.
    return await client.exec(namespace, name, container, argv, {
      timeoutMs: (PROBE_WAIT_S + 3) * 1000,
      maxBytes: 64 * 1024,
      ...(target.protocol === 'udp' ? {stdin: UDP_PAYLOAD} : {}),
    })
  } catch (error) {
    // RBAC refused the exec: point at what trace --probe needs, not at the node access modes.
    if (error instanceof KnetError && error.kind === 'forbidden') {
      throw new KnetError('forbidden', error.message, {
        ...(error.verb === undefined ? {} : {verb: error.verb}),
        ...(error.resource === undefined ? {} : {resource: error.resource}),
        suggestion: 'run `knet rbac --probe` for what trace --probe needs (pods/exec: create, get)',
        cause: error,
      })
    }
    throw error
  }
}

/** The ephemeral container knet adds: the image's tools, sleeping until it stops by itself. No extra privileges. */
export function ephemeralContainer(name: string, image: string, target: string): Record<string, unknown> {
  return {
    name,
    image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sleep', String(EPHEMERAL_LIFETIME_S)],
    stdin: false,
    tty: false,
    // Shares the target's process namespace where the runtime supports it (as kubectl debug --target); the network namespace is the pod's anyway.
    targetContainerName: target,
    terminationMessagePolicy: 'File',
  }
}

async function waitEphemeral(o: ExecProbeOptions, namespace: string, name: string, container: string): Promise<true | string> {
  const deadline = Date.now() + o.startTimeoutMs
  for (;;) {
    const pod: PodState | null = await o.client.get(namespace, name)
    const state = pod?.ephemeral.find((e) => e.name === container)
    if (!pod) return 'the pod disappeared'
    if (state?.state === 'running') return true
    if (state?.state === 'terminated') return `the ephemeral container ended (${state.reason ?? 'terminated'})`
    if (state?.state === 'waiting' && state.reason && /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerError|CreateContainerConfigError/.test(state.reason)) {
      return `the ephemeral container cannot start: ${state.reason} (check --image)`
    }
    if (Date.now() > deadline) return `the ephemeral container was not running after ${Math.round(o.startTimeoutMs / 1000)} s`
    await sleep(o.pollMs ?? 200)
  }
}

const shortName = (endpoint: string): string => endpoint.split('/').pop() ?? endpoint

/** The runs as the lab prober's observation: counts per outcome, and who answered when a reply names an endpoint pod. */
function observation(result: TraceResult, runs: Run[], absent: string[]): Observation {
  const outcomes: Record<ExecOutcome, number> = {delivered: 0, refused: 0, timeout: 0, error: 0}
  for (const r of runs) outcomes[r.verdict.outcome] += 1
  const endpoints = result.nat.dnat.length > 0 ? result.nat.dnat.flatMap((d) => (d.endpoint ? [shortName(d.endpoint)] : [])) : result.destination.kind === 'pod' && result.destination.name ? [shortName(result.destination.name)] : []
  const answered = new Set(runs.flatMap((r) => (r.verdict.answer && endpoints.includes(r.verdict.answer) ? [r.verdict.answer] : [])))
  // An echo reply comes from the address itself: for a pod, that pod (as the lab prober counts it).
  if (result.protocol === 'icmp' && outcomes.delivered > 0 && result.destination.kind === 'pod' && endpoints[0]) answered.add(endpoints[0])
  const total = runs.length
  const order: ExecOutcome[] = ['refused', 'timeout', 'error']
  const resent = untilAnswered(result.protocol, attempts(result)) && total > 1
  const outcome = outcomes.delivered === total || (resent && outcomes.delivered > 0) ? 'delivered' : outcomes.delivered > 0 ? 'partial' : order.reduce((best, k) => (outcomes[k] > outcomes[best] ? k : best), order[0] as ExecOutcome)
  const details = [...new Set(runs.flatMap((r) => (r.verdict.detail ? [r.verdict.detail] : [])))]
  if (resent) details.unshift(`UDP sent again after no answer, up to ${UDP_TRIES} times`)
  if (absent.length > 0) details.push(`skipped ${absent.join('; ')}`)
  return {
    outcome,
    answeredBy: [...answered].sort(),
    attempts: total,
    outcomes,
    // Which endpoint answered is known only when the reply names it (the lab's responders do).
    identifiesEndpoints: answered.size > 0,
    ...(details.length > 0 ? {detail: details.join('; ')} : {}),
  }
}
