import {describe, expect, test} from 'vitest'
import {mtuMismatch} from '../../../src/lib/checks/mtu-mismatch.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('mtu-mismatch', () => {
  test("reports a VXLAN MTU equal to the underlay's", () => {
    expect(run(mtuMismatch, (SCENARIOS['mtu-mismatch'] as () => never)())).toEqual({
      findings: [
        {
          "check": "mtu-mismatch",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "vxlan flannel.1 has MTU 1500, more than eth0's 1500 minus 50 bytes of encapsulation (1450)",
          "evidence": [
            {
              "source": "node-1: ip -j -d link show",
              "text": "5: flannel.1 vxlan mtu 1500 state UNKNOWN <BROADCAST,MULTICAST,UP,LOWER_UP>"
            },
            {
              "source": "node-1: ip -j -d link show",
              "text": "2: eth0@if2 veth mtu 1500 state UP link-netnsid 0 <BROADCAST,MULTICAST,UP,LOWER_UP>"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(mtuMismatch, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(mtuMismatch, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'links': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'mtu-mismatch', reason: "links failed on node-1 (permission denied)"}]})
  })
})
