import {describe, expect, test} from 'vitest'
import {conntrackStale} from '../../../src/lib/checks/conntrack-stale.js'
import {DNS, flannelNode, KUBERNETES, kubeProxyRules, nodeEvidence, PODS, run, SERVICES, snapshotOf, WEB} from './fixtures.js'
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

  describe('only entries that can still carry traffic count', () => {
    // web-2 moved from 10.244.2.7 to 10.244.2.8; node-1's conntrack still holds flows DNATed to the old IP,
    // in conntrack -L's own format (as test/fixtures/netfilter/conntrack-L.txt).
    const moved = (conntrack: string) =>
      snapshotOf({
        cluster: {
          pods: PODS.map((p) => (p.name === 'web-2' ? {...p, ip: '10.244.2.8'} : p)),
          services: SERVICES.map((s) => (s.name === 'web' ? {...s, endpoints: [['10.244.1.5', true], ['10.244.2.8', true]] as [string, boolean][]} : s)),
        },
        nodes: [nodeEvidence('node-1', {...flannelNode(), conntrack, 'iptables-save': kubeProxyRules([KUBERNETES, {...WEB, endpoints: [{ip: '10.244.1.5'}, {ip: '10.244.2.8'}]}, DNS])})],
      })
    const CLOSED = [
      'tcp      6 117 TIME_WAIT src=10.244.1.5 dst=172.20.0.50 sport=51234 dport=80 src=10.244.2.7 dst=10.244.1.5 sport=8080 dport=51234 [ASSURED] mark=0 use=1',
      'tcp      6 9 CLOSE src=10.244.1.5 dst=172.20.0.50 sport=51240 dport=80 src=10.244.2.7 dst=10.244.1.5 sport=8080 dport=51240 [ASSURED] mark=0 use=1',
      'tcp      6 52 CLOSE_WAIT src=10.244.1.5 dst=172.20.0.50 sport=51250 dport=80 src=10.244.2.7 dst=10.244.1.5 sport=8080 dport=51250 [ASSURED] mark=0 use=1',
      'tcp      6 25 LAST_ACK src=10.244.1.5 dst=172.20.0.50 sport=51260 dport=80 src=10.244.2.7 dst=10.244.1.5 sport=8080 dport=51260 [ASSURED] mark=0 use=1',
    ]
    const ESTABLISHED = 'tcp      6 431999 ESTABLISHED src=10.244.1.5 dst=172.20.0.50 sport=51300 dport=80 src=10.244.2.7 dst=10.244.1.5 sport=8080 dport=51300 [ASSURED] mark=0 use=1'

    test('connections to the old pod that closed normally (TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK) are no finding', () => {
      expect(run(conntrackStale, moved(CLOSED.join('\n') + '\n'))).toEqual({findings: [], skipped: []})
    })

    test('an ESTABLISHED connection among them still does, and is the only entry counted and quoted', () => {
      const {findings} = run(conntrackStale, moved([...CLOSED, ESTABLISHED].join('\n') + '\n'))
      expect(findings.map((f) => [f.severity, f.message, f.evidence.map((e) => e.text)])).toEqual([
        [
          'warn',
          '1 tcp conntrack entry to 172.20.0.50:80 still reply from 10.244.2.7, which no pod owns',
          ['tcp 6 431999 ESTABLISHED src=10.244.1.5 dst=172.20.0.50 sport=51300 dport=80 src=10.244.2.7 dst=10.244.1.5 sport=8080 dport=51300 [ASSURED] (line 5)'],
        ],
      ])
    })
  })
})
