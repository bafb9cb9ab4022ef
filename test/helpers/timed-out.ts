/** Partial evidence, as a loaded node or a narrow RBAC role gives it: node commands that timed out, API resources not read. */
import type {Snapshot} from '../../src/lib/snapshot/schema.js'

/**
 * For each node command that succeeded in `base`, a copy of it where that one command timed out
 * (no output, `timed out after 10000 ms`), with the node and the command's id.
 */
export function* eachCommandTimedOut(base: Snapshot): Generator<{node: string; id: string; label: string; snapshot: Snapshot}> {
  for (const node of base.nodes) {
    for (const result of node.results) {
      if (result.status !== 'ok') continue
      const snapshot = structuredClone(base)
      const r = snapshot.nodes.find((n) => n.name === node.name)?.results.find((x) => x.id === result.id)
      Object.assign(r as object, {status: 'timeout', stdout: '', stderr: '', exitCode: null, reason: 'timed out after 10000 ms'})
      yield {node: node.name, id: result.id, label: `${node.name} ${result.id} timed out`, snapshot}
    }
  }
}

/** The API resources a gather goes on without (gather/cluster/gather.ts), and what a snapshot then holds for each. */
const OPTIONAL_RESOURCES: [string, (objects: NonNullable<Snapshot['cluster']>['objects']) => void][] = [
  ['networkpolicies', (o) => void (o.networkPolicies = [])],
  ['namespaces', (o) => void (o.namespaces = [])],
  ['daemonsets', (o) => void (o.daemonSets = [])],
  ['configmaps/kube-proxy', (o) => void (o.kubeProxyConfigMap = null)],
  ['servicecidrs', (o) => void delete o.serviceCIDRs],
  ['ipamblocks', (o) => void delete o.ipamBlocks],
]

/**
 * For each optional API resource, a copy of `base` where reading it was refused (403) and one where
 * it timed out: the objects gone and the collection error recorded, as gatherCluster leaves them.
 */
export function* eachResourceUnread(base: Snapshot): Generator<{label: string; snapshot: Snapshot}> {
  for (const [resource, drop] of OPTIONAL_RESOURCES) {
    for (const kind of ['forbidden', 'timeout'] as const) {
      const snapshot = structuredClone(base)
      const cluster = snapshot.cluster
      if (!cluster) return
      drop(cluster.objects)
      cluster.errors.push({source: resource, kind, message: kind === 'forbidden' ? `forbidden: list ${resource}` : `list ${resource}: timed out after 30000 ms`})
      yield {label: `${resource} ${kind}`, snapshot}
    }
  }
}

/**
 * For each node, copies of `base` where that whole node's evidence is missing: every command timed
 * out, no results with the node unreachable, or the node left out with a collection error.
 */
export function* eachNodeUnread(base: Snapshot): Generator<{label: string; snapshot: Snapshot}> {
  for (const {name} of base.nodes) {
    const timedOut = structuredClone(base)
    for (const r of timedOut.nodes.find((n) => n.name === name)?.results ?? []) Object.assign(r, {status: 'timeout', stdout: '', stderr: '', exitCode: null, reason: 'timed out after 10000 ms'})
    yield {label: `${name}: every command timed out`, snapshot: timedOut}
    const unreachable = structuredClone(base)
    const n = unreachable.nodes.find((x) => x.name === name)
    if (n) n.results = []
    unreachable.collectionErrors.push({node: name, source: 'node', kind: 'unreachable', message: 'ssh: connect to host: Connection refused'})
    yield {label: `${name}: unreachable`, snapshot: unreachable}
    const left = structuredClone(base)
    left.nodes = left.nodes.filter((x) => x.name !== name)
    left.collectionErrors.push({node: name, source: 'node', kind: 'timeout', message: 'node gather timed out after 30000 ms'})
    yield {label: `${name}: left out`, snapshot: left}
  }
}
