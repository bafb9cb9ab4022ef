/**
 * doctor's default human view: the first line says how many faults there are and which to fix
 * first (with its remediation on the next line); then one row per fault, grouped by severity — the
 * check, the subjects and the nodes it was seen on, the message, and the lines that prove it with a
 * short source; then skipped checks, collection errors and the count line. `-v` is the per-node
 * table (doctor-table.ts).
 */
import {Chalk, type ChalkInstance} from 'chalk'
import type {Check} from '../checks/types.js'
import type {DoctorReport} from '../report/report.js'
import type {Severity} from '../report/severity.js'
import {summaryLine} from './doctor-table.js'
import {groupEvidence, groupFindings, nodesText, subjectsText, type FindingGroup} from './finding-groups.js'
import {wrapWords} from './text.js'

export interface DoctorSummaryOptions {
  width: number
  color: boolean
  /** The checks that ran, in catalogue order: it ranks the faults, and the first one's remediation is quoted. */
  checks?: readonly Pick<Check, 'id' | 'remediation'>[]
}

/** Evidence lines shown per fault; the rest are one flag away. */
const EVIDENCE_LINES = 3

export function renderDoctorSummary(report: DoctorReport, options: DoctorSummaryOptions): string {
  const c = new Chalk({level: options.color ? 1 : 0})
  const width = Math.max(40, options.width)
  const groups = groupFindings(report.findings, options.checks?.map((k) => k.id))
  const out: string[] = []
  if (groups.length === 0) out.push(c.green('No findings.'), '')
  else {
    out.push(...headline(c, groups, options, width), '')
    for (const s of ['error', 'warn', 'info'] as const) {
      const these = groups.filter((g) => g.severity === s)
      if (these.length === 0) continue
      const findings = these.reduce((n, g) => n + g.findings.length, 0)
      out.push(paint(c, s, `${s.toUpperCase()} (${plural(these.length, 'fault')}${findings === these.length ? '' : `, ${findings} findings`})`))
      for (const g of these) out.push(...row(c, g, width))
      out.push('')
    }
  }
  if (report.skipped.length > 0) {
    out.push(c.bold(`SKIPPED (${report.skipped.length})`))
    for (const s of report.skipped) out.push(...wrapWords(`${s.check}: skipped: ${s.reason}`, width, '  ', '    '))
    out.push('')
  }
  if (report.collectionErrors.length > 0) {
    out.push(c.bold(`COLLECTION ERRORS (${report.collectionErrors.length})`))
    for (const e of report.collectionErrors) out.push(...wrapWords(`${e.node ? `${e.node} ` : ''}${e.source}: ${e.message}`, width, '  ', '    '))
    out.push('')
  }
  out.push(summaryLine(report))
  return out.join('\n')
}

/** "3 faults (8 errors). Fix first: route-missing on node node-1" and its remediation. */
function headline(c: ChalkInstance, groups: FindingGroup[], options: DoctorSummaryOptions, width: number): string[] {
  const count = (s: Severity) => groups.filter((g) => g.severity === s).reduce((n, g) => n + g.findings.length, 0)
  const counts = [plural(count('error'), 'error'), plural(count('warn'), 'warning'), `${count('info')} info`].filter((x) => !x.startsWith('0 ')).join(', ')
  const top = groups[0] as FindingGroup
  const verb = top.severity === 'info' ? 'Look first at' : 'Fix first'
  const where = [subjectsText(top.subjects), nodesText(top)].filter(Boolean).join(' ')
  const first = `${plural(groups.length, 'fault')} (${counts}). ${verb}: ${top.check} — ${where}`
  const remedy = options.checks?.find((k) => k.id === top.check)?.remediation
  return [...wrapWords(first, width, '', '').map((l) => c.bold(l)), ...(remedy ? wrapWords(`→ ${remedy}`, width, '  ', '    ') : [])]
}

function row(c: ChalkInstance, g: FindingGroup, width: number): string[] {
  const head = [c.bold(g.check), subjectsText(g.subjects), nodesText(g)].filter(Boolean).join(' · ')
  const out = wrapWords(head, width, '  ', '      ')
  out.push(...wrapWords(g.message, width, '    ', '    '))
  const evidence = groupEvidence(g)
  for (const e of evidence.slice(0, EVIDENCE_LINES)) out.push(...wrapWords(`${e.source}: ${e.text}`, width, `    ${c.dim('└')} `, '      '))
  const more = evidence.length - EVIDENCE_LINES
  if (more > 0) out.push(`      ${c.dim(`… ${plural(more, 'more evidence line')} (-v)`)}`)
  return out
}

function paint(c: ChalkInstance, s: Severity, text: string): string {
  return s === 'error' ? c.red.bold(text) : s === 'warn' ? c.yellow.bold(text) : c.cyan(text)
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
