import {describe, expect, test} from 'vitest'
import {nodeCni} from '../../../src/lib/model/node-cni.js'
import {buildNodeDatapath} from '../../../src/lib/model/node.js'
import {editJson, flannelNode, nodeEvidence} from '../checks/fixtures.js'
import {calicoNode, hostGwNode} from '../checks/scenarios.js'

const link = (ifindex: number, ifname: string, kind?: string) => ({ifindex, ifname, flags: ['UP'], mtu: 1500, operstate: 'UP', ...(kind ? {linkinfo: {info_kind: kind}} : {})})
const withLinks = (...extra: Record<string, unknown>[]) => buildNodeDatapath(hostGwNode((o) => (o.links = editJson(o.links as string, (l) => [...l.filter((x) => x.ifname !== 'cbr0'), ...extra]))))
const LINKS = 'node-1: ip -j -d link show'

describe('nodeCni: the CNI a node shows by its own evidence', () => {
  test('Calico: the CNI config first, then one sign per kind of interface (not one per pod)', () => {
    expect(nodeCni(buildNodeDatapath(calicoNode()))).toEqual({
      cni: 'calico',
      signs: [
        {cni: 'calico', evidence: {source: 'node-1: grep -r -H -n -e  /etc/cni/net.d', text: '/etc/cni/net.d/10-calico.conflist: "name": "k8s-pod-network", plugin "type": "calico"'}},
        {cni: 'calico', evidence: {source: LINKS, text: '7: cali1f0a2b3c4d5 veth'}},
      ],
    })
  })

  test('flannel by flannel.1 over the generic pod bridge cbr0; a host-gw node with only cbr0 is the generic bridge plugin', () => {
    const flannel = nodeCni(buildNodeDatapath(nodeEvidence('node-1', flannelNode())))
    expect([flannel.cni, flannel.signs.map((s) => [s.cni, s.evidence.text])]).toEqual(['flannel', [['bridge', '3: cbr0 bridge'], ['flannel', '5: flannel.1 vxlan']]])
    expect(nodeCni(buildNodeDatapath(hostGwNode())).cni).toBe('bridge')
  })

  test.each([
    ['vxlan.calico', 'vxlan', 'calico'],
    ['cilium_host', 'veth', 'cilium'],
    ['lxc1a2b3c4d', 'veth', 'cilium'],
    ['eni3f2a1b0c9d8', 'veth', 'aws-vpc-cni'],
    ['azv1234abcd', 'veth', 'azure-cni'],
    ['gke0123abcd', 'veth', 'gke-netd'],
    ['weave', 'bridge', 'weave'],
    ['kube-bridge', 'bridge', 'kube-router'],
    ['antrea-gw0', 'openvswitch', 'antrea'],
    ['ovn-k8s-mp0', 'openvswitch', 'ovn-kubernetes'],
    ['cni0', 'bridge', 'bridge'],
  ])('%s (%s) is %s', (ifname, kind, cni) => {
    expect(nodeCni(withLinks(link(40, ifname, kind))).cni).toBe(cni)
  })

  test('a veth prefix on a device of another kind, and kube-ipvs0, name no CNI', () => {
    expect(nodeCni(withLinks(link(40, 'eni0', 'dummy'), link(41, 'kube-ipvs0', 'dummy'))).cni).toBeUndefined()
  })

  test("eBPF datapaths: Calico's bpfin.cali, and Cilium once nothing shows a kube-proxy", () => {
    expect(nodeCni(withLinks(link(40, 'bpfin.cali', 'veth'))).ebpf).toEqual({what: "Calico's eBPF dataplane", evidence: [{source: LINKS, text: '40: bpfin.cali veth'}]})
    // The captured iptables rules hold kube-proxy's chains: Cilium with kube-proxy is no eBPF-only datapath.
    expect(nodeCni(withLinks(link(40, 'cilium_host', 'veth'))).ebpf).toBeUndefined()
    const replaced = buildNodeDatapath(hostGwNode((o) => {
      o.links = editJson(o.links as string, (l) => [...l, link(40, 'cilium_host', 'veth')])
      o['iptables-save'] = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'
    }))
    expect(nodeCni(replaced).ebpf?.what).toBe('Cilium with kube-proxy replacement')
    // A kube-proxy DaemonSet in the API means kube-proxy runs; the node's own kube-proxy rules outrank an API without one.
    expect(nodeCni(replaced, true).ebpf).toBeUndefined()
    expect(nodeCni(withLinks(link(40, 'cilium_host', 'veth')), false).ebpf).toBeUndefined()
    expect(nodeCni(replaced, false).ebpf?.evidence.map((e) => e.text)).toEqual(['40: cilium_host veth', 'no kube-proxy DaemonSet'])
  })

  test('a node with nothing of a CNI: no signs', () => {
    const plain = buildNodeDatapath(nodeEvidence('vm', {links: JSON.stringify([link(1, 'lo'), link(2, 'eth0')])}))
    expect(nodeCni(plain)).toEqual({signs: []})
  })
})
