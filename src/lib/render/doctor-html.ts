/**
 * doctor -o html: one self-contained page for a CI artifact — the findings table grouped by
 * severity (one row per fault, as the default table), skipped checks and collection errors. Inline
 * CSS only: no script, no font, no image, nothing fetched, so it opens the same offline.
 */
import type {Check} from '../checks/types.js'
import type {DoctorReport} from '../report/report.js'
import {summaryLine} from './doctor-table.js'
import {groupEvidence, groupFindings, nodesText, subjectsText} from './finding-groups.js'

export interface DoctorHtmlOptions {
  checks?: readonly Pick<Check, 'id' | 'remediation' | 'title'>[]
  knetVersion?: string
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1d1d1f; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
p.summary { margin: 0 0 1.2rem; color: #444; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
h2.error { color: #b00020; } h2.warn { color: #8a5a00; } h2.info { color: #005a8a; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid #ddd; }
th { background: #f4f4f6; font-weight: 600; }
td.check { white-space: nowrap; font-weight: 600; }
tr.error td.check { color: #b00020; } tr.warn td.check { color: #8a5a00; } tr.info td.check { color: #005a8a; }
.evidence { margin: .3rem 0 0; padding: 0; list-style: none; }
.evidence li { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
.evidence .source { color: #666; }
.remedy { color: #333; font-size: 13px; margin-top: .3rem; }
ul.plain { padding-left: 1.2rem; }
`

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

export function renderDoctorHtml(report: DoctorReport, options: DoctorHtmlOptions = {}): string {
  const groups = groupFindings(report.findings, options.checks?.map((c) => c.id))
  const body: string[] = []
  body.push('<h1>knet doctor</h1>', `<p class="summary">${esc(summaryLine(report))}</p>`)
  if (groups.length === 0) body.push('<p>No findings.</p>')
  for (const s of ['error', 'warn', 'info'] as const) {
    const these = groups.filter((g) => g.severity === s)
    if (these.length === 0) continue
    body.push(`<h2 class="${s}">${s.toUpperCase()} (${these.length} fault${these.length === 1 ? '' : 's'})</h2>`)
    body.push('<table>', '<thead><tr><th>check</th><th>where</th><th>finding and evidence</th></tr></thead>', '<tbody>')
    for (const g of these) {
      const where = [subjectsText(g.subjects), nodesText(g)].flatMap((x) => (x ? [esc(x)] : [])).join('<br>')
      const evidence = groupEvidence(g).map((e) => `<li><span class="source">${esc(e.source)}:</span> ${esc(e.text)}</li>`).join('')
      const remedy = options.checks?.find((c) => c.id === g.check)?.remediation
      body.push(
        `<tr class="${s}"><td class="check">${esc(g.check)}</td><td>${where}</td><td>${esc(g.message)}<ul class="evidence">${evidence}</ul>${remedy ? `<div class="remedy">→ ${esc(remedy)}</div>` : ''}</td></tr>`,
      )
    }
    body.push('</tbody>', '</table>')
  }
  if (report.skipped.length > 0) {
    body.push(`<h2>Skipped (${report.skipped.length})</h2>`, '<ul class="plain">', ...report.skipped.map((x) => `<li><b>${esc(x.check)}</b>: ${esc(x.reason)}</li>`), '</ul>')
  }
  if (report.collectionErrors.length > 0) {
    body.push(`<h2>Collection errors (${report.collectionErrors.length})</h2>`, '<ul class="plain">', ...report.collectionErrors.map((e) => `<li>${esc(`${e.node ? `${e.node} ` : ''}${e.source}: ${e.message}`)}</li>`), '</ul>')
  }
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may load from anywhere: the page is its own artifact.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>knet doctor: ${esc(summaryLine(report))}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    ...(options.knetVersion ? [`<p class="summary">knet ${esc(options.knetVersion)}</p>`] : []),
    '</body>',
    '</html>',
    '',
  ].join('\n')
}
