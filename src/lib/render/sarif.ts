/**
 * SARIF 2.1.0: one rule per check, one result per finding (level error/warning/note), located by
 * logical locations — the subject and, when set, the node — since findings have no source files.
 */
import type {Check} from '../checks/types.js'
import type {Finding} from '../report/finding.js'
import type {DoctorReport} from '../report/report.js'

const LEVEL: Record<Finding['severity'], 'error' | 'warning' | 'note'> = {error: 'error', warn: 'warning', info: 'note'}

export function renderSarif(report: DoctorReport, checks: readonly Check[], version: string): string {
  const ruleIndex = new Map(checks.map((c, i) => [c.id, i]))
  const doc = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'knet',
            version,
            rules: checks.map((c) => ({
              id: c.id,
              name: c.id,
              shortDescription: {text: c.title},
              fullDescription: {text: c.explanation},
              help: {text: c.remediation},
              defaultConfiguration: {level: LEVEL[c.severity]},
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: report.collectionErrors.length === 0,
            toolExecutionNotifications: [
              ...report.skipped.map((s) => ({level: 'note', message: {text: `skipped: ${s.reason}`}, descriptor: {id: s.check}})),
              ...report.collectionErrors.map((e) => ({level: 'error', message: {text: `${e.node ? `${e.node} ` : ''}${e.source}: ${e.message}`}})),
            ],
          },
        ],
        results: report.findings.map((f) => ({
          ruleId: f.check,
          ...(ruleIndex.has(f.check) ? {ruleIndex: ruleIndex.get(f.check)} : {}),
          level: LEVEL[f.severity],
          message: {text: f.message},
          locations: [
            {
              logicalLocations: [
                {name: f.subject.name, fullyQualifiedName: [f.subject.kind, f.subject.namespace, f.subject.name].filter(Boolean).join('/'), kind: f.subject.kind},
                ...(f.node && !(f.subject.kind === 'node' && f.subject.name === f.node) ? [{name: f.node, fullyQualifiedName: `node/${f.node}`, kind: 'node'}] : []),
              ],
            },
          ],
          properties: {evidence: f.evidence},
        })),
      },
    ],
  }
  return `${JSON.stringify(doc, null, 2)}\n`
}
