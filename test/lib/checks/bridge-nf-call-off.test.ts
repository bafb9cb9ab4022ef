import {describe, expect, test} from 'vitest'
import {bridgeNfCallOff} from '../../../src/lib/checks/bridge-nf-call-off.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('bridge-nf-call-off', () => {
  test('reports br_netfilter not loaded on a bridge node', () => {
    expect(run(bridgeNfCallOff, (SCENARIOS['bridge-nf-call-off'] as () => never)())).toEqual({
      findings: [
        {
          "check": "bridge-nf-call-off",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "br_netfilter is not loaded (no /proc/sys/net/bridge/bridge-nf-call-iptables) on a node whose pods sit on bridge cbr0",
          "evidence": [
            {
              "source": "node-1: grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables",
              "text": "/proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory"
            },
            {
              "source": "node-1: ip -j -d link show",
              "text": "3: cbr0 bridge mtu 1450 state UP <BROADCAST,MULTICAST,UP,LOWER_UP>"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(bridgeNfCallOff, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(bridgeNfCallOff, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'sysctls': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'bridge-nf-call-off', reason: "sysctls failed on node-1 (permission denied)"}]})
  })

  test('bridge-nf-call-iptables=0 is quoted as read', () => {
    const sysctls = (flannelNode().sysctls ?? '').replace('bridge-nf-call-iptables:1', 'bridge-nf-call-iptables:0')
    const {findings} = run(bridgeNfCallOff, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), sysctls})]}))
    expect(findings.map((f) => f.evidence[0]?.text)).toEqual(['/proc/sys/net/bridge/bridge-nf-call-iptables:0'])
  })
})
