/** doctor's machine-readable outputs: the JSON contract, the same document as YAML, and the catalogue. */
import {stringify} from 'yaml'
import type {Check} from '../checks/types.js'
import {DOCTOR_SCHEMA_VERSION, toDoctorJson, type DoctorReport} from '../report/report.js'

export function renderDoctorJson(report: DoctorReport): string {
  return `${JSON.stringify(toDoctorJson(report), null, 2)}\n`
}

export function renderDoctorYaml(report: DoctorReport): string {
  return stringify(toDoctorJson(report), {lineWidth: 0})
}

export function catalogueJson(checks: readonly Check[]): {schemaVersion: number; checks: object[]} {
  return {
    schemaVersion: DOCTOR_SCHEMA_VERSION,
    checks: checks.map((c) => ({
      id: c.id,
      title: c.title,
      severity: c.severity,
      requires: [...c.requires],
      ...(c.kubeProxyIptables ? {kubeProxyIptables: true} : {}),
      remediation: c.remediation,
      explanation: c.explanation,
    })),
  }
}
