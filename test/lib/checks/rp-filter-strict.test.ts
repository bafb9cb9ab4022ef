import {describe, expect, test} from 'vitest'
import {rpFilterStrict} from '../../../src/lib/checks/rp-filter-strict.js'
import {editJson, flannelNode, nodeEvidence, PODS, run, snapshotOf} from './fixtures.js'
import {calicoNode, confLines, SCENARIOS} from './scenarios.js'

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

  test("strict rp_filter on Calico's routed cali* veths (a /32 route back to the pod through each) is the CNI's anti-spoofing, not a finding", () => {
    expect(run(rpFilterStrict, snapshotOf({nodes: [calicoNode()]}))).toEqual({findings: [], skipped: []})
    // Even with conf.all strict: the kernel applies max(all, iface), and the routed veths are still right.
    const allStrict = calicoNode((o) => (o['rp-filter'] = confLines('rp_filter', {all: 1, cali1f0a2b3c4d5: 1, cali9e8d7c6b5a4: 1, eth0: 1})))
    expect(run(rpFilterStrict, snapshotOf({nodes: [allStrict]})).findings).toEqual([])
  })

  test('on a Calico node, an overlay device (vxlan.calico) and a cali* veth with no route back to a pod stay findings', () => {
    const node = calicoNode((o) => {
      o.links = editJson(o.links as string, (l) => [
        ...l,
        {ifindex: 9, ifname: 'vxlan.calico', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1450, operstate: 'UNKNOWN', linkinfo: {info_kind: 'vxlan', info_data: {id: 4096, local: '10.100.0.2', port: 4789}}},
      ])
      o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => x.dst !== '10.244.1.6'))
      o['rp-filter'] = confLines('rp_filter', {all: 0, cali1f0a2b3c4d5: 1, cali9e8d7c6b5a4: 1, eth0: 1, 'vxlan.calico': 1})
    })
    expect(run(rpFilterStrict, snapshotOf({nodes: [node]})).findings.map((f) => [f.message, f.evidence.map((e) => e.text)])).toEqual([
      ['strict rp_filter (1) on cali9e8d7c6b5a4, vxlan.calico', ['/proc/sys/net/ipv4/conf/cali9e8d7c6b5a4/rp_filter:1', '/proc/sys/net/ipv4/conf/vxlan.calico/rp_filter:1']],
    ])
  })

  test("a cali* veth whose pod lost its /32 route is still that pod's routed veth (route-missing's finding), not a strict rp_filter one", () => {
    // web-1b (10.244.1.6) is in the API; its route is gone, and elimination names cali9e8d7c6b5a4 as its veth.
    const node = calicoNode((o) => (o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => x.dst !== '10.244.1.6'))))
    const snapshot = snapshotOf({cluster: {pods: [...PODS, {name: 'web-1b', node: 'node-1', ip: '10.244.1.6'}]}, nodes: [node]})
    expect(run(rpFilterStrict, snapshot)).toEqual({findings: [], skipped: []})
  })
})
