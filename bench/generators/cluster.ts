/**
 * Snapshots for the benchmarks: a whole synthetic cluster's API objects (no node evidence), and the
 * same plus one node's iptables-save output for the NAT benchmark.
 */
import {generateCluster, type GenerateOptions} from '../../src/lib/apiserver/generate.js'
import {objectsFromText} from '../../src/lib/gather/cluster/objects-file.js'
import type {ClusterEvidence} from '../../src/lib/gather/cluster/evidence.js'
import type {NodeEvidence, Snapshot} from '../../src/lib/snapshot/schema.js'

/** Kubernetes' published limits: 5,000 nodes, 150,000 pods, 10,000 Services. */
export const CLUSTER_LIMITS = {nodes: 5000, pods: 150_000, services: 10_000} as const

export function clusterEvidence(objects: unknown[]): ClusterEvidence {
  return objectsFromText(JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects}), 'generated')
}

export function snapshotOf(cluster: ClusterEvidence | null, nodes: NodeEvidence[] = []): Snapshot {
  return {
    schemaVersion: 1,
    kind: 'KnetSnapshot',
    meta: {knetVersion: 'bench', capturedAt: '2026-01-01T00:00:00.000Z', nodeAccess: nodes.length ? 'netns' : 'none', clusterSource: cluster ? 'objects-file' : null, catalog: nodes.length ? ['iptables-save'] : []},
    nodes,
    cluster,
    collectionErrors: [],
  }
}

/** A cluster snapshot at any scale; the default is Kubernetes' published limits. */
export function clusterSnapshot(options: Partial<GenerateOptions> = {}): Snapshot {
  const objects = generateCluster({...CLUSTER_LIMITS, seed: 42, cni: 'flannel', ...options})
  return snapshotOf(clusterEvidence(objects))
}

/** One node's evidence holding only an iptables-save result, as a netns gather would record it. */
export function iptablesNode(name: string, stdout: string, durationMs = 0): NodeEvidence {
  return {
    name,
    access: {kind: 'netns', target: name},
    results: [{id: 'iptables-save', argv: ['iptables-save'], execArgv: ['ip', 'netns', 'exec', name, 'iptables-save'], status: 'ok', exitCode: 0, stdout, stderr: '', durationMs, truncated: false}],
  }
}
