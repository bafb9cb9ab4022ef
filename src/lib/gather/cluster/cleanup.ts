/**
 * `knet cleanup`: remove the node pods a killed knet run left behind. Only pods carrying both
 * knet's managed-by label and a run-id label are touched — the pair knet's own pods always have —
 * so a workload that merely says it is managed by "knet" is never deleted.
 */
import {MANAGED_SELECTOR, RUN_ID_LABEL} from '../node/pod-manifest.js'
import type {PodClient} from './pods.js'

export interface CleanupOptions {
  /** undefined: every namespace. */
  namespace?: string
  runId?: string
  dryRun: boolean
}

export interface CleanedPod {
  namespace: string
  name: string
  node?: string
  runId: string
  phase?: string
  action: 'deleted' | 'would-delete' | 'already-gone' | 'failed'
  error?: string
}

export interface CleanupResult {
  schemaVersion: 1
  dryRun: boolean
  namespace: string | null
  pods: CleanedPod[]
}

export function cleanupSelector(runId?: string): string {
  return `${MANAGED_SELECTOR},${runId === undefined ? RUN_ID_LABEL : `${RUN_ID_LABEL}=${runId}`}`
}

export async function cleanupPods(client: PodClient, o: CleanupOptions): Promise<CleanupResult> {
  const found = await client.list(o.namespace, cleanupSelector(o.runId))
  const pods: CleanedPod[] = []
  for (const pod of found) {
    const base = {
      namespace: pod.namespace,
      name: pod.name,
      ...(pod.node ? {node: pod.node} : {}),
      runId: pod.labels[RUN_ID_LABEL] ?? '',
      ...(pod.phase ? {phase: pod.phase} : {}),
    }
    if (o.dryRun) {
      pods.push({...base, action: 'would-delete'})
      continue
    }
    try {
      pods.push({...base, action: (await client.delete(pod.namespace, pod.name)) ? 'deleted' : 'already-gone'})
    } catch (error) {
      pods.push({...base, action: 'failed', error: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)})
    }
  }
  return {schemaVersion: 1, dryRun: o.dryRun, namespace: o.namespace ?? null, pods}
}

/** One line per pod, as `knet cleanup` prints them. */
export function renderCleanupLine(p: CleanedPod): string {
  const verb = {deleted: 'deleted', 'would-delete': 'would delete', 'already-gone': 'already gone:', failed: 'could not delete'}[p.action]
  const where = [p.node ? `node ${p.node}` : undefined, p.runId ? `run ${p.runId}` : undefined, p.phase].filter(Boolean).join(', ')
  return `${verb} pod ${p.namespace}/${p.name}${where ? ` (${where})` : ''}${p.error ? `: ${p.error}` : ''}`
}
