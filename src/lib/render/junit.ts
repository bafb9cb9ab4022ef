/**
 * JUnit XML for CI: one testcase per check that ran; each finding at or above --fail-on is a
 * <failure>, findings below it go to <system-out>, a check with nothing but skips is <skipped>.
 */
import type {Check} from '../checks/types.js'
import {subjectText} from '../report/finding.js'
import type {DoctorReport} from '../report/report.js'
import {failsAt, type FailOn} from '../report/severity.js'

export function renderJunit(report: DoctorReport, checks: readonly Check[], failOn: FailOn): string {
  const cases: string[] = []
  let failures = 0
  let skippedCount = 0
  for (const check of checks) {
    const findings = report.findings.filter((f) => f.check === check.id)
    const skipped = report.skipped.filter((s) => s.check === check.id)
    const body: string[] = []
    const out: string[] = []
    for (const f of findings) {
      const text = [`${subjectText(f.subject)}${f.node ? ` on ${f.node}` : ''}: ${f.message}`, ...f.evidence.map((e) => `  ${e.source}: ${e.text}`)].join('\n')
      if (failsAt(f.severity, failOn)) {
        failures++
        body.push(`      <failure type="${f.severity}" message="${esc(`${subjectText(f.subject)}: ${f.message}`)}">${esc(text)}</failure>`)
      } else out.push(`[${f.severity}] ${text}`)
    }
    if (findings.length === 0 && skipped.length > 0) {
      skippedCount++
      body.push(`      <skipped message="${esc(skipped.map((s) => s.reason).join('; '))}"/>`)
    } else for (const s of skipped) out.push(`skipped: ${s.reason}`)
    if (out.length > 0) body.push(`      <system-out>${esc(out.join('\n'))}</system-out>`)
    const open = `    <testcase classname="knet.doctor" name="${esc(check.id)}">`
    cases.push(body.length === 0 ? `${open.slice(0, -1)}/>` : [open, ...body, '    </testcase>'].join('\n'))
  }
  const attrs = `tests="${checks.length}" failures="${failures}" errors="0" skipped="${skippedCount}"`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="knet doctor" ${attrs}>`,
    `  <testsuite name="knet doctor" ${attrs}>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}

function esc(s: string): string {
  // XML 1.0 forbids most control characters even as references; evidence is raw tool output.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[&<>"']/g, (ch) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;'})[ch] as string)
}
