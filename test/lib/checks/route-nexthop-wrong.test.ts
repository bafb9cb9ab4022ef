import {describe, expect, test} from 'vitest'
import {routeNexthopWrong} from '../../../src/lib/checks/route-nexthop-wrong.js'
import {editJson, flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {bridgeTakesNode2, node1, SCENARIOS} from './scenarios.js'

describe('route-nexthop-wrong', () => {
  test("reports an FDB entry still pointing at node-3's old IP", () => {
    expect(run(routeNexthopWrong, (SCENARIOS['route-nexthop-wrong'] as () => never)())).toEqual({
      findings: [
        {
          "check": "route-nexthop-wrong",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "VXLAN traffic for node-3's pod CIDR 10.244.3.0/24 is sent to VTEP 10.100.0.9, which is no node's address (a replaced node's old IP?); node-3 is 10.100.0.4",
          "evidence": [
            {
              "source": "node-1: ip -j route show table all",
              "text": "10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink"
            },
            {
              "source": "node-1: ip -j neigh show",
              "text": "10.244.3.0 dev flannel.1 lladdr 0a:00:00:00:03:00 PERMANENT"
            },
            {
              "source": "node-1: bridge -j fdb show",
              "text": "0a:00:00:00:03:00 dev flannel.1 dst 10.100.0.9 self permanent"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(routeNexthopWrong, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(routeNexthopWrong, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'routes4': {status: 'timeout', reason: 'no output in 10s'}})]}))).toEqual({findings: [], skipped: [{check: 'route-nexthop-wrong', reason: "routes4 timeout on node-1 (no output in 10s)"}]})
  })

  test('host-gw: a route via another node\'s IP names both nodes', () => {
    const routes4 = editJson(flannelNode().routes4 ?? '', (r) => r.map((x) => (x.dst === '10.244.2.0/24' ? {dst: '10.244.2.0/24', gateway: '10.100.0.4', dev: 'eth0', flags: []} : x)))
    const {findings} = run(routeNexthopWrong, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), routes4})]}))
    expect(findings.map((f) => [f.node, f.message, f.evidence[0]?.text])).toEqual([
      ['node-1', "route to node-2's pod CIDR 10.244.2.0/24 goes via 10.100.0.4, which is node-3's address", '10.244.2.0/24 via 10.100.0.4 dev eth0'],
    ])
  })

  test("a route onto the node's own bridge is cidr-overlap's finding; a wrong VTEP elsewhere is still reported", () => {
    const snapshot = snapshotOf({
      nodes: [
        node1((o) => {
          bridgeTakesNode2(o, {address: false})
          o['bridge-fdb'] = editJson(o['bridge-fdb'] as string, (f) => f.map((x) => (x.mac === '0a:00:00:00:03:00' ? {...x, dst: '10.100.0.9'} : x)))
        }),
      ],
    })
    expect(run(routeNexthopWrong, snapshot).findings.map((f) => f.message)).toEqual([
      "VXLAN traffic for node-3's pod CIDR 10.244.3.0/24 is sent to VTEP 10.100.0.9, which is no node's address (a replaced node's old IP?); node-3 is 10.100.0.4",
    ])
  })
})
