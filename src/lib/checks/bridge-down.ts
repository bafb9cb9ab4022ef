import type {Finding} from '../report/finding.js'
import {linkText, nodeEvidence, podBridges} from './evidence.js'
import type {Check} from './types.js'

export const bridgeDown: Check = {
  id: 'bridge-down',
  title: 'Pod bridges are up',
  severity: 'error',
  requires: ['node:links'],
  remediation: 'ip link set BRIDGE up, then find what downed it (NetworkManager or systemd-networkd managing CNI interfaces is the usual suspect)',
  explanation: 'A pod bridge (cni0/cbr0) that is administratively down forwards nothing: every pod behind it loses its network while the pods themselves look healthy.',
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const names = podBridges(node)
      for (const l of node.links ?? []) {
        if (l.kind !== 'bridge' || !names.has(l.ifname) || l.flags.includes('UP')) continue
        const ports = (node.links ?? []).filter((p) => p.master === l.ifname).length
        findings.push(
          ctx.finding({
            subject: {kind: 'node', name: node.name},
            node: node.name,
            message: `pod bridge ${l.ifname} is down (${ports} port(s) attached)`,
            evidence: [nodeEvidence(node, 'links', linkText(l))],
          }),
        )
      }
    }
    return findings
  },
}
