import {describe, expect, test} from 'vitest'
import {compareFindings, exitCodeFor, toDoctorJson, type DoctorReport} from '../../../src/lib/report/report.js'
import {failsAt, severityRank} from '../../../src/lib/report/severity.js'
import type {Finding} from '../../../src/lib/report/finding.js'

const finding = (severity: Finding['severity'], check = 'c'): Finding => ({
  check,
  severity,
  subject: {kind: 'node', name: 'node-1'},
  node: 'node-1',
  message: 'm',
  evidence: [{source: 'node-1: x', text: 'y'}],
})

const report = (findings: Finding[], collectionErrors: DoctorReport['collectionErrors'] = []): DoctorReport => ({findings, skipped: [], collectionErrors, checks: 1, nodes: 1})

describe('severity', () => {
  test('ok < info < warn < error', () => {
    expect(['ok', 'info', 'warn', 'error'].map((s) => severityRank(s as 'ok'))).toEqual([0, 1, 2, 3])
  })
  test('--fail-on compares at or above; none never fails', () => {
    expect(failsAt('warn', 'error')).toBe(false)
    expect(failsAt('warn', 'warn')).toBe(true)
    expect(failsAt('error', 'info')).toBe(true)
    expect(failsAt('error', 'none')).toBe(false)
  })
})

describe('exit codes', () => {
  const gatherError = [{node: 'node-2', source: 'iptables-save', kind: 'forbidden' as const, message: 'iptables-save: permission denied'}]
  test('0 when nothing reaches --fail-on', () => expect(exitCodeFor(report([finding('warn')]), 'error')).toBe(0))
  test('1 when a finding reaches --fail-on', () => expect(exitCodeFor(report([finding('warn')]), 'warn')).toBe(1))
  test('3 when evidence is missing and nothing reaches --fail-on', () => expect(exitCodeFor(report([finding('info')], gatherError), 'error')).toBe(3))
  test('1 wins over 3: a found fault is real even when other evidence is missing', () => expect(exitCodeFor(report([finding('error')], gatherError), 'error')).toBe(1))
  test('--fail-on none still reports missing evidence', () => expect(exitCodeFor(report([finding('error')], gatherError), 'none')).toBe(3))
})

describe('JSON contract', () => {
  test('exact shape, schemaVersion 1, kind of collection errors left out', () => {
    const r: DoctorReport = {
      findings: [{...finding('error'), subject: {kind: 'service', namespace: 'default', name: 'web'}}, {...finding('info'), node: undefined} as Finding],
      skipped: [{check: 'conntrack-stale', reason: 'conntrack unavailable on node-1'}],
      collectionErrors: [{source: 'networkpolicies', kind: 'forbidden', message: 'forbidden'}],
      checks: 3,
      nodes: 1,
    }
    expect(toDoctorJson(r)).toEqual({
      schemaVersion: 1,
      summary: {error: 1, warn: 0, info: 1, skipped: 1},
      findings: [
        {check: 'c', severity: 'error', subject: {kind: 'service', namespace: 'default', name: 'web'}, node: 'node-1', message: 'm', evidence: [{source: 'node-1: x', text: 'y'}]},
        {check: 'c', severity: 'info', subject: {kind: 'node', name: 'node-1'}, message: 'm', evidence: [{source: 'node-1: x', text: 'y'}]},
      ],
      skipped: [{check: 'conntrack-stale', reason: 'conntrack unavailable on node-1'}],
      collectionErrors: [{source: 'networkpolicies', message: 'forbidden'}],
    })
    expect(Object.keys(toDoctorJson(r))).toEqual(['schemaVersion', 'summary', 'findings', 'skipped', 'collectionErrors'])
  })
  test('findings sort by severity, then check id', () => {
    expect([finding('info', 'a'), finding('error', 'z'), finding('error', 'b')].sort(compareFindings).map((f) => f.check)).toEqual(['b', 'z', 'a'])
  })
})
