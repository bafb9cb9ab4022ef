/**
 * Human output of doctor: findings grouped by severity (error, warn, info) in a table of severity,
 * check, subject, finding and evidence, then skipped checks, collection errors and a one-line
 * summary. Width is a parameter and colour an option, so tests pin both.
 */
import {Chalk, type ChalkInstance} from 'chalk'
import type {Check} from '../checks/types.js'
import {subjectText, type Finding} from '../report/finding.js'
import {summarise, type DoctorReport} from '../report/report.js'
import {SEVERITIES, type Severity} from '../report/severity.js'

export interface TableOptions {
  width: number
  color: boolean
}

const HEADINGS = ['SEVERITY', 'CHECK', 'SUBJECT', 'FINDING', 'EVIDENCE'] as const

export function renderDoctorTable(report: DoctorReport, options: TableOptions): string {
  const c = new Chalk({level: options.color ? 1 : 0})
  const out: string[] = []
  const bySeverity = [...SEVERITIES].reverse().map((s) => ({s, findings: report.findings.filter((f) => f.severity === s)}))
  const rows = report.findings.map((f) => [f.severity, f.check, subjectText(f.subject) + (f.node && f.node !== f.subject.name ? ` (on ${f.node})` : ''), f.message, evidenceText(f)])
  const widths = columnWidths(rows, options.width)
  for (const {s, findings} of bySeverity) {
    if (findings.length === 0) continue
    out.push(paint(c, s, `${s.toUpperCase()} (${findings.length})`))
    out.push(formatRow([...HEADINGS], widths).map((l) => c.dim(l)).join('\n'))
    for (const f of findings) {
      const row = [f.severity, f.check, subjectText(f.subject) + (f.node && f.node !== f.subject.name ? ` (on ${f.node})` : ''), f.message, evidenceText(f)]
      const lines = formatRow(row, widths)
      out.push(lines.map((l, i) => (i === 0 ? l.replace(f.severity, paint(c, f.severity, f.severity)) : l)).join('\n'))
    }
    out.push('')
  }
  if (report.findings.length === 0) out.push(c.green('No findings.'), '')
  if (report.skipped.length > 0) {
    out.push(c.bold(`SKIPPED (${report.skipped.length})`))
    for (const s of report.skipped) out.push(...wrap(`${s.check}: skipped: ${s.reason}`, options.width - 4).map((l, i) => (i === 0 ? `  ${l}` : `    ${l}`)))
    out.push('')
  }
  if (report.collectionErrors.length > 0) {
    out.push(c.bold(`COLLECTION ERRORS (${report.collectionErrors.length})`))
    for (const e of report.collectionErrors) out.push(...wrap(`${e.node ? `${e.node} ` : ''}${e.source}: ${e.message}`, options.width - 4).map((l, i) => (i === 0 ? `  ${l}` : `    ${l}`)))
    out.push('')
  }
  out.push(summaryLine(report))
  return out.join('\n')
}

export function summaryLine(report: DoctorReport): string {
  const s = summarise(report)
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const errors = report.collectionErrors.length
  return (
    `${plural(s.error, 'error')}, ${plural(s.warn, 'warning')}, ${s.info} info, ${s.skipped} skipped ` +
    `(${plural(report.checks, 'check')} on ${plural(report.nodes, 'node')})` +
    (errors > 0 ? `; ${plural(errors, 'collection error')}` : '')
  )
}

export function renderCatalogue(checks: readonly Check[]): string {
  const idWidth = Math.max(...checks.map((c) => c.id.length), 5)
  return [`${'CHECK'.padEnd(idWidth)}  SEVERITY  TITLE`, ...checks.map((c) => `${c.id.padEnd(idWidth)}  ${c.severity.padEnd(8)}  ${c.title}`)].join('\n')
}

function paint(c: ChalkInstance, s: Severity, text: string): string {
  return s === 'error' ? c.red.bold(text) : s === 'warn' ? c.yellow.bold(text) : c.cyan(text)
}

function evidenceText(f: Finding): string {
  return f.evidence.map((e) => `${e.source}\n  ${e.text}`).join('\n')
}

function columnWidths(rows: string[][], width: number): number[] {
  const natural = (i: number, cap: number) => Math.min(cap, Math.max(HEADINGS[i]?.length ?? 0, ...rows.map((r) => (r[i] ?? '').length)))
  const sev = natural(0, 8)
  const check = natural(1, 32)
  const subject = natural(2, 32)
  const rest = Math.max(30, width - sev - check - subject - 4 * 2)
  const finding = Math.floor(rest * 0.4)
  return [sev, check, subject, finding, rest - finding]
}

function formatRow(cells: string[], widths: number[]): string[] {
  const wrapped = cells.map((cell, i) => cell.split('\n').flatMap((line) => wrap(line, widths[i] ?? 10)))
  const height = Math.max(...wrapped.map((w) => w.length))
  const lines: string[] = []
  for (let row = 0; row < height; row++) {
    lines.push(
      wrapped
        .map((w, i) => (i === wrapped.length - 1 ? (w[row] ?? '') : (w[row] ?? '').padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
  }
  return lines
}

/** Word wrap; words longer than the width are cut. Leading indentation is kept. */
export function wrap(text: string, width: number): string[] {
  if (width <= 0 || text.length <= width) return [text]
  const indent = /^\s*/.exec(text)?.[0] ?? ''
  const lines: string[] = []
  let line = ''
  for (const word of text.trim().split(/\s+/)) {
    let w = word
    while (w.length > width - indent.length) {
      if (line) {
        lines.push(line)
        line = ''
      }
      lines.push(indent + w.slice(0, width - indent.length))
      w = w.slice(width - indent.length)
    }
    if (!w) continue
    if (!line) line = indent + w
    else if (line.length + 1 + w.length <= width) line += ` ${w}`
    else {
      lines.push(line)
      line = indent + w
    }
  }
  if (line) lines.push(line)
  return lines
}
