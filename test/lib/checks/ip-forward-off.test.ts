import {describe, expect, test} from 'vitest'
import {ipForwardOff} from '../../../src/lib/checks/ip-forward-off.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
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
})
