import {describe, expect, test} from 'vitest'
import {podIpDuplicate} from '../../../src/lib/checks/pod-ip-duplicate.js'
import {run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('pod-ip-duplicate', () => {
  test('reports two pods holding one IP', () => {
    expect(run(podIpDuplicate, (SCENARIOS['pod-ip-duplicate'] as () => never)())).toEqual({
      findings: [
        {
          "check": "pod-ip-duplicate",
          "severity": "error",
          "subject": {
            "kind": "pod",
            "namespace": "default",
            "name": "web-1"
          },
          "node": "node-1",
          "message": "10.244.1.5 is held by 2 pods: default/web-1 (node-1), default/web-3 (node-1)",
          "evidence": [
            {
              "source": "api: Pod default/web-1 status.podIPs[0]",
              "text": "10.244.1.5"
            },
            {
              "source": "api: Pod default/web-3 status.podIPs[0]",
              "text": "10.244.1.5"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(podIpDuplicate, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(podIpDuplicate, snapshotOf({cluster: null}))).toEqual({findings: [], skipped: [{check: 'pod-ip-duplicate', reason: "no cluster state in the snapshot (no --objects, no kubeconfig, or --no-cluster)"}]})
  })
})
