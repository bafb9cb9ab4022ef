/** doctor's output formats in one place, so the command only names the format. */
import type {Check} from '../checks/types.js'
import type {DoctorReport} from '../report/report.js'
import type {FailOn} from '../report/severity.js'
import {renderDoctorHtml} from './doctor-html.js'
import {renderDoctorJson, renderDoctorYaml} from './doctor-json.js'
import {renderDoctorSummary} from './doctor-summary.js'
import {renderDoctorTable} from './doctor-table.js'
import type {DoctorFormat} from './formats.js'
import {renderJunit} from './junit.js'
import {renderSarif} from './sarif.js'

export interface DoctorOutputOptions {
  width: number
  color: boolean
  /** -v: one row per finding (per node), with all its evidence as gathered. */
  verbose: boolean
  checks: readonly Check[]
  failOn: FailOn
  knetVersion: string
}

export function renderDoctorOutput(report: DoctorReport, format: DoctorFormat, o: DoctorOutputOptions): string {
  switch (format) {
    case 'json':
      return renderDoctorJson(report)
    case 'yaml':
      return renderDoctorYaml(report)
    case 'junit':
      return renderJunit(report, o.checks, o.failOn)
    case 'sarif':
      return renderSarif(report, o.checks, o.knetVersion)
    case 'html':
      return renderDoctorHtml(report, o)
    case 'table':
      return `${o.verbose ? renderDoctorTable(report, o) : renderDoctorSummary(report, o)}\n`
  }
}
