import {describe, expect, test} from 'vitest'
import {rpFilterStrict} from '../../../src/lib/checks/rp-filter-strict.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('rp-filter-strict', () => {
  test('reports the captured strict rp_filter on flannel.1', () => {
    expect(run(rpFilterStrict, (SCENARIOS['rp-filter-strict'] as () => never)())).toEqual({
      findings: [
        {
          "check": "rp-filter-strict",
          "severity": "warn",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "strict rp_filter (1) on flannel.1",
          "evidence": [
            {
              "source": "node-1: grep -r -H --include=rp_filter . /proc/sys/net/ipv4/conf",
              "text": "/proc/sys/net/ipv4/conf/flannel.1/rp_filter:1"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(rpFilterStrict, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(rpFilterStrict, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'rp-filter': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'rp-filter-strict', reason: "rp-filter failed on node-1 (permission denied)"}]})
  })
})
