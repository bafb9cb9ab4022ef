import {describe, expect, test} from 'vitest'
import {podIpOutsideNodeCidr} from '../../../src/lib/checks/pod-ip-outside-node-cidr.js'
import {PODS, run, snapshotOf} from './fixtures.js'
import {calicoNode, SCENARIOS, withCniDaemonSet} from './scenarios.js'

describe('pod-ip-outside-node-cidr', () => {
  test("reports a pod whose IP is in another node's pod CIDR", () => {
    expect(run(podIpOutsideNodeCidr, (SCENARIOS['pod-ip-outside-node-cidr'] as () => never)())).toEqual({
      findings: [
        {
          "check": "pod-ip-outside-node-cidr",
          "severity": "error",
          "subject": {
            "kind": "pod",
            "namespace": "default",
            "name": "web-2"
          },
          "node": "node-2",
          "message": "pod IP 10.244.1.9 is outside node-2's podCIDR 10.244.2.0/24",
          "evidence": [
            {
              "source": "api: Pod default/web-2 status.podIPs[0]",
              "text": "10.244.1.9"
            },
            {
              "source": "api: Node node-2 spec.podCIDRs",
              "text": "10.244.2.0/24"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(podIpOutsideNodeCidr, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(podIpOutsideNodeCidr, snapshotOf({cluster: null}))).toEqual({findings: [], skipped: [{check: 'pod-ip-outside-node-cidr', reason: "no cluster state in the snapshot (no --objects, no kubeconfig, or --no-cluster)"}]})
  })

  test('skipped for CNIs with their own IPAM (calico)', () => {
    const s = snapshotOf({nodes: []})
    if (s.cluster) s.cluster.objects.daemonSets = [{metadata: {namespace: 'kube-system', name: 'calico-node'}, spec: {template: {spec: {containers: [{image: 'docker.io/calico/node:v3.28.0'}]}}}}]
    expect(run(podIpOutsideNodeCidr, s).skipped).toEqual([
      {check: 'pod-ip-outside-node-cidr', reason: "calico allocates pod IPs from its own IPAM, not from the nodes' spec.podCIDRs"},
    ])
  })

  test('skipped for Calico recognised from a node alone (cali* veths, its CNI config), with no DaemonSet to say so', () => {
    const s = withCniDaemonSet(snapshotOf({cluster: {pods: PODS.map((p) => (p.name === 'web-2' ? {...p, ip: '10.244.77.9'} : p))}, nodes: [calicoNode()]}), 'none')
    expect(run(podIpOutsideNodeCidr, s)).toEqual({
      findings: [],
      skipped: [{check: 'pod-ip-outside-node-cidr', reason: "calico allocates pod IPs from its own IPAM, not from the nodes' spec.podCIDRs"}],
    })
  })
})
