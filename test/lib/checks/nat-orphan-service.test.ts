import {describe, expect, test} from 'vitest'
import {natOrphanService} from '../../../src/lib/checks/nat-orphan-service.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('nat-orphan-service', () => {
  test('reports rules for a deleted Service', () => {
    expect(run(natOrphanService, (SCENARIOS['nat-orphan-service'] as () => never)())).toEqual({
      findings: [
        {
          "check": "nat-orphan-service",
          "severity": "warn",
          "subject": {
            "kind": "service",
            "namespace": "default",
            "name": "old-api"
          },
          "node": "node-1",
          "message": "node-1 still has kube-proxy rules for default/old-api:http, but Service default/old-api does not exist",
          "evidence": [
            {
              "source": "node-1: iptables-save",
              "text": "-A KUBE-SERVICES -d 172.20.0.77/32 -p tcp -m comment --comment \"default/old-api:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-KXPBSSDXAWX4TO3T"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(natOrphanService, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(natOrphanService, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-save': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'nat-orphan-service', reason: "iptables-save failed on node-1 (permission denied)"}]})
  })

  test('a node running kube-proxy in IPVS mode is read from ipvsadm: without it, skipped with that reason (test/lib/trace/ipvs-mode.test.ts runs it)', () => {
    const links = JSON.stringify([...JSON.parse(flannelNode().links ?? '[]'), {ifindex: 10, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP'], mtu: 1500, operstate: 'DOWN', linkinfo: {info_kind: 'dummy'}}])
    const snapshot = snapshotOf({cluster: {kubeProxyMode: 'ipvs'}, nodes: [nodeEvidence('node-1', {...flannelNode(), links, 'iptables-save': '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'})]})
    expect(run(natOrphanService, snapshot)).toEqual({
      findings: [],
      skipped: [{check: 'nat-orphan-service', reason: 'ipvsadm not in the snapshot on node-1 (kube-proxy ipvs mode)'}],
    })
  })
})
