/**
 * Which cluster state a command works from: none, the live API (kubeconfig), or an objects file.
 * Shared by snapshot, trace and doctor so they resolve it the same way.
 */
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {ClusterEvidence} from './cluster/evidence.js'

export interface ClusterSourceFlags {
  kubeconfig?: string
  context?: string
  objects?: string
  timeoutMs: number
  /** Objects per list request (default 500). */
  pageSize?: number
  /** false: never touch a cluster (node evidence only). */
  cluster?: boolean
}

export type ClusterSourceKind = 'none' | 'api' | 'objects-file'

/** auto: an objects file if given; the API when a kubeconfig is named or present; otherwise none. */
export function clusterSourceKind(flags: ClusterSourceFlags, env: NodeJS.ProcessEnv = process.env): ClusterSourceKind {
  if (flags.cluster === false) return 'none'
  if (flags.objects) return 'objects-file'
  if (flags.kubeconfig || flags.context || flags.cluster === true) return 'api'
  if (env.KUBECONFIG || existsSync(join(homedir(), '.kube', 'config'))) return 'api'
  return 'none'
}

export async function resolveClusterEvidence(
  flags: ClusterSourceFlags,
  onProgress?: (message: string) => void,
): Promise<ClusterEvidence | null> {
  const kind = clusterSourceKind(flags)
  if (kind === 'none') return null
  // Loaded on demand: client-node and YAML are heavy, and an objects file needs no client-node.
  if (kind === 'objects-file') {
    const {loadObjectsFromInput} = await import('./cluster/objects-file.js')
    return loadObjectsFromInput(flags.objects as string)
  }
  const {gatherCluster} = await import('./cluster/gather.js')
  return gatherCluster({kubeconfig: flags.kubeconfig, context: flags.context, timeoutMs: flags.timeoutMs, ...(flags.pageSize ? {pageSize: flags.pageSize} : {}), onProgress})
}
