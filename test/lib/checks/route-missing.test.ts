import {describe, expect, test} from 'vitest'
import {routeMissing} from '../../../src/lib/checks/route-missing.js'
import {editJson, flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('route-missing', () => {
  test("reports node-1 without its route to node-3's pod CIDR", () => {
    expect(run(routeMissing, (SCENARIOS['route-missing'] as () => never)())).toEqual({
      findings: [
        {
          "check": "route-missing",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "no route to node-3's pod CIDR 10.244.3.0/24: only the default route matches, and flannel installs one route per node",
          "evidence": [
            {
              "source": "node-1: ip -j route show table all",
              "text": "default via 10.100.0.1 dev eth0"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(routeMissing, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(routeMissing, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'routes4': {status: 'unavailable', reason: 'ip: command not found'}})]}))).toEqual({findings: [], skipped: [{check: 'route-missing', reason: "routes4 unavailable on node-1 (ip: command not found)"}]})
  })

  test('VXLAN: a route without the FDB entry for the remote VTEP is missing', () => {
    const fdb = editJson(flannelNode()['bridge-fdb'] ?? '', (f) => f.filter((x) => x.mac !== '0a:00:00:00:02:00'))
    const {findings} = run(routeMissing, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'bridge-fdb': fdb})]}))
    expect(findings.map((f) => [f.node, f.message, f.evidence.map((e) => e.text)])).toEqual([
      [
        'node-1',
        "no FDB entry for 0a:00:00:00:02:00 on flannel.1: VXLAN packets to node-2's pod CIDR 10.244.2.0/24 have no remote VTEP",
        ['10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink', '10.244.2.0 dev flannel.1 lladdr 0a:00:00:00:02:00 PERMANENT'],
      ],
    ])
  })
})
