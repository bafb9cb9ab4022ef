/**
 * From a command's source flags to one Snapshot for analysis: a snapshot file (--snapshot) is read
 * as it is; otherwise the cluster (API or --objects) and node evidence are captured live, exactly as
 * `knet snapshot` would, so a live run and a replay of its snapshot give the same answer.
 */
import type {NodeAccessMode} from '../cli/flags.js'
import {badInput} from '../report/errors.js'
import {buildModel, type AnalysisModel} from '../model/model.js'
import {modelTaker} from '../model/cluster/taken.js'
import {readSnapshot, type ObjectTaker} from '../snapshot/read.js'
import type {Snapshot} from '../snapshot/schema.js'
import type {ClusterEvidence} from './cluster/evidence.js'
import type {DockerAccessOptions} from './node/docker.js'
import type {NodeProgressListener} from './node/progress.js'
import type {SshAccessOptions} from './node/ssh.js'
import type {PodAccessOptions} from './node/pod-access.js'

export interface AnalysisSourceOptions {
  snapshot?: string
  /** A running `knet lab`: its kubeconfig (the lab's loopback API) and its netns node map. */
  lab?: string
  kubeconfig?: string
  context?: string
  objects?: string
  timeoutMs: number
  /** The least time each node command is given (--timeout). */
  commandTimeoutMs?: number
  nodeAccess?: NodeAccessMode
  netnsMap?: Map<string, string>
  ssh?: SshAccessOptions
  docker?: DockerAccessOptions
  /** pod and agent: image, namespaces, agent selector, per-node timeout (kubeconfig and context are added here). */
  pod?: PodAccessOptions
  nodes?: string[]
  /** Equality label selector over Node labels: {"kubernetes.io/os": "linux"}. */
  nodeSelector?: Record<string, string>
  /** Live gathers only: the nodes worth reading, decided from the cluster state (trace: the nodes on the path); undefined = all. */
  pathNodes?: (cluster: ClusterEvidence) => string[] | undefined
  parallel: number
  knetVersion: string
  command: string
  onProgress?: (message: string) => void
  /** Live gathers: each node as it starts and ends, for a progress display. */
  onNodeProgress?: NodeProgressListener
  /** A snapshot file's objects of these kinds go to the taker as they are parsed (see readSnapshot). */
  taker?: ObjectTaker
}

/**
 * The analysis model alone, for a caller that needs no snapshot afterwards (doctor): a snapshot
 * file's pods, Services and EndpointSlices are modelled as they are parsed, and the rest of the raw
 * objects are let go as the model is built. On a 5,000-node snapshot that keeps the peak memory
 * at ~2.5× the file instead of 5.5×. bench/measure/cluster.js follows these same steps.
 */
export async function resolveAnalysisModel(options: AnalysisSourceOptions): Promise<AnalysisModel> {
  const taker = modelTaker()
  const snapshot = await resolveAnalysisSnapshot({...options, taker})
  const taken = taker.taken()
  return buildModel(snapshot, {release: true, ...(taken ? {taken} : {})})
}

export async function resolveAnalysisSnapshot(options: AnalysisSourceOptions): Promise<Snapshot> {
  if (options.lab !== undefined) {
    if (options.snapshot !== undefined) throw badInput('--lab cannot be combined with --snapshot')
    // The lab is a cluster like any other: its API through its kubeconfig, its nodes through netns.
    const {labNodeAccess} = await import('../lab/status.js')
    const lab = await labNodeAccess(options.lab)
    if (!lab.kubeconfig) throw badInput(`lab ${options.lab} has no API server recorded`, `recreate it with "knet lab up --name ${options.lab} --force"`)
    return resolveAnalysisSnapshot({...options, lab: undefined, kubeconfig: lab.kubeconfig, nodeAccess: 'netns', netnsMap: lab.nodeMap})
  }
  if (options.snapshot !== undefined) {
    const live = [options.objects && '--objects', options.kubeconfig && '--kubeconfig', options.context && '--context', options.nodeAccess && '--node-access', options.netnsMap && '--netns-map']
    const conflict = live.filter(Boolean)
    if (conflict.length > 0) throw badInput(`--snapshot cannot be combined with ${conflict.join(', ')}`, 'a snapshot already holds the cluster and node evidence')
    const snapshot = await readSnapshot(options.snapshot, options.taker)
    return limitNodes(snapshot, selectedNodes(snapshot.cluster, options))
  }
  // Loaded only for a live run: a snapshot replay does not pay for the API client and the transports
  // (≈ 0.3 s of CPU at start-up, a tenth of doctor's replay of the 10,000-Service benchmark node).
  const [{captureSnapshot}, {resolveClusterEvidence}] = await Promise.all([import('./capture.js'), import('./cluster-source.js')])
  const cluster = await resolveClusterEvidence(
    {kubeconfig: options.kubeconfig, context: options.context, objects: options.objects, timeoutMs: options.timeoutMs},
    options.onProgress,
  )
  const onPath = cluster && options.pathNodes ? options.pathNodes(cluster) : undefined
  const bySelector = selectedNodes(cluster, options)
  const selected = onPath ? new Set(onPath.filter((n) => !bySelector || bySelector.has(n))) : bySelector
  // A live cluster's nodes are read through pods on them. An objects file names no way into its
  // nodes, so only the API state is used: reading this host as if it were a node would be wrong.
  const nodeAccess = options.nodeAccess ?? (options.netnsMap ? 'netns' : cluster?.source === 'api' ? 'pod' : cluster ? 'none' : 'local')
  const netnsMap = options.netnsMap && selected ? new Map([...options.netnsMap].filter(([node]) => selected.has(node))) : options.netnsMap
  if (nodeAccess === 'netns' && netnsMap && netnsMap.size === 0) throw badInput('--nodes/--node-selector leave no node in --netns-map')
  const snapshot = await captureSnapshot({
    knetVersion: options.knetVersion,
    nodeAccess,
    ...(netnsMap ? {netnsMap} : {}),
    // ssh and docker reach only the selected nodes.
    ...(options.ssh ? {ssh: {...options.ssh, ...(selected ? {only: selected} : {})}} : {}),
    ...(options.docker ? {docker: {...options.docker, ...(selected ? {only: selected} : {})}} : {}),
    ...(nodeAccess === 'pod' || nodeAccess === 'agent'
      ? {pod: {...options.pod, kubeconfig: options.kubeconfig, context: options.context, timeoutMs: options.timeoutMs, ...(selected ? {only: selected} : {})}}
      : {}),
    cluster,
    parallel: options.parallel,
    ...(options.commandTimeoutMs === undefined ? {} : {commandTimeoutMs: options.commandTimeoutMs}),
    command: options.command,
    ...(options.onProgress ? {onProgress: options.onProgress} : {}),
    ...(options.onNodeProgress ? {onNodeProgress: options.onNodeProgress} : {}),
  })
  return limitNodes(snapshot, selected)
}

function selectedNodes(cluster: ClusterEvidence | null, options: AnalysisSourceOptions): Set<string> | undefined {
  let names: Set<string> | undefined = options.nodes ? new Set(options.nodes) : undefined
  const selector = options.nodeSelector
  if (selector) {
    if (!cluster) throw badInput('--node-selector needs cluster state (the API, --objects, or a snapshot with cluster objects)')
    const matching = new Set<string>()
    for (const n of cluster.objects.nodes) {
      const meta = (n as {metadata?: {name?: unknown; labels?: Record<string, unknown>}}).metadata
      if (typeof meta?.name !== 'string') continue
      if (Object.entries(selector).every(([k, v]) => meta.labels?.[k] === v)) matching.add(meta.name)
    }
    names = names ? new Set([...names].filter((n) => matching.has(n))) : matching
  }
  return names
}

/** Keep only the selected nodes' evidence and collection errors; cluster-wide errors stay. */
function limitNodes(snapshot: Snapshot, selected: Set<string> | undefined): Snapshot {
  if (!selected) return snapshot
  return {
    ...snapshot,
    nodes: snapshot.nodes.filter((n) => selected.has(n.name)),
    collectionErrors: snapshot.collectionErrors.filter((e) => e.node === undefined || selected.has(e.node)),
  }
}

/** "k=v,k2=v2" → {k: v, k2: v2}; equality selectors only. */
export function parseNodeSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$/.exec(part)
    if (!m?.[1]) throw badInput(`--node-selector: "${part}" is not KEY=VALUE (only equality selectors are supported)`)
    out[m[1]] = m[2] ?? ''
  }
  if (Object.keys(out).length === 0) throw badInput('--node-selector needs at least one KEY=VALUE')
  return out
}
