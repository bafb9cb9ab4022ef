import {describe, expect, test} from 'vitest'
import {vethDetached} from '../../../src/lib/checks/veth-detached.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('veth-detached', () => {
  test('reports a pod veth without a master', () => {
    expect(run(vethDetached, (SCENARIOS['veth-detached'] as () => never)())).toEqual({
      findings: [
        {
          "check": "veth-detached",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "pod veth veth-pod1 is not attached to any bridge (pod bridge: cbr0)",
          "evidence": [
            {
              "source": "node-1: ip -j -d link show",
              "text": "4: veth-pod1@if2 veth mtu 1450 state UP link-netnsid 1 <BROADCAST,MULTICAST,UP,LOWER_UP>"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(vethDetached, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(vethDetached, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'links': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'veth-detached', reason: "links failed on node-1 (permission denied)"}]})
  })
})
