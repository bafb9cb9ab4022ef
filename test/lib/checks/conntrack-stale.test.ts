import {describe, expect, test} from 'vitest'
import {conntrackStale} from '../../../src/lib/checks/conntrack-stale.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('conntrack-stale', () => {
  test('reports a DNS flow still replying from the old CoreDNS IP', () => {
    expect(run(conntrackStale, (SCENARIOS['conntrack-stale'] as () => never)())).toEqual({
      findings: [
        {
          "check": "conntrack-stale",
          "severity": "error",
          "subject": {
            "kind": "service",
            "namespace": "kube-system",
            "name": "kube-dns"
          },
          "node": "node-1",
          "message": "1 udp (DNS) conntrack entry to 172.20.0.10:53 still reply from 10.244.2.3, which no pod owns",
          "evidence": [
            {
              "source": "node-1: conntrack -L",
              "text": "udp 17 29 src=10.244.1.5 dst=172.20.0.10 sport=40001 dport=53 src=10.244.2.3 dst=10.244.1.5 sport=53 dport=40001 (line 1)"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(conntrackStale, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(conntrackStale, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'conntrack': {status: 'unavailable', reason: 'conntrack: command not found'}})]}))).toEqual({findings: [], skipped: [{check: 'conntrack-stale', reason: "conntrack unavailable on node-1 (conntrack: command not found)"}]})
  })
})
