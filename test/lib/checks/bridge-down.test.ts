import {describe, expect, test} from 'vitest'
import {bridgeDown} from '../../../src/lib/checks/bridge-down.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('bridge-down', () => {
  test('reports cbr0 administratively down', () => {
    expect(run(bridgeDown, (SCENARIOS['bridge-down'] as () => never)())).toEqual({
      findings: [
        {
          "check": "bridge-down",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "pod bridge cbr0 is down (1 port(s) attached)",
          "evidence": [
            {
              "source": "node-1: ip -j -d link show",
              "text": "3: cbr0 bridge mtu 1450 state DOWN <BROADCAST,MULTICAST>"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(bridgeDown, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(bridgeDown, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'links': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'bridge-down', reason: "links failed on node-1 (permission denied)"}]})
  })
})
