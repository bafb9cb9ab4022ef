/**
 * Human text for the lab commands (JSON is the result objects themselves). It lives beside the
 * lab rather than in src/lib/render/ only because of file ownership during this change; it has
 * no colour and fixed layout, so tests can assert it exactly.
 */
import type {LabDownResult} from './teardown.js'
import type {LabPlan} from './plan.js'
import type {ProbeResult} from './probe.js'
import type {LabStatus} from './status.js'

function table(rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n')
}

export function renderLabUp(plan: LabPlan, durationMs: number): string {
  const p = plan.params
  return [
    `lab ${p.name} is up (${p.topology}${p.ipFamily && p.ipFamily !== 'ipv4' ? `, ${p.ipFamily === 'dual' ? 'dual-stack' : 'IPv6-only'}` : ''}, ${p.nodes} nodes × ${p.podsPerNode} pods) in ${(durationMs / 1000).toFixed(1)} s`,
    `  try: knet lab probe --name ${p.name} ${plan.pods[0]?.name ?? 'POD'} svc/default/web`,
    `       knet lab status --name ${p.name}`,
  ].join('\n')
}

export function renderLabStatus(s: LabStatus): string {
  const yes = (b: boolean): string => (b ? 'yes' : 'MISSING')
  const real = s.kubernetes ? `, real Kubernetes (kube-proxy ${s.kubernetes.proxyMode})` : ''
  const family = s.ipFamily ? `, ${s.ipFamily === 'dual' ? 'dual-stack' : 'IPv6-only'}` : ''
  const lines = [`lab ${s.name}: ${s.status}, ${s.topology}${family}${real}, ${s.healthy ? 'healthy' : 'NOT healthy'} (state ${s.stateFile})`, '']
  lines.push(table([['NODE', 'INTERNAL-IP', 'POD-CIDR', 'NETNS', 'PRESENT'], ...s.nodes.map((n) => [n.name, [n.internalIP, n.internalIP6].filter(Boolean).join(','), [n.podCIDR, n.podCIDR6].filter(Boolean).join(','), n.netns, yes(n.present)])]))
  lines.push('')
  lines.push(
    table([
      ['POD', 'NODE', 'IP', 'PORTS', 'NETNS', 'PRESENT', 'RESPONDER'],
      ...s.pods.map((p) => [`${p.namespace}/${p.name}`, p.node, [p.ip, p.ip6].filter(Boolean).join(','), p.ports.join(','), p.netns, yes(p.present), p.responder ? `${p.responder.pid} ${p.responder.running ? 'running' : 'GONE'}` : 'none']),
    ]),
  )
  lines.push('')
  lines.push(
    table([
      ['SERVICE', 'TYPE', 'CLUSTER-IP', 'PORTS', 'ENDPOINTS'],
      ...s.services.map((v) => [`${v.namespace}/${v.name}`, v.type, [v.clusterIP, v.clusterIP6].filter(Boolean).join(','), v.ports.join(','), v.endpoints.length > 0 ? v.endpoints.join(',') : '<none>']),
    ]),
  )
  if (s.components) {
    lines.push('')
    lines.push(table([['COMPONENT', 'VERSION', 'NODE', 'PID', 'RUNNING'], ...s.components.map((c) => [c.name, c.version ?? '-', c.node, String(c.pid), c.running ? 'yes' : 'GONE'])]))
  }
  lines.push('', `router ${s.router.netns}: ${s.router.present ? 'present' : 'MISSING'}`)
  if (s.objectsFile) {
    const map = Object.entries(s.nodeMap).map(([n, ns]) => `${n}=${ns}`).join(',')
    lines.push(`snapshot: knet snapshot --objects ${s.objectsFile} --node-access netns --netns-map ${map}`)
  }
  if (s.strayNamespaces.length > 0) lines.push(`stray namespaces of this lab: ${s.strayNamespaces.join(', ')}`)
  return lines.join('\n')
}

export function renderProbe(r: ProbeResult): string {
  const dst = `${r.destination.name ?? r.destination.ip}${r.port === null ? '' : `:${r.port}`}`
  const ip = r.destination.ip.includes(':') && r.port !== null ? `[${r.destination.ip}]` : r.destination.ip
  const via = r.destination.name && r.destination.name !== r.destination.ip ? ` (${ip}${r.port === null ? '' : `:${r.port}`})` : ''
  const head = `${r.source.name} → ${dst}${via} ${r.protocol}: ${r.outcome.toUpperCase()}`
  const lines = [head]
  if (r.answeredBy.length > 0) lines.push(`  answered by: ${r.answeredBy.join(', ')}`)
  if (r.attempts > 1) lines.push(`  attempts: ${r.attempts} (${Object.entries(r.outcomes).filter(([, n]) => n > 0).map(([o, n]) => `${n} ${o}`).join(', ')})`)
  if (r.silentEndpoints && r.silentEndpoints.length > 0) lines.push(`  endpoints that never answered: ${r.silentEndpoints.join(', ')}`)
  if (r.detail) lines.push(`  detail: ${r.detail}`)
  return lines.join('\n')
}

export function renderLabDown(r: LabDownResult): string {
  if (!r.existed) return `lab ${r.name}: nothing to remove`
  const lines = [`lab ${r.name}: removed ${r.removedNamespaces.length} namespaces, stopped ${r.stoppedProcesses.length} processes`]
  for (const f of r.failed) lines.push(`  could not remove ${f.netns}: ${f.error}`)
  return lines.join('\n')
}
