/**
 * Build one snapshot from whatever sources were asked for: the cluster (API or objects file) and
 * node evidence through a transport. Collection errors are recorded; only a fatal cluster error
 * (the API cannot be read at all) stops the capture.
 */
import {hostname} from 'node:os'
import type {NodeAccessMode} from '../cli/flags.js'
import type {CollectionError} from '../report/collection-error.js'
import {badInput} from '../report/errors.js'
import {SNAPSHOT_KIND, SNAPSHOT_SCHEMA_VERSION, type NodeEvidence, type Snapshot} from '../snapshot/schema.js'
import type {ClusterEvidence} from './cluster/evidence.js'
import {CATALOG} from './node/catalog.js'
import {gatherNodes, type NodeTarget} from './node/gather-node.js'
import {LocalTransport} from './node/local.js'
import {NetnsTransport} from './node/netns.js'
import {dockerTargets, type DockerAccessOptions} from './node/docker.js'
import {sshTargets, type SshAccessOptions} from './node/ssh.js'
import type {PodAccessOptions} from './node/pod-access.js'
import type {NodeProgressListener} from './node/progress.js'

export type NodeAccess = NodeAccessMode

export interface CaptureOptions {
  knetVersion: string
  nodeAccess: NodeAccess
  /** netns: node name → namespace. */
  netnsMap?: Map<string, string>
  /** ssh: user, host map, identity, config, sudo. */
  ssh?: SshAccessOptions
  /** docker: node → container map. */
  docker?: DockerAccessOptions
  /** pod and agent: kubeconfig, image, namespaces, agent selector, per-node timeout. */
  pod?: PodAccessOptions
  /** local: the name this host is recorded under (default: its hostname). */
  localNodeName?: string
  /** Already-gathered cluster state, or null for node evidence only. */
  cluster: ClusterEvidence | null
  parallel?: number
  /** The least time each node command is given (--timeout); see gatherNodes. */
  commandTimeoutMs?: number
  command?: string
  signal?: AbortSignal
  onProgress?: (message: string) => void
  /** Each node as it starts and ends (after a plan naming them all), for a progress display. */
  onNodeProgress?: NodeProgressListener
  /** Injected for tests and replay; the analysis never reads a clock. */
  now?: () => Date
}

export async function captureSnapshot(options: CaptureOptions): Promise<Snapshot> {
  const viaPods = options.nodeAccess === 'pod' || options.nodeAccess === 'agent' ? options.nodeAccess : undefined
  const {targets, errors: targetErrors} = viaPods ? {targets: [], errors: []} : nodeTargets(options)
  if (!viaPods) options.onProgress?.(targets.length ? `gathering ${targets.length} node(s) via ${options.nodeAccess}` : 'no node evidence requested')
  const gathered = viaPods
    ? await (await import('./node/pod-access.js')).gatherThroughPods(viaPods, options.cluster, {...options.pod, ...(options.commandTimeoutMs === undefined ? {} : {commandTimeoutMs: options.commandTimeoutMs})}, options)
    : await gatherNodes(targets, {
        parallel: options.parallel,
        signal: options.signal,
        ...(options.commandTimeoutMs === undefined ? {} : {commandTimeoutMs: options.commandTimeoutMs}),
        onNodeDone: (n: NodeEvidence) => options.onProgress?.(`  ${n.name}: ${summariseNode(n)}`),
        ...(options.onNodeProgress ? {onNodeProgress: options.onNodeProgress} : {}),
      })
  const collectionErrors = [...(options.cluster?.errors ?? []), ...targetErrors, ...gathered.errors]
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    kind: SNAPSHOT_KIND,
    meta: {
      knetVersion: options.knetVersion,
      capturedAt: (options.now?.() ?? new Date()).toISOString(),
      nodeAccess: options.nodeAccess,
      clusterSource: options.cluster?.source ?? null,
      ...(options.command === undefined ? {} : {command: options.command}),
      catalog: CATALOG.map((c) => c.id),
    },
    nodes: gathered.nodes,
    cluster: options.cluster,
    collectionErrors,
  }
}

function nodeTargets(options: CaptureOptions): {targets: NodeTarget[]; errors: CollectionError[]} {
  const errors: CollectionError[] = []
  if (options.nodeAccess === 'none') return {targets: [], errors}
  if (options.nodeAccess === 'ssh') return sshTargets(options.cluster, options.ssh ?? {})
  if (options.nodeAccess === 'docker') return dockerTargets(options.cluster, options.docker ?? {})
  if (options.nodeAccess !== 'local' && options.nodeAccess !== 'netns') throw badInput(`--node-access ${options.nodeAccess} is not available yet`)
  if (options.nodeAccess === 'local') {
    return {targets: [{name: options.localNodeName ?? hostname(), transport: new LocalTransport()}], errors}
  }
  const map = options.netnsMap
  if (!map || map.size === 0) throw badInput('--node-access netns needs --netns-map NODE=NETNS,…')
  const clusterNodes = clusterNodeNames(options.cluster)
  const targets: NodeTarget[] = []
  for (const [node, netns] of map) targets.push({name: node, transport: new NetnsTransport(netns)})
  // Nodes the API knows but nobody mapped: their evidence is missing, and that must be visible.
  for (const node of clusterNodes) {
    if (!map.has(node)) errors.push({node, source: 'node-access', kind: 'not-found', message: `no network namespace mapped for node ${node} (--netns-map)`})
  }
  return {targets, errors}
}

function clusterNodeNames(cluster: ClusterEvidence | null): string[] {
  if (!cluster) return []
  return cluster.objects.nodes
    .map((n) => (n as {metadata?: {name?: unknown}}).metadata?.name)
    .filter((n): n is string => typeof n === 'string')
}

export function summariseNode(n: NodeEvidence): string {
  const count = (s: string) => n.results.filter((r) => r.status === s).length
  const parts = [`${count('ok')} ok`]
  for (const s of ['unavailable', 'failed', 'timeout']) if (count(s)) parts.push(`${count(s)} ${s}`)
  return parts.join(', ')
}
