import {describe, expect, test} from 'vitest'
import {CHECK_IDS, CHECKS, selectChecks} from '../../../src/lib/checks/registry.js'
import {PARSERS} from '../../../src/lib/model/node-evidence.js'
import {run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

const REQUIRED = [
  'cidr-overlap', 'pod-ip-outside-node-cidr', 'pod-ip-duplicate', 'route-missing', 'route-nexthop-wrong', 'nat-stale-endpoint',
  'nat-missing-service', 'nat-orphan-service', 'conntrack-stale', 'ip-forward-off', 'bridge-nf-call-off', 'forward-policy-drop',
  'rp-filter-strict', 'iptables-backend-mixed', 'veth-detached', 'bridge-down', 'mtu-mismatch', 'service-no-endpoints',
  'service-targetport-mismatch', 'service-selector-matches-nothing', 'netpol-isolates', 'kube-proxy-mode',
]

describe('check registry', () => {
  test('ids are unique and stable-looking', () => {
    expect(new Set(CHECK_IDS).size).toBe(CHECK_IDS.length)
    for (const id of CHECK_IDS) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/)
  })

  test('every id the issue names is present', () => {
    expect([...CHECK_IDS].sort()).toEqual(expect.arrayContaining(REQUIRED))
    expect(REQUIRED.filter((id) => !CHECK_IDS.includes(id))).toEqual([])
  })

  test('every check is complete', () => {
    for (const c of CHECKS) {
      expect(c.title.length, c.id).toBeGreaterThan(10)
      expect(['info', 'warn', 'error'], c.id).toContain(c.severity)
      expect(c.remediation.length, c.id).toBeGreaterThan(20)
      expect(c.explanation.length, c.id).toBeGreaterThan(40)
      expect(c.requires.length, c.id).toBeGreaterThan(0)
      for (const r of c.requires) {
        if (r.startsWith('node:')) expect(Object.keys(PARSERS), `${c.id} ${r}`).toContain(r.slice(5))
        else expect(r, c.id).toMatch(/^cluster:(nodes|pods|services|endpointslices|networkpolicies|kube-proxy-config)$/)
      }
    }
  })

  test('every check has a fault scenario it reports, and every finding of every check on every scenario has evidence', () => {
    for (const c of CHECKS) {
      const make = SCENARIOS[c.id]
      expect(make, `scenario for ${c.id}`).toBeDefined()
    }
    for (const [id, make] of Object.entries(SCENARIOS)) {
      const snapshot = make()
      for (const c of CHECKS) {
        const {findings} = run(c, snapshot)
        for (const f of findings) {
          expect(f.evidence.length, `${c.id} on scenario ${id}: ${f.message}`).toBeGreaterThan(0)
          for (const e of f.evidence) expect(e.source && e.text, `${c.id}: ${f.message}`).toBeTruthy()
        }
        // Each fault is reported by exactly the check that emulates it.
        if (c.id === id) expect(findings.length, `${c.id} on its own scenario`).toBeGreaterThan(0)
        else expect(findings.map((f) => f.message), `${c.id} on scenario ${id}`).toEqual([])
      }
    }
  })

  test('the healthy base has no finding at all', () => {
    const snapshot = snapshotOf()
    expect(CHECKS.flatMap((c) => run(c, snapshot).findings)).toEqual([])
  })

  test('selectChecks honours --only and --skip', () => {
    expect(selectChecks(['bridge-down', 'cidr-overlap']).map((c) => c.id)).toEqual(['cidr-overlap', 'bridge-down'])
    expect(selectChecks(undefined, ['cidr-overlap']).map((c) => c.id)).toEqual(CHECK_IDS.filter((id) => id !== 'cidr-overlap'))
  })
})
