/**
 * The doctor report: findings, skipped checks and collection errors, kept apart. Its JSON form
 * (toDoctorJson) is a contract, versioned by DOCTOR_SCHEMA_VERSION. Exit codes are decided here.
 *
 * Exit-code precedence: 1 (a finding at or above --fail-on) wins over 3 (evidence could not be
 * gathered). A gap in the evidence cannot make a found fault less real, and CI gates on faults;
 * 3 is reported only when nothing gathered fails the gate, because then "clean" is not proven.
 */
import type {CollectionError} from './collection-error.js'
import {ExitCode} from './exit-codes.js'
import type {Finding, Skipped} from './finding.js'
import {failsAt, severityRank, type FailOn} from './severity.js'

export const DOCTOR_SCHEMA_VERSION = 1

export interface DoctorReport {
  findings: Finding[]
  skipped: Skipped[]
  collectionErrors: CollectionError[]
  /** How many checks ran (after --only/--skip), for the summary line. */
  checks: number
  /** How many nodes had datapath evidence. */
  nodes: number
}

export interface DoctorJson {
  schemaVersion: number
  summary: {error: number; warn: number; info: number; skipped: number}
  findings: Finding[]
  skipped: Skipped[]
  collectionErrors: {node?: string; source: string; message: string}[]
}

export function summarise(report: DoctorReport): DoctorJson['summary'] {
  const count = (s: Finding['severity']) => report.findings.filter((f) => f.severity === s).length
  return {error: count('error'), warn: count('warn'), info: count('info'), skipped: report.skipped.length}
}

/** The JSON contract, and nothing else: field order fixed, optional fields only when set. */
export function toDoctorJson(report: DoctorReport): DoctorJson {
  return {
    schemaVersion: DOCTOR_SCHEMA_VERSION,
    summary: summarise(report),
    findings: report.findings.map((f) => ({
      check: f.check,
      severity: f.severity,
      subject: {kind: f.subject.kind, ...(f.subject.namespace ? {namespace: f.subject.namespace} : {}), name: f.subject.name},
      ...(f.node === undefined ? {} : {node: f.node}),
      message: f.message,
      evidence: f.evidence.map((e) => ({source: e.source, text: e.text})),
      ...(f.family === undefined ? {} : {family: f.family}),
    })),
    skipped: report.skipped.map((s) => ({check: s.check, reason: s.reason})),
    collectionErrors: report.collectionErrors.map((e) => ({...(e.node === undefined ? {} : {node: e.node}), source: e.source, message: e.message})),
  }
}

/** Deterministic order: severity (error first), check id, subject, node, message. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    cmp(a.check, b.check) ||
    cmp(a.subject.kind, b.subject.kind) ||
    cmp(a.subject.namespace ?? '', b.subject.namespace ?? '') ||
    cmp(a.subject.name, b.subject.name) ||
    cmp(a.node ?? '', b.node ?? '') ||
    cmp(a.message, b.message)
  )
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function exitCodeFor(report: DoctorReport, failOn: FailOn): ExitCode {
  if (report.findings.some((f) => failsAt(f.severity, failOn))) return ExitCode.Findings
  if (report.collectionErrors.length > 0) return ExitCode.Gather
  return ExitCode.Ok
}
