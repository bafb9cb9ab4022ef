import type {Finding} from '../report/finding.js'
import {nodeEvidence} from './evidence.js'
import type {Check} from './types.js'

/** Problems that mean the iptables binary misread the kernel's rules, not a malformed dump. */
export function isUserspaceMismatch(p: {message: string; text?: string}): boolean {
  return p.message.includes('garbled') || (p.text ?? '').includes('[unsupported revision]') || /unsupported revision/i.test(p.message)
}

const SOURCES = ['iptables-save', 'ip6tables-save', 'iptables-legacy-save'] as const

export const iptablesUnreadable: Check = {
  id: 'iptables-unreadable',
  title: "iptables in userspace can read the kernel's rules",
  severity: 'error',
  requires: ['node:iptables-save'],
  remediation:
    "read the rules with the iptables that wrote them (run iptables-save inside kube-proxy's or the CNI's container, whose iptables -V matches) or upgrade the node's iptables to that version; until then trust no tool that reads the host's iptables-save",
  explanation:
    "An iptables binary older than the one that wrote a rule (or of the other backend) prints the kernel's rule garbled: a DNAT as \"--to-destination  --random --to-destination 0.0.0.0:0\", a match as \"[unsupported revision]\". The rule still works in the kernel; only what userspace shows is wrong, so a human or tool reading it (and iptables-restore of such a dump) gets the datapath wrong. knet treats such a rule as unknown in trace.",
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      for (const id of SOURCES) {
        const bad = node.problems.filter((p) => p.source === id && isUserspaceMismatch(p))
        const first = bad[0]
        if (!first) continue
        findings.push(
          ctx.finding({
            subject: {kind: 'node', name: node.name},
            node: node.name,
            message: `${id} on ${node.name} prints ${bad.length} rule(s) it cannot decode: the iptables binary and the kernel's rules disagree`,
            evidence: bad.slice(0, 3).map((p) => nodeEvidence(node, id, `line ${p.line}: ${p.text ?? ''} (${p.message})`)),
          }),
        )
      }
    }
    return findings
  },
}
