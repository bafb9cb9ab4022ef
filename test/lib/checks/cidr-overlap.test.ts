import {describe, expect, test} from 'vitest'
import {cidrOverlap} from '../../../src/lib/checks/cidr-overlap.js'
import {editJson, NODES, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {bridgeTakesNode2, dockerBridge, node1, SCENARIOS} from './scenarios.js'

describe('cidr-overlap', () => {
  test("reports node-3's pod CIDR inside docker0's 172.17.0.0/16 on node-1", () => {
    expect(run(cidrOverlap, (SCENARIOS['cidr-overlap'] as () => never)())).toEqual({
      findings: [
        {
          "check": "cidr-overlap",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-3"
          },
          "node": "node-1",
          "message": "bridge docker0 172.17.0.0/16 on node-1 overlaps pod CIDR 172.17.3.0/24 of node-3",
          "evidence": [
            {
              "source": "node-1: ip -j addr show",
              "text": "docker0 inet 172.17.0.1/16"
            },
            {
              "source": "node-1: ip -j route show table all",
              "text": "172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown"
            },
            {
              "source": "api: Node node-3 spec.podCIDRs[0]",
              "text": "172.17.3.0/24"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(cidrOverlap, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(cidrOverlap, snapshotOf({cluster: null}))).toEqual({findings: [], skipped: [{check: 'cidr-overlap', reason: "no cluster state in the snapshot (no --objects, no kubeconfig, or --no-cluster)"}]})
  })

  test('a pod CIDR inside the Service CIDR, and one pod CIDR given to two nodes', () => {
    const nodes = NODES.map((n) => (n.name === 'node-2' ? {...n, podCIDR: '172.20.9.0/24'} : n.name === 'node-3' ? {...n, podCIDR: '10.244.1.0/24'} : n))
    const services = [{name: 'kubernetes', clusterIP: '10.0.0.1', ports: [{name: 'https', port: 443, targetPort: 6443}]}]
    const {findings} = run(cidrOverlap, snapshotOf({cluster: {nodes, services}, nodes: []}))
    expect(findings.map((f) => [f.subject.name, f.message])).toEqual([
      ['node-1', 'pod CIDR 10.244.1.0/24 is allocated to 2 nodes: node-1, node-3'],
    ])
    const eks = [{name: 'kubernetes', clusterIP: '172.20.0.1', ports: [{name: 'https', port: 443, targetPort: 6443}]}]
    const svc = run(cidrOverlap, snapshotOf({cluster: {nodes, services: eks}, nodes: []})).findings
    expect(svc.map((f) => f.message)).toEqual([
      'pod CIDR 10.244.1.0/24 is allocated to 2 nodes: node-1, node-3',
      'Service CIDR 172.20.0.0/16 (assumed) overlaps pod CIDR 172.20.9.0/24 of node-2',
    ])
  })

  test('ServiceCIDR objects replace the assumed Service range (a /16 where the guess was a /12)', () => {
    const nodes = NODES.map((n) => (n.name === 'node-2' ? {...n, podCIDR: '10.100.9.0/24'} : n))
    const services = [{name: 'kubernetes', clusterIP: '10.96.0.1', ports: [{name: 'https', port: 443, targetPort: 6443}]}]
    const guessed = snapshotOf({cluster: {nodes, services}, nodes: []})
    // The nodes' own 10.100.0.x lie inside the guessed /12 too: the real lab's false finding.
    expect(run(cidrOverlap, guessed).findings.map((f) => f.message)).toEqual([
      'node subnet 10.100.0.2 on node-1 overlaps Service CIDR 10.96.0.0/12 (assumed)',
      'node subnet 10.100.0.3 on node-2 overlaps Service CIDR 10.96.0.0/12 (assumed)',
      'node subnet 10.100.0.4 on node-3 overlaps Service CIDR 10.96.0.0/12 (assumed)',
      'Service CIDR 10.96.0.0/12 (assumed) overlaps pod CIDR 10.100.9.0/24 of node-2',
    ])
    const withRanges = (cidrs: Record<string, string[]>) => {
      const snapshot = snapshotOf({cluster: {nodes, services}, nodes: []})
      snapshot.cluster!.objects.serviceCIDRs = Object.entries(cidrs).map(([name, list]) => ({apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: {name}, spec: {cidrs: list}}))
      return run(cidrOverlap, snapshot).findings
    }
    // ServiceCIDRs the server has but would not give (forbidden, timed out): no guess stands in for them.
    const refused = snapshotOf({cluster: {nodes, services}, nodes: []})
    refused.cluster!.errors.push({source: 'servicecidrs', kind: 'forbidden', message: 'forbidden: list servicecidrs.networking.k8s.io'})
    expect(run(cidrOverlap, refused)).toEqual({
      findings: [],
      skipped: [{check: 'cidr-overlap', reason: 'the Service CIDR is not checked: ServiceCIDRs could not be read (forbidden: list servicecidrs.networking.k8s.io), and no range is assumed in their place'}],
    })
    expect(withRanges({kubernetes: ['10.96.0.0/16', 'fd00:10:96::/112']})).toEqual([])
    const found = withRanges({kubernetes: ['10.96.0.0/16', 'fd00:10:96::/112'], extra: ['10.100.9.128/25']})
    expect(found.map((f) => [f.message, f.evidence])).toEqual([
      [
        'pod CIDR 10.100.9.0/24 of node-2 overlaps Service CIDR 10.100.9.128/25',
        [
          {source: 'api: Node node-2 spec.podCIDRs[0]', text: '10.100.9.0/24'},
          {source: 'api: ServiceCIDR extra spec.cidrs[0]', text: '10.100.9.128/25'},
        ],
      ],
    ])
  })

  test("docker0's /16 on node-1 overlapping a bridge network on node-2 (the lab's docker0-overlap)", () => {
    // node-2's bridge also carries 172.17.2.0/24; node-1 sends that traffic into its empty docker0.
    const bridge = {ifindex: 3, ifname: 'cbr0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP'}
    const node2 = nodeEvidence('node-2', {
      links: JSON.stringify([{...bridge, linkinfo: {info_kind: 'bridge', info_data: {stp_state: 0, vlan_filtering: 0}}}]),
      addrs: JSON.stringify([{...bridge, addr_info: [{family: 'inet', local: '10.244.2.1', prefixlen: 24, scope: 'global'}, {family: 'inet', local: '172.17.2.1', prefixlen: 24, scope: 'global'}]}]),
    })
    const both = {...node1((o) => Object.assign(o, dockerBridge(o))), name: 'node-1'}
    const {findings} = run(cidrOverlap, snapshotOf({nodes: [both, node2]}))
    expect(findings.map((f) => [f.node, f.message, f.evidence.map((e) => e.text)])).toEqual([
      ['node-1', 'bridge docker0 172.17.0.0/16 on node-1 overlaps bridge cbr0 172.17.2.0/24 on node-2', ['docker0 inet 172.17.0.1/16', '172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown', 'cbr0 inet 172.17.2.1/24']],
    ])
  })

  test('the same bridge prefix on every node (docker0 everywhere) is not an overlap with itself', () => {
    // Both nodes reuse node-1's captured evidence: docker0 merges into one range owned by both, and
    // node-2's copy of cbr0 (node-1's range, outside node-2's own pod CIDR) is a finding of its own.
    const docker = (name: string) => ({...node1((o) => Object.assign(o, dockerBridge(o))), name})
    const {findings} = run(cidrOverlap, snapshotOf({nodes: [docker('node-1'), docker('node-2')]}))
    expect(findings.map((f) => [f.subject.name, f.node, f.message])).toEqual([['node-1', 'node-2', 'bridge cbr0 10.244.1.0/24 on node-2 overlaps pod CIDR 10.244.1.0/24 of node-1']])
  })

  test("a bridge given another node's pod CIDR (the lab's cidr-overlap): once, on the node that misroutes, with the address and route lines", () => {
    const node2 = nodeEvidence('node-2', {
      links: JSON.stringify([{ifindex: 3, ifname: 'cbr0', flags: ['UP'], mtu: 1500, operstate: 'UP', linkinfo: {info_kind: 'bridge'}}]),
      addrs: JSON.stringify([{ifindex: 3, ifname: 'cbr0', flags: ['UP'], addr_info: [{family: 'inet', local: '10.244.2.1', prefixlen: 24, scope: 'global'}]}]),
    })
    const snapshot = snapshotOf({nodes: [node1((o) => bridgeTakesNode2(o)), node2]})
    expect(run(cidrOverlap, snapshot).findings).toEqual([
      {
        check: 'cidr-overlap',
        severity: 'error',
        subject: {kind: 'node', name: 'node-2'},
        node: 'node-1',
        message: 'bridge cbr0 10.244.2.0/24 on node-1 overlaps pod CIDR 10.244.2.0/24 of node-2',
        evidence: [
          {source: 'node-1: ip -j addr show', text: 'cbr0 inet 10.244.2.1/24'},
          {source: 'node-1: ip -j route show table all', text: '10.244.2.0/24 dev cbr0 proto kernel scope link src 10.244.2.1'},
          {source: 'api: Node node-2 spec.podCIDRs[0]', text: '10.244.2.0/24'},
        ],
      },
    ])
    // node-2's own cbr0 is its CNI bridge (inside its pod CIDR): not a range of its own.
    const routeOnly = run(cidrOverlap, snapshotOf({nodes: [node1((o) => bridgeTakesNode2(o, {address: false}))]})).findings
    expect(routeOnly.map((f) => [f.node, f.message, f.evidence.map((e) => e.text)])).toEqual([
      ['node-1', 'bridge cbr0 10.244.2.0/24 on node-1 overlaps pod CIDR 10.244.2.0/24 of node-2', ['10.244.2.0/24 dev cbr0 proto kernel scope link src 10.244.2.1', '10.244.2.0/24']],
    ])
  })

  test("a bridge network outside every pod CIDR but inside the cluster's is reported against the cluster CIDR", () => {
    const snapshot = snapshotOf({nodes: [node1((o) => (o.addrs = editJson(o.addrs as string, (a) => a.map((x) => (x.ifname === 'br-stp' ? {...x, addr_info: [{family: 'inet', local: '10.244.200.1', prefixlen: 24, scope: 'global'}]} : x)))))]})
    expect(run(cidrOverlap, snapshot).findings.map((f) => [f.subject.name, f.node, f.message])).toEqual([
      ['cluster', 'node-1', 'bridge br-stp 10.244.200.0/24 on node-1 overlaps cluster pod CIDR 10.244.0.0/16'],
    ])
  })
})
