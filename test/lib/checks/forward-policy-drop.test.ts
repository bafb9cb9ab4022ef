import {describe, expect, test} from 'vitest'
import {forwardPolicyDrop} from '../../../src/lib/checks/forward-policy-drop.js'
import {editJson, flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
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

  test("a Docker host that carries no pods (no API, no CNI interface or config) keeps Docker's FORWARD DROP: skipped with the reason", () => {
    const o = flannelNode()
    o.links = editJson(o.links ?? '', (l) => l.filter((x) => x.ifname !== 'cbr0' && x.ifname !== 'flannel.1' && !x.master))
    o['iptables-save'] = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n-A FORWARD -o docker0 -j DOCKER\nCOMMIT\n'
    expect(run(forwardPolicyDrop, snapshotOf({cluster: null, nodes: [nodeEvidence('build-host', o)]}))).toEqual({
      findings: [],
      skipped: [{check: 'forward-policy-drop', reason: 'build-host carries no pods (no cluster state, and no CNI interface or CNI config on the node), so the FORWARD policy was not judged'}],
    })
  })
})
