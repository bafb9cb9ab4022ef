import {describe, expect, test} from 'vitest'
import {natStaleEndpoint} from '../../../src/lib/checks/nat-stale-endpoint.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('nat-stale-endpoint', () => {
  test('reports a DNAT to an endpoint that is gone', () => {
    expect(run(natStaleEndpoint, (SCENARIOS['nat-stale-endpoint'] as () => never)())).toEqual({
      findings: [
        {
          "check": "nat-stale-endpoint",
          "severity": "error",
          "subject": {
            "kind": "service",
            "namespace": "default",
            "name": "web"
          },
          "node": "node-1",
          "message": "default/web:http (tcp) DNATs to 10.244.2.99:8080, which is not a ready endpoint",
          "evidence": [
            {
              "source": "node-1: iptables-save",
              "text": "-A KUBE-SEP-AFD2WHVCSJFKX6F3 -p tcp -m comment --comment \"default/web:http\" -m tcp -j DNAT --to-destination 10.244.2.99:8080"
            },
            {
              "source": "api: EndpointSlices of Service default/web",
              "text": "ready: 10.244.1.5:8080"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(natStaleEndpoint, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(natStaleEndpoint, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-save': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'nat-stale-endpoint', reason: "iptables-save failed on node-1 (permission denied)"}]})
  })
})
