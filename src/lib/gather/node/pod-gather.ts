/**
 * Node evidence through pods (`--node-access pod` and `agent`). For each node, at most `parallel`
 * at once and each within `nodeTimeoutMs`: pod mode creates knet's node pod (pod-manifest.ts),
 * waits for Running, runs the catalogue through exec and deletes the pod in a finally; agent mode
 * execs into the Running pod of an existing DaemonSet on that node. A node that fails is a
 * collection error and the others go on.
 *
 * Nothing may outlive the run: SIGINT and SIGTERM abort every node (in-flight execs are closed),
 * each node's finally deletes its pod, then a sweep lists this run's pods by their run-id label
 * and deletes any a late create answer left, and the run ends with GatherInterrupted (exit 130 or
 * 143). A second signal gives up on cleanup at once and says so; `knet cleanup` removes what is left.
 */
import {randomBytes} from 'node:crypto'
import type {CollectionError} from '../../report/collection-error.js'
import {KnetError, type ErrorKind} from '../../report/errors.js'
import type {NodeEvidence} from '../../snapshot/schema.js'
import type {PodClient, PodState} from '../cluster/pods.js'
import {gatherNodes, mapLimit, nodeCollectionErrors} from './gather-node.js'
import {CONTAINER_NAME, nodePodManifest, nodePodName, RUN_ID_LABEL} from './pod-manifest.js'
import {PodExecTransport} from './pod-transport.js'
import type {NodeProgressListener} from './progress.js'

/** Where knet's node pods come from and how long one node may take. */
export interface PodSessionOptions {
  mode: 'pod' | 'agent'
  client: PodClient
  /** pod mode */
  image: string
  debugNamespace: string
  /** agent mode */
  agentSelector?: string
  agentNamespace?: string
  nodeTimeoutMs: number
  /** The least time each node command is given (--timeout). */
  commandTimeoutMs?: number
  signal?: AbortSignal
  onProgress?: (message: string) => void
  /** Test hook: a fixed run id. */
  runId?: string
  /** How often a starting pod is polled (ms). */
  pollMs?: number
}

export interface PodGatherOptions extends PodSessionOptions {
  nodes: readonly string[]
  parallel: number
  /** Each node as it starts (its pod is created) and ends (its pod is deleted), for a progress display. */
  onNodeProgress?: NodeProgressListener
}

/** Where a node's commands run: knet's own pod on it (pod mode) or the agent's pod there; both share the node's network namespace. */
export interface NodeExecTarget {
  kind: 'pod' | 'agent'
  node: string
  namespace: string
  name: string
  container: string
}

/** What one node's work came to, and the pod that could not be deleted after it. */
export type NodeRun<T> = ({ok: true; value: T} | {ok: false; error: unknown}) & {cleanup?: CollectionError}

interface NodePods {
  /** Aborted by SIGINT/SIGTERM, the caller's signal, or a create refusal every node would get. */
  readonly signal: AbortSignal
  /** Run work on node: in pod mode knet's pod is created there first and deleted after, whatever happens. */
  on<T>(node: string, index: number, signal: AbortSignal, work: (target: NodeExecTarget) => Promise<T>): Promise<NodeRun<T>>
}

const EXIT_BY_SIGNAL: Partial<Record<NodeJS.Signals, number>> = {SIGINT: 130, SIGTERM: 143}

/** The run was interrupted; its pods have been removed (or the message says which could not be). */
export class GatherInterrupted extends KnetError {
  constructor(signal: NodeJS.Signals, message: string) {
    super('internal', message)
    // 128 + the signal number, as a shell reports a process killed by it.
    Object.defineProperty(this, 'exitCode', {value: EXIT_BY_SIGNAL[signal] ?? 130})
  }
}

// A container that will not start no matter how long knet waits.
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError'])

export async function gatherViaPods(o: PodGatherOptions): Promise<{nodes: NodeEvidence[]; errors: CollectionError[]}> {
  const {value: results, errors} = await withNodePods(o, (pods) => {
    o.onNodeProgress?.({kind: 'plan', nodes: o.nodes})
    return mapLimit(o.nodes, o.parallel, async (node, index): Promise<NodeOutcome> => {
      if (pods.signal.aborted) {
        o.onNodeProgress?.({kind: 'done', node})
        return {errors: [nodeError(node, 'internal', 'not gathered: the run was interrupted')]}
      }
      o.onNodeProgress?.({kind: 'start', node})
      const {signal, clear} = nodeDeadline(pods.signal, o.nodeTimeoutMs)
      const run = await pods.on(node, index, signal, (t) => gatherOne(node, new PodExecTransport(t.kind, o.client, t.namespace, t.name, t.container), signal, o.onProgress, o.commandTimeoutMs)).finally(clear)
      o.onNodeProgress?.({kind: 'done', node})
      const outcome: NodeOutcome = run.ok
        ? {evidence: run.value, errors: evidenceErrors(run.value, o.nodeTimeoutMs, signal)}
        : {errors: [signal.aborted ? abortError(node, o.nodeTimeoutMs, signal) : errorOf(node, run.error)]}
      if (run.cleanup) outcome.errors.push(run.cleanup)
      return outcome
    })
  })
  return {nodes: results.flatMap((r) => (r.evidence ? [r.evidence] : [])), errors: [...results.flatMap((r) => r.errors), ...errors]}
}

/**
 * Run work once on one node, where its commands run (knet's pod there, or the agent's), within
 * nodeTimeoutMs; the pod is removed afterwards, also on SIGINT/SIGTERM (then GatherInterrupted).
 * Errors: pods that could not be deleted.
 */
export async function onNodePod<T>(o: PodSessionOptions, node: string, work: (target: NodeExecTarget, signal: AbortSignal) => Promise<T>): Promise<{run: NodeRun<T>; errors: CollectionError[]}> {
  const {value: run, errors} = await withNodePods(o, (pods) => {
    const {signal, clear} = nodeDeadline(pods.signal, o.nodeTimeoutMs)
    return pods.on(node, 0, signal, (t) => work(t, signal)).finally(clear)
  })
  return {run, errors: run.cleanup ? [run.cleanup, ...errors] : errors}
}

/**
 * The run's signal, or a TimeoutError after ms (--node-timeout). Not `AbortSignal.any([parent,
 * AbortSignal.timeout(ms)])`: Node 20 holds the timeout signal only weakly there, and once garbage
 * collected it never fires — a node pod that stayed Pending for a minute kept knet polling forever.
 */
function nodeDeadline(parent: AbortSignal, ms: number): {signal: AbortSignal; clear: () => void} {
  const controller = new AbortController()
  const onParent = (): void => controller.abort(parent.reason)
  if (parent.aborted) onParent()
  else parent.addEventListener('abort', onParent, {once: true})
  const timer = setTimeout(() => controller.abort(new DOMException(`not done within ${ms} ms`, 'TimeoutError')), ms)
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer)
      parent.removeEventListener('abort', onParent)
    },
  }
}

/** One run's node pods: every pod it creates is deleted at the end, also when the run is interrupted. */
async function withNodePods<T>(o: PodSessionOptions, body: (pods: NodePods) => Promise<T>): Promise<{value: T; errors: CollectionError[]}> {
  const runId = o.runId ?? randomBytes(4).toString('hex')
  const controller = new AbortController()
  const forward = (): void => controller.abort()
  o.signal?.addEventListener('abort', forward, {once: true})
  let interrupted: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      process.stderr.write(`knet: ${signal} again: stopped without finishing cleanup; \`knet cleanup\` removes knet's pods that are left\n`)
      process.exit(EXIT_BY_SIGNAL[signal] ?? 130)
    }
    interrupted = signal
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const pods = new RunPods(o.client, o.debugNamespace, runId, controller)
  const errors: CollectionError[] = []
  let value: T
  try {
    const agents = o.mode === 'agent' ? await findAgents(o) : new Map<string, PodState>()
    if (o.mode === 'pod') o.onProgress?.(`run ${runId}: one pod per node in namespace ${o.debugNamespace} (${o.image})`)
    value = await body({
      signal: controller.signal,
      on: (node, index, signal, work) => (o.mode === 'pod' ? inNodePod(o, pods, node, index, signal, work) : inAgent(o, agents, node, work)),
    })
  } finally {
    if (o.mode === 'pod') errors.push(...(await pods.sweep()))
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    o.signal?.removeEventListener('abort', forward)
  }
  if (pods.fatal && !interrupted) throw pods.fatal
  if (interrupted) {
    const left = errors.filter((e) => e.source === 'node-pod-cleanup')
    const removed = `removed ${pods.deleted} knet node pod(s)`
    throw new GatherInterrupted(interrupted, left.length === 0 ? `interrupted by ${interrupted}: ${removed}` : `interrupted by ${interrupted}: ${removed}, ${left.length} could not be removed (run \`knet cleanup\`)`)
  }
  return {value, errors}
}

interface NodeOutcome {
  evidence?: NodeEvidence
  errors: CollectionError[]
}

async function inNodePod<T>(o: PodSessionOptions, pods: RunPods, node: string, index: number, signal: AbortSignal, work: (target: NodeExecTarget) => Promise<T>): Promise<NodeRun<T>> {
  const name = nodePodName(pods.runId, node, index)
  const lifetimeSeconds = Math.ceil(o.nodeTimeoutMs / 1000) + 60
  const manifest = nodePodManifest(name, {node, namespace: o.debugNamespace, image: o.image, runId: pods.runId, lifetimeSeconds})
  let run: NodeRun<T>
  try {
    await pods.create(name, manifest)
    signal.throwIfAborted()
    await waitRunning(o.client, o.debugNamespace, name, signal, o.pollMs ?? 250)
    o.onProgress?.(`  ${node}: pod ${o.debugNamespace}/${name} is running`)
    run = {ok: true, value: await work({kind: 'pod', node, namespace: o.debugNamespace, name, container: CONTAINER_NAME})}
  } catch (error) {
    run = {ok: false, error}
  }
  const failed = await pods.remove(name)
  return failed ? {...run, cleanup: failed} : run
}

async function inAgent<T>(o: PodSessionOptions, agents: Map<string, PodState>, node: string, work: (target: NodeExecTarget) => Promise<T>): Promise<NodeRun<T>> {
  const agent = agents.get(node)
  const where = `${o.agentSelector ?? ''} in namespace ${o.agentNamespace ?? ''}`
  if (!agent) return {ok: false, error: new KnetError('not-found', `no Running agent pod (${where}) on node ${node}`)}
  if (!agent.hostNetwork) {
    return {ok: false, error: new KnetError('bad-input', `agent pod ${agent.namespace}/${agent.name} is not hostNetwork: its network namespace is not the node's`)}
  }
  try {
    return {ok: true, value: await work({kind: 'agent', node, namespace: agent.namespace, name: agent.name, container: agent.containers[0] ?? ''})}
  } catch (error) {
    return {ok: false, error}
  }
}

async function gatherOne(node: string, transport: PodExecTransport, signal: AbortSignal, onProgress?: (message: string) => void, commandTimeoutMs?: number): Promise<NodeEvidence> {
  const {nodes} = await gatherNodes([{name: node, transport}], {
    signal,
    ...(commandTimeoutMs === undefined ? {} : {commandTimeoutMs}),
    onNodeDone: (n) => onProgress?.(`  ${n.name}: ${n.results.filter((r) => r.status === 'ok').length} of ${n.results.length} commands ok`),
  })
  const evidence = nodes[0]
  if (!evidence) throw new Error('no evidence')
  return evidence
}

/** One Running pod per node among the agent selector's pods (ready ones first). */
async function findAgents(o: PodSessionOptions): Promise<Map<string, PodState>> {
  if (!o.agentSelector || !o.agentNamespace) throw new KnetError('bad-input', '--node-access agent needs --agent-selector (and --agent-namespace)')
  const pods = await o.client.list(o.agentNamespace, o.agentSelector)
  const byNode = new Map<string, PodState>()
  for (const pod of pods) {
    if (!pod.node || pod.phase !== 'Running' || pod.deleting || byNode.has(pod.node)) continue
    byNode.set(pod.node, pod)
  }
  o.onProgress?.(`agents: ${byNode.size} Running pod(s) match ${o.agentSelector} in ${o.agentNamespace}`)
  return byNode
}

async function waitRunning(client: PodClient, namespace: string, name: string, signal: AbortSignal, pollMs: number): Promise<void> {
  for (;;) {
    signal.throwIfAborted()
    const pod = await client.get(namespace, name)
    if (!pod) throw new KnetError('not-found', `pod ${namespace}/${name} disappeared before it started`)
    if (pod.phase === 'Running') return
    if (pod.phase === 'Succeeded' || pod.phase === 'Failed') throw new KnetError('command-failed', `pod ${namespace}/${name} ended (${pod.phase}) before knet could use it`)
    if (pod.waiting && STUCK.has(pod.waiting.reason)) {
      throw new KnetError('command-failed', `pod ${namespace}/${name} cannot start: ${pod.waiting.reason}${pod.waiting.message ? `: ${pod.waiting.message}` : ''}`, {
        suggestion: 'check --image is reachable from the node (or mirror it and pass --image)',
      })
    }
    await sleep(pollMs, signal)
  }
}

/** The pods this run created, so every one is deleted whatever happens. */
class RunPods {
  deleted = 0
  /** A create refusal that will be the same for every node (RBAC, PodSecurity, credentials): the run stops with it. */
  fatal: KnetError | undefined
  private readonly live = new Set<string>()

  constructor(
    private readonly client: PodClient,
    private readonly namespace: string,
    readonly runId: string,
    private readonly run: AbortController,
  ) {}

  async create(name: string, manifest: Record<string, unknown>): Promise<void> {
    // Recorded before the request: a create that fails on the way back may still have happened.
    this.live.add(name)
    try {
      await this.client.create(this.namespace, manifest)
    } catch (error) {
      if (error instanceof KnetError && (FATAL_KINDS.includes(error.kind) || isMissingNamespace(error))) {
        this.fatal ??= error
        this.run.abort()
      }
      throw error
    }
  }

  /** Delete one pod; a failure is returned as a collection error naming the way out. */
  async remove(name: string): Promise<CollectionError | undefined> {
    if (!this.live.has(name)) return undefined
    try {
      if (await this.client.delete(this.namespace, name)) this.deleted++
      this.live.delete(name)
      return undefined
    } catch (error) {
      return {source: 'node-pod-cleanup', kind: kindOf(error), message: `could not delete pod ${this.namespace}/${name}: ${messageOf(error)} (run \`knet cleanup\`)`}
    }
  }

  /** Everything of this run still on the server (by run-id label), plus whatever a failed delete left. */
  async sweep(): Promise<CollectionError[]> {
    let names = [...this.live]
    try {
      const listed = await this.client.list(this.namespace, `${RUN_ID_LABEL}=${this.runId}`)
      names = [...new Set([...names, ...listed.map((p) => p.name)])]
    } catch {
      // The per-name deletes below still run.
    }
    const errors: CollectionError[] = []
    for (const name of names) {
      this.live.add(name)
      const failed = await this.remove(name)
      if (failed) errors.push(failed)
    }
    return errors
  }
}

const FATAL_KINDS: readonly ErrorKind[] = ['forbidden', 'unauthorized', 'unreachable', 'tls', 'bad-input']

function isMissingNamespace(error: KnetError): boolean {
  return error.kind === 'not-found' && /^namespace \S+ does not exist/.test(error.message)
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
    }
    signal.addEventListener('abort', onAbort, {once: true})
  })
}

/** A node stopped by its timeout is one error, not one per command it did not get to. */
function evidenceErrors(evidence: NodeEvidence, timeoutMs: number, signal: AbortSignal): CollectionError[] {
  const errors = nodeCollectionErrors(evidence)
  if (!signal.aborted) return errors
  const cancelled = new Set(evidence.results.filter((r) => r.status === 'failed' && r.reason === 'cancelled').map((r) => r.id))
  return [...errors.filter((e) => !cancelled.has(e.source)), abortError(evidence.name, timeoutMs, signal)]
}

function nodeError(node: string, kind: ErrorKind, message: string): CollectionError {
  return {node, source: 'node-access', kind, message}
}

function abortError(node: string, timeoutMs: number, signal: AbortSignal): CollectionError {
  const timedOut = (signal.reason as {name?: string} | undefined)?.name === 'TimeoutError'
  return timedOut
    ? nodeError(node, 'timeout', `node ${node} was not done within ${Math.round(timeoutMs / 1000)}s (--node-timeout)`)
    : nodeError(node, 'internal', `node ${node}: stopped, the run was interrupted`)
}

function errorOf(node: string, error: unknown): CollectionError {
  return nodeError(node, kindOf(error), messageOf(error))
}

function kindOf(error: unknown): ErrorKind {
  return error instanceof KnetError ? error.kind : 'command-failed'
}

function messageOf(error: unknown): string {
  return error instanceof KnetError ? error.oneLine() : error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)
}
