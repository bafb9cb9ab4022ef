import {describe, expect, test} from 'vitest'
import {natMissingService} from '../../../src/lib/checks/nat-missing-service.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('nat-missing-service', () => {
  test('reports a Service with ready endpoints but no rules on node-1', () => {
    expect(run(natMissingService, (SCENARIOS['nat-missing-service'] as () => never)())).toEqual({
      findings: [
        {
          "check": "nat-missing-service",
          "severity": "error",
          "subject": {
            "kind": "service",
            "namespace": "kube-system",
            "name": "kube-dns"
          },
          "node": "node-1",
          "message": "kube-system/kube-dns:dns (udp) has 1 ready endpoint(s) but no kube-proxy rules on node-1",
          "evidence": [
            {
              "source": "api: EndpointSlice kube-system/kube-dns-abcde endpoints[0].addresses[0]",
              "text": "10.244.2.3:53 ready"
            },
            {
              "source": "node-1: iptables-save",
              "text": "no -A KUBE-SERVICES rule with comment \"kube-system/kube-dns:dns cluster IP\" in *nat"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(natMissingService, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(natMissingService, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-save': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'nat-missing-service', reason: "iptables-save failed on node-1 (permission denied)"}]})
  })

  test('a node running kube-proxy in IPVS mode is read from ipvsadm: without it, skipped with that reason (test/lib/trace/ipvs-mode.test.ts runs it)', () => {
    const links = JSON.stringify([...JSON.parse(flannelNode().links ?? '[]'), {ifindex: 10, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP'], mtu: 1500, operstate: 'DOWN', linkinfo: {info_kind: 'dummy'}}])
    const snapshot = snapshotOf({cluster: {kubeProxyMode: 'ipvs'}, nodes: [nodeEvidence('node-1', {...flannelNode(), links, 'iptables-save': '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'})]})
    expect(run(natMissingService, snapshot)).toEqual({
      findings: [],
      skipped: [{check: 'nat-missing-service', reason: 'ipvsadm not in the snapshot on node-1 (kube-proxy ipvs mode)'}],
    })
  })
})
