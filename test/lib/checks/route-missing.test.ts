import {describe, expect, test} from 'vitest'
import {routeMissing} from '../../../src/lib/checks/route-missing.js'
import {editJson, flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {cidrOverlap} from '../../../src/lib/checks/cidr-overlap.js'
import {podCidrRoutes} from '../../../src/lib/checks/pod-cidr-routes.js'
import {buildModel} from '../../../src/lib/model/model.js'
import {bridgeTakesNode2, node1, SCENARIOS} from './scenarios.js'

describe('route-missing', () => {
  test("reports node-1 without its route to node-3's pod CIDR", () => {
    expect(run(routeMissing, (SCENARIOS['route-missing'] as () => never)())).toEqual({
      findings: [
        {
          "check": "route-missing",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "no route to node-3's pod CIDR 10.244.3.0/24: only the default route matches, and flannel installs one route per node",
          "evidence": [
            {
              "source": "node-1: ip -j route show table all",
              "text": "default via 10.100.0.1 dev eth0"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(routeMissing, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(routeMissing, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'routes4': {status: 'unavailable', reason: 'ip: command not found'}})]}))).toEqual({findings: [], skipped: [{check: 'route-missing', reason: "routes4 unavailable on node-1 (ip: command not found)"}]})
  })

  test('VXLAN: a route without the FDB entry for the remote VTEP is missing', () => {
    const fdb = editJson(flannelNode()['bridge-fdb'] ?? '', (f) => f.filter((x) => x.mac !== '0a:00:00:00:02:00'))
    const {findings} = run(routeMissing, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'bridge-fdb': fdb})]}))
    expect(findings.map((f) => [f.node, f.message, f.evidence.map((e) => e.text)])).toEqual([
      [
        'node-1',
        "no FDB entry for 0a:00:00:00:02:00 on flannel.1: VXLAN packets to node-2's pod CIDR 10.244.2.0/24 have no remote VTEP",
        ['10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink', '10.244.2.0 dev flannel.1 lladdr 0a:00:00:00:02:00 PERMANENT'],
      ],
    ])
  })

  test("a pod CIDR the node delivers onto its own bridge is cidr-overlap's finding, not this one's; other gaps still are", () => {
    const snapshot = snapshotOf({
      nodes: [
        node1((o) => {
          bridgeTakesNode2(o)
          o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => x.dst !== '10.244.3.0/24'))
        }),
      ],
    })
    expect(run(routeMissing, snapshot).findings.map((f) => f.message)).toEqual([
      "no route to node-3's pod CIDR 10.244.3.0/24: only the default route matches, and flannel installs one route per node",
    ])
    // What the shared route judgement saw for node-2's range: node-1's own bridge, via its local address.
    const model = buildModel(snapshot)
    const node2 = podCidrRoutes(model, model.nodes).results.find((r) => r.remote.name === 'node-2')
    expect([node2?.status, node2?.message, node2?.evidence.map((e) => e.text)]).toEqual([
      'overlap',
      "node-1 delivers node-2's pod CIDR 10.244.2.0/24 onto its own bridge cbr0 (10.244.2.0/24)",
      ['local 10.244.2.1 dev cbr0 table local proto kernel scope host src 10.244.2.1'],
    ])
    expect(run(cidrOverlap, snapshot).findings.map((f) => f.message)).toEqual(['bridge cbr0 10.244.2.0/24 on node-1 overlaps pod CIDR 10.244.2.0/24 of node-2'])
  })

  test('the same local address on a non-bridge device is not explained by an overlap, and is reported', () => {
    const local = {type: 'local', dst: '10.244.2.1', dev: 'eth0', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.244.2.1', flags: []}
    const snapshot = snapshotOf({nodes: [node1((o) => (o.routes4 = editJson(o.routes4 as string, (r) => [...r, local])))]})
    expect(run(routeMissing, snapshot).findings.map((f) => [f.message, f.evidence[0]?.text])).toEqual([
      ["no usable route to node-2's pod CIDR 10.244.2.0/24 (local)", 'local 10.244.2.1 dev eth0 table local proto kernel scope host src 10.244.2.1'],
    ])
  })

  test('skips with the reason: a CNI with its own IPAM, a node not in the cluster, VXLAN peers without neighbour/FDB evidence', () => {
    const calico = snapshotOf()
    if (calico.cluster) calico.cluster.objects.daemonSets = [{metadata: {namespace: 'kube-system', name: 'calico-node'}, spec: {template: {spec: {containers: [{image: 'docker.io/calico/node:v3.28.0'}]}}}}]
    expect(run(routeMissing, calico)).toEqual({
      findings: [],
      skipped: [{check: 'route-missing', reason: "calico routes its own IPAM blocks, not the nodes' spec.podCIDRs"}],
    })
    const stranger = nodeEvidence('node-9', flannelNode())
    const noNeigh = nodeEvidence('node-1', {...flannelNode(), neigh: {status: 'unavailable', reason: 'ip: command not found'}})
    expect(run(routeMissing, snapshotOf({nodes: [noNeigh, stranger]})).skipped).toEqual([
      {check: 'route-missing', reason: 'neighbour or FDB entries not available on node-1, so VXLAN peers were not checked'},
      {check: 'route-missing', reason: 'node-9 is not a Node in the cluster state'},
    ])
  })
})
