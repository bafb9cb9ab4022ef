/**
 * Where trace's evidence comes from. --lab: the lab's API (its kubeconfig) and its nodes through
 * netns, captured now like `knet snapshot --lab` — every node for now, not only those on the path.
 * Everything else goes through the shared analysis source (--snapshot, --objects, the API).
 */
import {resolveAnalysisSnapshot, type AnalysisSourceOptions} from '../gather/analysis-source.js'
import {captureSnapshot} from '../gather/capture.js'
import {resolveClusterEvidence} from '../gather/cluster-source.js'
import {labNodeAccess} from '../lab/status.js'
import {badInput} from '../report/errors.js'
import type {Snapshot} from '../snapshot/schema.js'

export async function traceSnapshotSource(options: AnalysisSourceOptions): Promise<Snapshot> {
  if (options.lab === undefined) return resolveAnalysisSnapshot(options)
  if (options.snapshot !== undefined) throw badInput('--lab cannot be combined with --snapshot')
  const lab = await labNodeAccess(options.lab)
  const cluster = await resolveClusterEvidence({kubeconfig: lab.kubeconfig, timeoutMs: options.timeoutMs, cluster: lab.kubeconfig !== undefined}, options.onProgress)
  return captureSnapshot({
    knetVersion: options.knetVersion,
    nodeAccess: 'netns',
    netnsMap: lab.nodeMap,
    cluster,
    parallel: options.parallel,
    command: options.command,
    ...(options.onProgress ? {onProgress: options.onProgress} : {}),
  })
}
