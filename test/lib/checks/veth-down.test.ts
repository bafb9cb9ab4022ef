import {describe, expect, test} from 'vitest'
import {vethDown} from '../../../src/lib/checks/veth-down.js'
import {editJson, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {calicoNode, SCENARIOS, vethDownEdit} from './scenarios.js'

const LINKS = 'node-1: ip -j -d link show'
const ROUTES = 'node-1: ip -j route show table all'

describe('veth-down', () => {
  test("reports web-1's down cali veth, named by elimination once the kernel dropped its route, with the node, the interface and the pod", () => {
    expect(run(vethDown, (SCENARIOS['veth-down'] as () => never)())).toEqual({
      findings: [
        {
          check: 'veth-down',
          severity: 'error',
          subject: {kind: 'pod', namespace: 'default', name: 'web-1'},
          node: 'node-1',
          message:
            'cali1f0a2b3c4d5, the host veth of pod default/web-1 (10.244.1.5, named by elimination: cali1f0a2b3c4d5 is the only pod veth without a per-pod route, and web-1 the only pod of node-1 without one), is down on node-1: the pod can send and receive nothing',
          evidence: [
            {source: LINKS, text: '7: cali1f0a2b3c4d5@if4 veth mtu 1500 state DOWN link-netnsid 1 <BROADCAST,MULTICAST>'},
            {source: ROUTES, text: 'blackhole 10.244.1.0/26 proto bird'},
            {source: ROUTES, text: '(no route to 10.244.1.5, none with dev cali1f0a2b3c4d5)'},
            {source: 'api: Pod default/web-1 status.podIPs', text: '10.244.1.5 (spec.nodeName node-1)'},
          ],
        },
      ],
      skipped: [],
    })
  })

  test("ptp: the route to the pod is still there (the gateway /32 is on every veth) and names the down veth", () => {
    const ptp = calicoNode((o) => {
      o.links = editJson(o.links as string, (l) => l.map((x) => (x.ifname === 'cali1f0a2b3c4d5' ? {...x, ifname: 'veth1', flags: ['BROADCAST', 'MULTICAST'], operstate: 'DOWN'} : x)))
      o.routes4 = editJson(o.routes4 as string, (r) => r.map((x) => (x.dev === 'cali1f0a2b3c4d5' ? {...x, dev: 'veth1', scope: 'host'} : x)))
    })
    expect(run(vethDown, snapshotOf({nodes: [ptp]})).findings.map((f) => [f.message, f.evidence.map((e) => e.text)])).toEqual([
      [
        "veth1, the host veth of pod default/web-1 (10.244.1.5, named by the node's route to 10.244.1.5), is down on node-1: the pod can send and receive nothing",
        ['7: veth1@if4 veth mtu 1500 state DOWN link-netnsid 1 <BROADCAST,MULTICAST>', '10.244.1.5 dev veth1 scope host', '10.244.1.5 (spec.nodeName node-1)'],
      ],
    ])
  })

  test('a down veth whose pod the API no longer lists is leftover, not a finding; the healthy Calico node and the flannel base have none', () => {
    expect(run(vethDown, snapshotOf({nodes: [calicoNode(vethDownEdit('cali9e8d7c6b5a4', '10.244.1.6'))]}))).toEqual({findings: [], skipped: []})
    expect(run(vethDown, snapshotOf({nodes: [calicoNode()]}))).toEqual({findings: [], skipped: []})
    expect(run(vethDown, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    const {links: _gone, ...rest} = Object.fromEntries(calicoNode().results.map((r) => [r.id, r.stdout]))
    expect(run(vethDown, snapshotOf({nodes: [nodeEvidence('node-1', rest)]}))).toEqual({findings: [], skipped: [{check: 'veth-down', reason: 'links not in the snapshot on node-1'}]})
  })
})
