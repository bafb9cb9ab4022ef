import type {Finding} from '../report/finding.js'
import {api} from './evidence.js'
import type {Check} from './types.js'

export const podIpDuplicate: Check = {
  id: 'pod-ip-duplicate',
  title: 'No two pods hold the same IP',
  severity: 'error',
  requires: ['cluster:pods'],
  remediation: 'delete the older pod so it gets a fresh IP, then find why IPAM handed the address out twice (host-local state left behind by a reinstalled CNI, two nodes sharing a podCIDR)',
  explanation: 'Two running pods with one IP means replies and Service traffic reach whichever the routes point at; the other pod is unreachable and its clients talk to a stranger.',
  run(ctx) {
    const findings: Finding[] = []
    for (const [ip, pods] of ctx.model.index.podsByIp()) {
      const owners = pods.filter((p) => !p.hostNetwork)
      if (owners.length < 2) continue
      const first = owners[0]
      if (!first) continue
      findings.push(
        ctx.finding({
          subject: {kind: 'pod', namespace: first.namespace, name: first.name},
          ...(first.node ? {node: first.node} : {}),
          message: `${ip} is held by ${owners.length} pods: ${owners.map((p) => `${p.namespace}/${p.name}${p.node ? ` (${p.node})` : ''}`).join(', ')}`,
          evidence: owners.map((p) => api('Pod', `${p.namespace}/${p.name}`, `status.podIPs[${p.podIPs.indexOf(ip)}]`, ip)),
        }),
      )
    }
    return findings
  },
}
