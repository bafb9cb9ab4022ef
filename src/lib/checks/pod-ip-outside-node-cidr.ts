import {parseCidr, parseIp, type Cidr} from '../net/cidr.js'
import type {Finding} from '../report/finding.js'
import {api} from './evidence.js'
import {ownIpamCni} from '../model/pod-ranges.js'
import type {Check} from './types.js'

export const podIpOutsideNodeCidr: Check = {
  id: 'pod-ip-outside-node-cidr',
  title: "Pod IPs lie inside their node's podCIDR",
  severity: 'error',
  requires: ['cluster:nodes', 'cluster:pods'],
  remediation: "recreate the pod; if it keeps happening, make the CNI's IPAM use the node's podCIDR (host-local ranges, flannel subnet.env) instead of stale local state",
  explanation: "Other nodes route a pod's IP to the node that owns the podCIDR containing it. A pod whose IP lies outside its node's podCIDR gets its replies and inbound traffic sent to another node.",
  run(ctx) {
    const cluster = ctx.cluster()
    // Recognised from the DaemonSets or, without them, from the nodes' interfaces and CNI config.
    const cni = ownIpamCni(ctx.model)
    if (cni) {
      ctx.skip(`${cni} allocates pod IPs from its own IPAM, not from the nodes' spec.podCIDRs`)
      return []
    }
    const nodes = ctx.model.index.nodeByName()
    // Parsed once per node: 150,000 pods must not re-parse their node's prefixes each time.
    const cidrsOf = new Map<string, Cidr[]>()
    const nodeCidrs = (name: string, texts: string[]): Cidr[] => {
      let parsed = cidrsOf.get(name)
      if (!parsed) cidrsOf.set(name, (parsed = texts.map(parseCidr).filter((c): c is Cidr => c !== undefined)))
      return parsed
    }
    const findings: Finding[] = []
    for (const pod of cluster.pods) {
      if (pod.hostNetwork || !pod.node || pod.phase === 'Succeeded' || pod.phase === 'Failed') continue
      const node = nodes.get(pod.node)
      if (!node || node.podCIDRs.length === 0) continue
      const cidrs = nodeCidrs(node.name, node.podCIDRs)
      pod.podIPs.forEach((ip, i) => {
        const addr = fastIp(ip)
        if (!addr) return
        const sameFamily = cidrs.filter((c) => c.family === addr.family)
        if (sameFamily.length === 0 || sameFamily.some((c) => addr.value >= c.first && addr.value <= c.last)) return
        findings.push(
          ctx.finding({
            subject: {kind: 'pod', namespace: pod.namespace, name: pod.name},
            node: node.name,
            message: `pod IP ${ip} is outside ${node.name}'s podCIDR ${sameFamily.map((c) => c.text).join(', ')}`,
            evidence: [api('Pod', `${pod.namespace}/${pod.name}`, `status.podIPs[${i}]`, ip), api('Node', node.name, 'spec.podCIDRs', node.podCIDRs.join(','))],
          }),
        )
      })
    }
    return findings
  },
}

/** Dotted quads without the ip-address round trip (the hot path); anything else through parseIp. */
function fastIp(ip: string): {family: 4 | 6; value: bigint} | undefined {
  const parts = ip.split('.')
  if (parts.length === 4) {
    let v = 0
    for (const p of parts) {
      const n = Number(p)
      if (p === '' || !Number.isInteger(n) || n < 0 || n > 255 || (p.length > 1 && p[0] === '0')) return parseIp(ip)
      v = v * 256 + n
    }
    return {family: 4, value: BigInt(v)}
  }
  return parseIp(ip)
}
