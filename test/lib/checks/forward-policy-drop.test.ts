import {describe, expect, test} from 'vitest'
import {forwardPolicyDrop} from '../../../src/lib/checks/forward-policy-drop.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('forward-policy-drop', () => {
  test('reports FORWARD DROP with no rule for pod traffic', () => {
    expect(run(forwardPolicyDrop, (SCENARIOS['forward-policy-drop'] as () => never)())).toEqual({
      findings: [
        {
          "check": "forward-policy-drop",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "filter FORWARD policy is DROP and no rule reachable from FORWARD accepts pod traffic (10.244.1.0/24, 10.244.0.0/16)",
          "evidence": [
            {
              "source": "node-1: iptables-save",
              "text": ":FORWARD DROP [0:0]"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(forwardPolicyDrop, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(forwardPolicyDrop, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-save': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'forward-policy-drop', reason: "iptables-save failed on node-1 (permission denied)"}]})
  })

  test("FORWARD DROP is fine when a rule accepts the cluster's pod CIDR (flannel's own rules)", () => {
    const rules = (flannelNode()['iptables-save'] ?? '').replace(':FORWARD ACCEPT [0:0]', ':FORWARD DROP [0:0]').replace('-A FORWARD -m conntrack', '-A FORWARD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT\n-A FORWARD -m conntrack')
    expect(run(forwardPolicyDrop, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-save': rules})]})).findings).toEqual([])
  })
})
