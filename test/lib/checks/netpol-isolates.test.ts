import {describe, expect, test} from 'vitest'
import {netpolIsolates} from '../../../src/lib/checks/netpol-isolates.js'
import {run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

function withClusterError(source: string) {
  const s = snapshotOf()
  s.cluster?.errors.push({source, kind: 'forbidden', message: 'networkpolicies.networking.k8s.io is forbidden: User "knet" cannot list resource "networkpolicies"'})
  return s
}

describe('netpol-isolates', () => {
  test('reports a default-deny ingress policy', () => {
    expect(run(netpolIsolates, (SCENARIOS['netpol-isolates'] as () => never)())).toEqual({
      findings: [
        {
          "check": "netpol-isolates",
          "severity": "info",
          "subject": {
            "kind": "networkpolicy",
            "namespace": "default",
            "name": "default-deny"
          },
          "message": "default-deny ingress for 2 pod(s) in default: web-1, web-2",
          "evidence": [
            {
              "source": "api: NetworkPolicy default/default-deny spec.podSelector",
              "text": "{} (all pods in the namespace)"
            },
            {
              "source": "api: NetworkPolicy default/default-deny spec.policyTypes",
              "text": "Ingress"
            },
            {
              "source": "api: NetworkPolicy default/default-deny spec.ingress",
              "text": "[]"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(netpolIsolates, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(netpolIsolates, withClusterError('networkpolicies'))).toEqual({findings: [], skipped: [{check: 'netpol-isolates', reason: "networkpolicies could not be read (networkpolicies.networking.k8s.io is forbidden: User \"knet\" cannot list resource \"networkpolicies\")"}]})
  })
})
