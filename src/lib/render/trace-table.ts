/**
 * trace's full human view (-v; the default view is trace-summary.ts): the path line in the seeds'
 * notation (the failing hop marked ✗, an unknown one ?), a hop table with each hop's evidence, one
 * block per Service endpoint branch, and the verdict. Width and colour are parameters, so tests pin both.
 */
import {Chalk, type ChalkInstance} from 'chalk'
import type {Hop, TraceBranch, TraceResult} from '../trace/types.js'
import {hostPort} from '../net/cidr.js'

export interface TraceTableOptions {
  width: number
  color: boolean
}

function mark(h: Hop): string {
  return h.status === 'fail' ? `✗ ${h.label}` : h.status === 'unknown' ? `? ${h.label}` : h.label
}

/** "pod-a eth0 → veth1 → cbr0 → node-1 eth0 → 10.100.0.3 → …", failing hop marked. */
export function pathLine(hops: readonly Hop[]): string {
  return hops.map(mark).join(' → ')
}

function wrap(text: string, width: number): string[] {
  if (width < 10 || text.length <= width) return [text]
  const out: string[] = []
  let rest = text
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width)
    if (cut <= 0) cut = width
    out.push(rest.slice(0, cut))
    rest = rest.slice(cut).trimStart()
  }
  if (rest) out.push(rest)
  return out
}

function hopLines(c: ChalkInstance, hops: readonly Hop[], width: number, indent: string): string[] {
  const out: string[] = []
  for (const h of hops) {
    const status = h.status === 'ok' ? c.green('ok') : h.status === 'fail' ? c.red('FAIL') : c.yellow('UNKNOWN')
    const where = h.node && !h.label.startsWith(h.node) ? `  (on ${h.node})` : ''
    out.push(`${indent}${String(h.index).padStart(2)}  ${status}${h.code ? ` (${h.code})` : ''}  ${h.label}${where}`)
    for (const l of wrap(h.action, width - indent.length - 6)) out.push(`${indent}      ${l}`)
    for (const e of h.evidence) for (const [i, l] of wrap(`${e.source}: ${e.text}`, width - indent.length - 10).entries()) out.push(`${indent}      ${i === 0 ? c.dim('└ ') : '  '}${c.dim(l)}`)
  }
  return out
}

function verdictText(c: ChalkInstance, v: TraceResult['verdict'] | TraceBranch['verdict']): string {
  const t = v.toUpperCase()
  return v === 'delivered' ? c.green(t) : v === 'unknown' ? c.yellow(t) : c.red(t)
}

export function renderTraceTable(r: TraceResult, options: TraceTableOptions): string {
  const c = new Chalk({level: options.color ? 1 : 0})
  const out: string[] = []
  const dst = `${r.destination.name ?? r.destination.ip} (${hostPort(r.destination.ip, r.port)})`
  out.push(c.bold(`${r.source.name ?? r.source.ip} (${r.source.ip}) → ${dst} ${r.protocol}`))
  if (r.branches.length === 0) out.push(`path: ${pathLine(r.hops)}`)
  else for (const b of r.branches) out.push(`path: ${pathLine([...r.hops, ...b.hops])}`)
  out.push('')
  out.push(...hopLines(c, r.hops, options.width, ''))
  if (r.nat.dnat.length > 0) {
    out.push('', `DNAT (${r.nat.masquerade ? 'masqueraded' : 'not masqueraded'}):`)
    for (const d of r.nat.dnat) out.push(`  ${hostPort(d.ip, d.port)}  ${(d.probability * 100).toFixed(1)}%  ${d.endpoint ?? '(no pod has this address)'}`)
  }
  for (const b of r.branches) {
    out.push('', `branch ${b.endpoint}: ${verdictText(c, b.verdict)}${b.reason ? ` (${b.reason.code}, hop ${b.reason.hop ?? '-'})` : ''}`)
    out.push(...hopLines(c, b.hops, options.width, '  '))
  }
  out.push('')
  out.push(`verdict: ${verdictText(c, r.verdict)}${r.reason ? ` — ${r.reason.code}${r.reason.hop === null ? '' : ` at hop ${r.reason.hop}`}: ${r.reason.message}` : ''}`)
  if (r.probe) out.push('', ...probeLines(c, r))
  return out.join('\n')
}

/** --probe: prediction and observation side by side, and whether they agree (both views end with it). */
export function probeLines(c: ChalkInstance, r: TraceResult): string[] {
  const p = r.probe as NonNullable<TraceResult['probe']>
  const observed = p.observed.toUpperCase()
  const agreement = p.agrees === null ? c.yellow(p.observed === 'unknown' ? 'nothing to compare' : 'no prediction to compare') : p.agrees ? c.green('agrees') : c.red('DISAGREES')
  const shown = p.observed === 'delivered' ? c.green(observed) : p.observed === 'unknown' ? c.yellow(observed) : c.red(observed)
  return [
    `predicted:    ${verdictText(c, r.verdict)}${r.reason ? ` (${r.reason.code})` : ''}`,
    `real packet:  ${shown} — ${p.detail}`,
    // Live clusters: how it was sent (exec in the pod, or knet's ephemeral container).
    ...(p.via ? [`sent by:      ${p.via}`] : []),
    `              ${agreement}`,
  ]
}
