import type {Snapshot} from '../snapshot/schema.js'

export const SNAPSHOT_SUMMARY_SCHEMA_VERSION = 1

export interface SnapshotSummary {
  schemaVersion: number
  file: string
  bytes: number
  clusterSource: string | null
  objects: Record<string, number>
  nodes: {name: string; access: string; ok: number; unavailable: string[]; failed: string[]; timeout: string[]}[]
  collectionErrors: Snapshot['collectionErrors']
}

export function summariseSnapshot(snapshot: Snapshot, file: string, bytes: number): SnapshotSummary {
  const objects: Record<string, number> = {}
  if (snapshot.cluster) {
    for (const [kind, items] of Object.entries(snapshot.cluster.objects)) {
      objects[kind] = Array.isArray(items) ? items.length : items ? 1 : 0
    }
  }
  return {
    schemaVersion: SNAPSHOT_SUMMARY_SCHEMA_VERSION,
    file,
    bytes,
    clusterSource: snapshot.meta.clusterSource,
    objects,
    nodes: snapshot.nodes.map((n) => ({
      name: n.name,
      access: `${n.access.kind}:${n.access.target}`,
      ok: n.results.filter((r) => r.status === 'ok').length,
      unavailable: n.results.filter((r) => r.status === 'unavailable').map((r) => r.id),
      failed: n.results.filter((r) => r.status === 'failed').map((r) => r.id),
      timeout: n.results.filter((r) => r.status === 'timeout').map((r) => r.id),
    })),
    collectionErrors: snapshot.collectionErrors,
  }
}

/** Human summary for stderr/stdout; plain text, no colour needed. */
export function renderSnapshotSummary(s: SnapshotSummary): string {
  const lines = [`wrote ${s.file} (${formatBytes(s.bytes)})`]
  if (s.clusterSource) {
    const counts = Object.entries(s.objects).map(([k, v]) => `${v} ${k}`).join(', ')
    lines.push(`cluster (${s.clusterSource}): ${counts}`)
  } else {
    lines.push('cluster: not gathered')
  }
  for (const n of s.nodes) {
    const extra = [
      n.unavailable.length ? `unavailable: ${n.unavailable.join(' ')}` : '',
      n.failed.length ? `failed: ${n.failed.join(' ')}` : '',
      n.timeout.length ? `timed out: ${n.timeout.join(' ')}` : '',
    ].filter(Boolean)
    lines.push(`node ${n.name} (${n.access}): ${n.ok} commands ok${extra.length ? `; ${extra.join('; ')}` : ''}`)
  }
  if (s.collectionErrors.length) {
    lines.push(`${s.collectionErrors.length} collection error(s):`)
    // Node command errors already start with the command; API errors need their resource named.
    for (const e of s.collectionErrors) lines.push(`  ${e.node ? `${e.node}: ` : ''}${e.message.startsWith(e.source) ? '' : `${e.source}: `}${e.message}`)
    if (s.collectionErrors.some((e) => e.node && e.kind === 'forbidden')) {
      lines.push('hint: netfilter, IPVS and conntrack evidence needs root (or CAP_NET_ADMIN): run knet with sudo')
    }
  }
  return lines.join('\n')
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}
