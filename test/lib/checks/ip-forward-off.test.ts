import {describe, expect, test} from 'vitest'
import {ipForwardOff} from '../../../src/lib/checks/ip-forward-off.js'
import {editJson, flannelNode, nodeEvidence, PODS, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('ip-forward-off', () => {
  test('reports ip_forward=0', () => {
    expect(run(ipForwardOff, (SCENARIOS['ip-forward-off'] as () => never)())).toEqual({
      findings: [
        {
          "check": "ip-forward-off",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "net.ipv4.ip_forward is 0: the node does not route packets for its pods",
          "evidence": [
            {
              "source": "node-1: grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables",
              "text": "/proc/sys/net/ipv4/ip_forward:0"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(ipForwardOff, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(ipForwardOff, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'sysctls': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'ip-forward-off', reason: "sysctls failed on node-1 (permission denied)"}]})
  })

  test('a node whose sysctls output lacks ip_forward is skipped with the reason; the others are still checked', () => {
    const without = {...flannelNode(), sysctls: (flannelNode().sysctls ?? '').split('\n').filter((l) => !l.includes('ip_forward')).join('\n')}
    const off = {...flannelNode(), sysctls: (flannelNode().sysctls ?? '').replace('ip_forward:1', 'ip_forward:0')}
    expect(run(ipForwardOff, snapshotOf({nodes: [nodeEvidence('node-1', without), nodeEvidence('node-2', off)]}))).toMatchObject({
      findings: [{node: 'node-2', evidence: [{text: '/proc/sys/net/ipv4/ip_forward:0'}]}],
      skipped: [{check: 'ip-forward-off', reason: 'net.ipv4.ip_forward is not in the sysctls output of node-1'}],
    })
  })

  describe('a host that carries no pods is not judged as a pod node', () => {
    // A plain host: the captured node without its pod bridge, pod veths or overlay, ip_forward=0.
    const plainHost = () => {
      const o = flannelNode()
      const podish = (name: unknown) => name === 'cbr0' || name === 'flannel.1' || String(name).startsWith('veth')
      o.links = editJson(o.links ?? '', (l) => l.filter((x) => !podish(x.ifname) && !podish(x.master)))
      o.sysctls = (o.sysctls ?? '').replace('ip_forward:1', 'ip_forward:0')
      return o
    }

    test('no API and no CNI interface or config on the node: skipped with the reason, no error', () => {
      expect(run(ipForwardOff, snapshotOf({cluster: null, nodes: [nodeEvidence('vm', plainHost())]}))).toEqual({
        findings: [],
        skipped: [{check: 'ip-forward-off', reason: 'vm carries no pods (no cluster state, and no CNI interface or CNI config on the node), so net.ipv4.ip_forward was not judged'}],
      })
    })

    test('the API lists no pod on the node (hostNetwork pods do not count): skipped with the reason', () => {
      const pods = [...PODS.filter((p) => p.node !== 'node-1'), {namespace: 'kube-system', name: 'kube-proxy-abc', node: 'node-1', ip: '10.100.0.2', hostNetwork: true}]
      const off = {...flannelNode(), sysctls: (flannelNode().sysctls ?? '').replace('ip_forward:1', 'ip_forward:0')}
      expect(run(ipForwardOff, snapshotOf({cluster: {pods}, nodes: [nodeEvidence('node-1', off)]}))).toEqual({
        findings: [],
        skipped: [{check: 'ip-forward-off', reason: 'node-1 carries no pods (the API lists no pod on it outside the host network), so net.ipv4.ip_forward was not judged'}],
      })
    })

    test('without the API, a CNI interface or a CNI config is enough to judge the node', () => {
      const withBridge = {...flannelNode(), sysctls: (flannelNode().sysctls ?? '').replace('ip_forward:1', 'ip_forward:0')}
      expect(run(ipForwardOff, snapshotOf({cluster: null, nodes: [nodeEvidence('vm', withBridge)]})).findings.map((f) => f.node)).toEqual(['vm'])
      const withConf = {...plainHost(), 'cni-conf': '/etc/cni/net.d/10-mynet.conflist:1:{"name": "mynet", "cniVersion": "1.0.0", "plugins": [{"type": "bridge", "bridge": "cni0"}]}\n'}
      expect(run(ipForwardOff, snapshotOf({cluster: null, nodes: [nodeEvidence('vm', withConf)]})).findings.map((f) => f.node)).toEqual(['vm'])
    })
  })
})
