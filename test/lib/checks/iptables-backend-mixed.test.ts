import {describe, expect, test} from 'vitest'
import {iptablesBackendMixed} from '../../../src/lib/checks/iptables-backend-mixed.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('iptables-backend-mixed', () => {
  test('reports rules in both iptables-legacy and iptables-nft', () => {
    expect(run(iptablesBackendMixed, (SCENARIOS['iptables-backend-mixed'] as () => never)())).toEqual({
      findings: [
        {
          "check": "iptables-backend-mixed",
          "severity": "warn",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "rules in both backends: 5 in iptables-legacy and 41 in iptables-nft",
          "evidence": [
            {
              "source": "node-1: iptables-legacy-save",
              "text": "-A FORWARD -i cni0 -j ACCEPT"
            },
            {
              "source": "node-1: iptables-save",
              "text": "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(iptablesBackendMixed, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(iptablesBackendMixed, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-legacy-save': {status: 'unavailable', reason: 'iptables-legacy-save: command not found'}})]}))).toEqual({findings: [], skipped: [{check: 'iptables-backend-mixed', reason: "iptables-legacy-save unavailable on node-1 (iptables-legacy-save: command not found)"}]})
  })
})
