import {describe, expect, test} from 'vitest'
import {routeMissing} from '../../../src/lib/checks/route-missing.js'
import {editJson, flannelNode, nodeEvidence, PODS, run, snapshotOf} from './fixtures.js'
import {cidrOverlap} from '../../../src/lib/checks/cidr-overlap.js'
import {podCidrRoutes} from '../../../src/lib/checks/pod-cidr-routes.js'
import {buildModel} from '../../../src/lib/model/model.js'
import {bridgeTakesNode2, calicoNode, hostGwNode, node1, SCENARIOS, withCniDaemonSet} from './scenarios.js'

const without = (dst: string) => (o: Record<string, string>) => (o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => x.dst !== dst)))

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

  test('skips with the reason: a CNI with its own IPAM and no block in any route, a node not in the cluster, VXLAN peers without neighbour/FDB evidence', () => {
    // aws-vpc-cni gives pods VPC addresses: no per-node range exists to route.
    const noBlocks = (o: Record<string, string>) => {
      o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => !String(x.dst).startsWith('10.244.')))
      o.routes6 = '[]'
    }
    const aws = snapshotOf({nodes: [hostGwNode(noBlocks)]})
    if (aws.cluster) aws.cluster.objects.daemonSets = [{metadata: {namespace: 'kube-system', name: 'aws-node'}, spec: {template: {spec: {containers: [{image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.0'}]}}}}]
    expect(run(routeMissing, aws)).toEqual({
      findings: [],
      skipped: [{check: 'route-missing', reason: "aws-vpc-cni gives pods addresses of the VPC subnet, delivered by the subnet to the node holding them: no node routes another node's pods, so there are no routes between nodes to check"}],
    })
    const stranger = nodeEvidence('node-9', flannelNode())
    const noNeigh = nodeEvidence('node-1', {...flannelNode(), neigh: {status: 'unavailable', reason: 'ip: command not found'}})
    expect(run(routeMissing, snapshotOf({nodes: [noNeigh, stranger]})).skipped).toEqual([
      {check: 'route-missing', reason: 'neighbour or FDB entries not available on node-1, so VXLAN peers were not checked'},
      {check: 'route-missing', reason: 'node-9 is not a Node in the cluster state'},
    ])
  })

  describe('without recognising the CNI', () => {

    test("host-gw with no CNI DaemonSet: the one node's range reached only by the default route, while the others have routes, is missing", () => {
      const snapshot = withCniDaemonSet(snapshotOf({nodes: [hostGwNode(without('10.244.3.0/24'))]}), 'none')
      expect(run(routeMissing, snapshot)).toEqual({
        findings: [
          {
            check: 'route-missing',
            severity: 'error',
            subject: {kind: 'node', name: 'node-1'},
            node: 'node-1',
            message: "no route to node-3's pod CIDR 10.244.3.0/24: only the default route matches, while node-1 routes node-2's pod CIDR 10.244.2.0/24 by its own route",
            evidence: [
              {source: 'node-1: ip -j route show table all', text: 'default via 10.100.0.1 dev eth0'},
              {source: 'node-1: ip -j route show table all', text: '10.244.2.0/24 via 10.100.0.3 dev eth0'},
            ],
          },
        ],
        skipped: [],
      })
      // The healthy host-gw node is fine, and so is one that leaves every range to the default route (cloud route tables).
      expect(run(routeMissing, withCniDaemonSet(snapshotOf({nodes: [hostGwNode()]}), 'none')).findings).toEqual([])
      const cloud = hostGwNode((o) => (o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => x.dst !== '10.244.2.0/24' && x.dst !== '10.244.3.0/24'))))
      expect(run(routeMissing, withCniDaemonSet(snapshotOf({nodes: [cloud]}), 'none')).findings).toEqual([])
    })

    test("flannel without a DaemonSet knet reads (k3s embeds it, the real lab runs flanneld) is known by the backend it announces on each Node", () => {
      const cloud = hostGwNode((o) => (o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => x.dst !== '10.244.2.0/24' && x.dst !== '10.244.3.0/24'))))
      const snapshot = withCniDaemonSet(snapshotOf({nodes: [cloud]}), 'none')
      for (const n of snapshot.cluster?.objects?.nodes ?? []) {
        const m = (n as {metadata: {annotations?: Record<string, string>}}).metadata
        m.annotations = {...m.annotations, 'flannel.alpha.coreos.com/backend-type': 'host-gw'}
      }
      expect(run(routeMissing, snapshot).findings.map((f) => [f.node, f.message])).toEqual([
        ['node-1', "no route to node-2's pod CIDR 10.244.2.0/24: only the default route matches, and flannel installs one route per node"],
        ['node-1', "no route to node-3's pod CIDR 10.244.3.0/24: only the default route matches, and flannel installs one route per node"],
      ])
    })

    test("a blackhole route for another node's pod CIDR is reported", () => {
      const hole = hostGwNode((o) => (o.routes4 = editJson(o.routes4 as string, (r) => r.map((x) => (x.dst === '10.244.3.0/24' ? {type: 'blackhole', dst: '10.244.3.0/24', flags: []} : x)))))
      expect(run(routeMissing, withCniDaemonSet(snapshotOf({nodes: [hole]}), 'none')).findings.map((f) => [f.node, f.message, f.evidence.map((e) => e.text)])).toEqual([
        ['node-1', "blackhole route for node-3's pod CIDR 10.244.3.0/24: node-1 drops traffic to those pods", ['blackhole 10.244.3.0/24']],
      ])
    })

    test('an overlay device route covering the whole cluster CIDR reaches every node: nothing is missing', () => {
      const covering = hostGwNode((o) => {
        o.links = editJson(o.links as string, (l) => [...l, {ifindex: 20, ifname: 'wg0', flags: ['POINTOPOINT', 'NOARP', 'UP', 'LOWER_UP'], mtu: 1420, operstate: 'UNKNOWN', linkinfo: {info_kind: 'wireguard'}}])
        o.routes4 = editJson(o.routes4 as string, (r) => [...r.filter((x) => x.dst !== '10.244.2.0/24' && x.dst !== '10.244.3.0/24'), {dst: '10.244.0.0/16', dev: 'wg0', scope: 'link', flags: []}])
      })
      expect(run(routeMissing, withCniDaemonSet(snapshotOf({nodes: [covering]}), 'none'))).toEqual({findings: [], skipped: []})
    })

    test('Cilium without kube-proxy forwards in eBPF: the node is skipped as unknown-datapath, naming the evidence', () => {
      const cilium = hostGwNode((o) => {
        without('10.244.3.0/24')(o)
        o.links = editJson(o.links as string, (l) => [...l, {ifindex: 21, ifname: 'cilium_host', flags: ['BROADCAST', 'MULTICAST', 'NOARP', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', link_netnsid: 0, linkinfo: {info_kind: 'veth'}}])
        o['iptables-save'] = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:CILIUM_FORWARD - [0:0]\n-A FORWARD -j CILIUM_FORWARD\nCOMMIT\n'
      })
      const snapshot = snapshotOf({nodes: [cilium]})
      if (snapshot.cluster) snapshot.cluster.objects.daemonSets = []
      expect(run(routeMissing, snapshot)).toEqual({
        findings: [],
        skipped: [
          {
            check: 'route-missing',
            reason: 'unknown-datapath on node-1: Cilium with kube-proxy replacement forwards pod traffic in eBPF programs knet cannot read (21: cilium_host veth; no KUBE-SERVICES chain (kube-proxy writes none: replaced))',
          },
        ],
      })
    })
  })

  describe('Calico: IPAM blocks read from the nodes, not spec.podCIDRs', () => {
    test('a healthy Calico node (own blackhole /26, BIRD routes to the other blocks) has no finding, with or without the calico-node DaemonSet', () => {
      for (const cni of ['calico', 'none'] as const) expect(run(routeMissing, withCniDaemonSet(snapshotOf({nodes: [calicoNode()]}), cni))).toEqual({findings: [], skipped: []})
    })

    test("node-1 lost its route to node-3's block, which node-3's own blackhole route shows: missing, whatever the CNI", () => {
      const node3 = {
        ...calicoNode((o) => {
          o.addrs = (o.addrs as string).replace('10.100.0.2', '10.100.0.4')
          o.routes4 = JSON.stringify([
            {dst: 'default', gateway: '10.100.0.1', dev: 'eth0', flags: []},
            {dst: '10.100.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.100.0.4', flags: []},
            {type: 'blackhole', dst: '10.244.3.0/26', protocol: 'bird', flags: []},
            {dst: '10.244.1.0/26', gateway: '10.100.0.2', dev: 'eth0', protocol: 'bird', flags: []},
            {dst: '10.244.2.0/26', gateway: '10.100.0.3', dev: 'eth0', protocol: 'bird', flags: []},
          ])
        }),
        name: 'node-3',
      }
      for (const cni of ['calico', 'none'] as const) {
        const snapshot = withCniDaemonSet(snapshotOf({nodes: [calicoNode(without('10.244.3.0/26')), node3]}), cni)
        expect(run(routeMissing, snapshot).findings.map((f) => [f.node, f.message, f.evidence])).toEqual([
          [
            'node-1',
            "no route to node-3's IPAM block 10.244.3.0/26: only the default route matches, while node-1 routes node-2's IPAM block 10.244.2.0/26 by its own route",
            [
              {source: 'node-1: ip -j route show table all', text: 'default via 10.100.0.1 dev eth0'},
              {source: 'node-1: ip -j route show table all', text: '10.244.2.0/26 via 10.100.0.3 dev eth0 proto bird'},
              {source: 'node-3: ip -j route show table all', text: 'blackhole 10.244.3.0/26 proto bird'},
            ],
          ],
        ])
      }
    })

    test("VXLAN with no other node's route left to compare: a node holding vxlan.calico that reaches a block only by its default route has lost that route", () => {
      const vxlanCalico = {ifindex: 9, ifname: 'vxlan.calico', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1450, operstate: 'UNKNOWN', link_type: 'ether', address: '66:00:00:00:01:00', linkinfo: {info_kind: 'vxlan', info_data: {id: 4096, local: '10.100.0.2', port: 4789}}}
      const lost = (withDevice: boolean) =>
        calicoNode((o) => {
          if (withDevice) o.links = editJson(o.links as string, (l) => [...l, vxlanCalico])
          o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => x.dst !== '10.244.2.0/26' && x.dst !== '10.244.3.0/26'))
        })
      // node-2 shows its own block by its blackhole route (Calico installs one per block it holds).
      const node2 = {
        ...calicoNode((o) => {
          o.addrs = (o.addrs as string).replace('10.100.0.2', '10.100.0.3')
          o.routes4 = JSON.stringify([
            {dst: 'default', gateway: '10.100.0.1', dev: 'eth0', flags: []},
            {dst: '10.100.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.100.0.3', flags: []},
            {type: 'blackhole', dst: '10.244.2.0/26', protocol: 'static', flags: []},
            {dst: '10.244.1.0/26', gateway: '10.244.1.0', dev: 'eth0', protocol: 'static', flags: ['onlink']},
          ])
        }),
        name: 'node-2',
      }
      const snapshot = (withDevice: boolean) => withCniDaemonSet(snapshotOf({nodes: [lost(withDevice), node2]}), 'calico')
      expect(run(routeMissing, snapshot(true))).toEqual({
        findings: [
          {
            check: 'route-missing',
            severity: 'error',
            subject: {kind: 'node', name: 'node-1'},
            node: 'node-1',
            message: "no route to node-2's IPAM block 10.244.2.0/26: only the default route matches, while node-1 has calico's overlay device vxlan.calico, through which calico routes other nodes' pods",
            evidence: [
              {source: 'node-1: ip -j route show table all', text: 'default via 10.100.0.1 dev eth0'},
              {source: 'node-1: ip -j -d link show', text: '9: vxlan.calico vxlan mtu 1450 state UNKNOWN <BROADCAST,MULTICAST,UP,LOWER_UP>'},
              {source: 'node-2: ip -j route show table all', text: 'blackhole 10.244.2.0/26 proto static'},
            ],
          },
        ],
        skipped: [],
      })
      // Without the overlay device, a node that sends every block to its default route leaves them to the network.
      expect(run(routeMissing, snapshot(false))).toEqual({findings: [], skipped: []})
    })

    test("a blackhole for the node's own block is Calico's layout; one over a block whose pods run on another node is reported", () => {
      const hole = calicoNode((o) => (o.routes4 = editJson(o.routes4 as string, (r) => r.map((x) => (x.dst === '10.244.3.0/26' ? {type: 'blackhole', dst: '10.244.3.0/26', protocol: 'bird', flags: []} : x)))))
      const snapshot = withCniDaemonSet(snapshotOf({cluster: {pods: [...PODS, {name: 'api-3', node: 'node-3', ip: '10.244.3.4'}]}, nodes: [hole]}), 'calico')
      expect(run(routeMissing, snapshot).findings.map((f) => [f.node, f.message, f.evidence.map((e) => `${e.source} | ${e.text}`)])).toEqual([
        [
          'node-1',
          "blackhole route for node-3's IPAM block 10.244.3.0/26: node-1 drops traffic to those pods",
          ['node-1: ip -j route show table all | blackhole 10.244.3.0/26 proto bird', 'api: Pod default/api-3 status.podIPs | 10.244.3.4 (on node-3)'],
        ],
      ])
    })

    test("Calico's eBPF dataplane is skipped as unknown-datapath", () => {
      const ebpf = calicoNode((o) => (o.links = editJson(o.links as string, (l) => [...l, {ifindex: 30, ifname: 'bpfin.cali', flags: ['UP'], mtu: 1500, operstate: 'UP', linkinfo: {info_kind: 'veth'}}])))
      expect(run(routeMissing, withCniDaemonSet(snapshotOf({nodes: [ebpf]}), 'calico')).skipped).toEqual([
        {check: 'route-missing', reason: "unknown-datapath on node-1: Calico's eBPF dataplane forwards pod traffic in eBPF programs knet cannot read (30: bpfin.cali veth)"},
      ])
    })
  })
})
