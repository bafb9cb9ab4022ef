/**
 * `--node-access pod | agent` from capture's point of view: which nodes (the cluster's, limited
 * to the selected ones), the API client (the same kubeconfig the cluster state came from), and
 * the run itself (pod-gather.ts).
 */
import type {CollectionError} from '../../report/collection-error.js'
import {badInput} from '../../report/errors.js'
import type {NodeEvidence} from '../../snapshot/schema.js'
import type {ClusterEvidence} from '../cluster/evidence.js'
import {DEFAULT_DEBUG_NAMESPACE, DEFAULT_IMAGE} from './pod-manifest.js'
import type {NodeProgressListener} from './progress.js'

export const DEFAULT_NODE_TIMEOUT_MS = 120_000

export interface PodAccessOptions {
  kubeconfig?: string
  context?: string
  /** Each API request (--timeout). */
  timeoutMs?: number
  image?: string
  debugNamespace?: string
  agentSelector?: string
  agentNamespace?: string
  /** Everything for one node: pod start, every command, deletion (--node-timeout). */
  nodeTimeoutMs?: number
  /** The least time each node command is given (--timeout). */
  commandTimeoutMs?: number
  /** Only these nodes (--nodes, --node-selector, trace's path). */
  only?: Set<string>
}

export async function gatherThroughPods(
  mode: 'pod' | 'agent',
  cluster: ClusterEvidence | null,
  o: PodAccessOptions,
  run: {parallel?: number; signal?: AbortSignal; onProgress?: (message: string) => void; onNodeProgress?: NodeProgressListener},
): Promise<{nodes: NodeEvidence[]; errors: CollectionError[]}> {
  if (cluster?.source !== 'api') {
    throw badInput(`--node-access ${mode} needs the Kubernetes API (a kubeconfig, --kubeconfig or --context), not ${cluster ? '--objects' : '--no-cluster'}`)
  }
  const names = cluster.objects.nodes
    .map((n) => (n as {metadata?: {name?: unknown}}).metadata?.name)
    .filter((n): n is string => typeof n === 'string')
    .filter((n) => !o.only || o.only.has(n))
  const {openPodClient} = await import('../cluster/pods.js')
  const {gatherViaPods} = await import('./pod-gather.js')
  const client = openPodClient({kubeconfig: o.kubeconfig, context: o.context, timeoutMs: o.timeoutMs ?? 30_000})
  return gatherViaPods({
    mode,
    client,
    nodes: names,
    image: o.image ?? DEFAULT_IMAGE,
    debugNamespace: o.debugNamespace ?? DEFAULT_DEBUG_NAMESPACE,
    ...(o.agentSelector === undefined ? {} : {agentSelector: o.agentSelector}),
    agentNamespace: o.agentNamespace ?? 'kube-system',
    parallel: run.parallel ?? 10,
    nodeTimeoutMs: o.nodeTimeoutMs ?? DEFAULT_NODE_TIMEOUT_MS,
    ...(o.commandTimeoutMs === undefined ? {} : {commandTimeoutMs: o.commandTimeoutMs}),
    ...(run.signal ? {signal: run.signal} : {}),
    ...(run.onProgress ? {onProgress: run.onProgress} : {}),
    ...(run.onNodeProgress ? {onNodeProgress: run.onNodeProgress} : {}),
  })
}
