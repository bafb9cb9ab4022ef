import type {Finding} from '../report/finding.js'
import {nodeEvidence, sysctlText} from './evidence.js'
import {noPodsReason} from './pod-host.js'
import type {Check} from './types.js'

export const ipForwardOff: Check = {
  id: 'ip-forward-off',
  title: 'IP forwarding is on',
  severity: 'error',
  requires: ['node:sysctls'],
  remediation: 'sysctl -w net.ipv4.ip_forward=1 and persist it in /etc/sysctl.d/ (something — a reboot, a security baseline, Docker being removed — turned it off)',
  explanation:
    'With net.ipv4.ip_forward=0 the node drops every packet it would have to route, so no pod on it can talk to anything outside the node and no other node can reach its pods. A host that carries no pods (the API lists none on it; without the API, it has no CNI interface or config) needs no forwarding and is skipped with that reason.',
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const noPods = noPodsReason(ctx.model, node, 'net.ipv4.ip_forward')
      if (noPods) {
        ctx.skip(noPods)
        continue
      }
      const entry = (node.sysctls ?? []).filter((e) => e.key === 'net.ipv4.ip_forward').at(-1)
      if (!entry) {
        ctx.skip(`net.ipv4.ip_forward is not in the sysctls output of ${node.name}`)
        continue
      }
      if (entry.value.trim() !== '0') continue
      findings.push(
        ctx.finding({
          subject: {kind: 'node', name: node.name},
          node: node.name,
          message: 'net.ipv4.ip_forward is 0: the node does not route packets for its pods',
          evidence: [nodeEvidence(node, 'sysctls', sysctlText(entry))],
        }),
      )
    }
    return findings
  },
}
