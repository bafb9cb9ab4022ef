import Table from 'cli-table3'
import type {NodeView} from '../model/node-view.js'
import type {Snapshot} from '../snapshot/schema.js'

export const SNAPSHOT_SHOW_SCHEMA_VERSION = 1

export interface SnapshotShow {
  schemaVersion: number
  file: string
  snapshotSchemaVersion: number
  meta: Snapshot['meta']
  cluster: {source: string; objects: Record<string, number>; ignoredKinds: Record<string, number>} | null
  nodes: NodeView[]
  collectionErrors: Snapshot['collectionErrors']
}

export function snapshotShow(snapshot: Snapshot, file: string, nodes: NodeView[]): SnapshotShow {
  const cluster = snapshot.cluster
  return {
    schemaVersion: SNAPSHOT_SHOW_SCHEMA_VERSION,
    file,
    snapshotSchemaVersion: snapshot.schemaVersion,
    meta: snapshot.meta,
    cluster: cluster
      ? {
          source: cluster.source,
          objects: Object.fromEntries(Object.entries(cluster.objects).map(([k, v]) => [k, Array.isArray(v) ? v.length : v ? 1 : 0])),
          ignoredKinds: cluster.ignoredKinds,
        }
      : null,
    nodes,
    collectionErrors: snapshot.collectionErrors,
  }
}

export function renderSnapshotShow(s: SnapshotShow): string {
  const out: string[] = [
    `snapshot ${s.file}: schemaVersion ${s.snapshotSchemaVersion}, knet ${s.meta.knetVersion}, captured ${s.meta.capturedAt}, node access ${s.meta.nodeAccess}`,
  ]
  if (s.cluster) {
    out.push(`cluster (${s.cluster.source}): ${Object.entries(s.cluster.objects).map(([k, v]) => `${v} ${k}`).join(', ')}`)
  } else {
    out.push('cluster: not in this snapshot')
  }
  for (const node of s.nodes) {
    out.push('', `node ${node.name} (${node.access})`)
    const table = new Table({
      head: ['evidence', 'status', 'items', 'note'],
      style: {head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0},
      chars: {top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '  ', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  '},
    })
    for (const e of node.evidence) table.push([e.id, e.status, e.items === undefined ? '' : String(e.items), e.reason ?? ''])
    out.push(...table.toString().split('\n').map((l) => l.trimEnd()))
    out.push(`  ${node.problems.length} line(s) the parsers could not read`)
    for (const p of node.problems.slice(0, 20)) out.push(`    ${p.source}:${p.line}: ${p.message}`)
    if (node.problems.length > 20) out.push(`    … ${node.problems.length - 20} more (see -o json)`)
  }
  out.push('')
  if (s.collectionErrors.length === 0) out.push('collection errors: none')
  else {
    out.push(`collection errors (${s.collectionErrors.length}):`)
    for (const e of s.collectionErrors) out.push(`  ${e.node ? `${e.node}: ` : ''}${e.source}: ${e.message}`)
  }
  return out.join('\n')
}
