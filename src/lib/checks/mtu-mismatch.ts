import type {Finding} from '../report/finding.js'
import {linkText, nodeEvidence} from './evidence.js'
import type {Check} from './types.js'

/** Encapsulation overhead in bytes over an IPv4 / IPv6 underlay. */
const OVERHEAD: Record<string, [number, number]> = {vxlan: [50, 70], geneve: [50, 70], ipip: [20, 40], gre: [24, 44], wireguard: [60, 80], sit: [20, 40], ip6tnl: [40, 40]}

export const mtuMismatch: Check = {
  id: 'mtu-mismatch',
  title: 'Overlay MTU fits the underlay',
  severity: 'error',
  requires: ['node:links'],
  remediation: "set the overlay (and pod) MTU to the underlay MTU minus the encapsulation overhead (VXLAN: 50 bytes over IPv4), in the CNI's config, then recreate the pods",
  explanation:
    'Encapsulated packets are larger than the packets they carry. If the overlay MTU is more than the underlay MTU minus that overhead, full-size packets are dropped or fragmented: small requests work, large responses and TLS handshakes hang.',
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const links = node.links ?? []
      for (const overlay of links) {
        const overhead = overlay.kind ? OVERHEAD[overlay.kind] : undefined
        if (!overhead || overlay.mtu === undefined) continue
        const local = overlay.vxlan?.local
        const underlay =
          links.find((l) => l.ifname === overlay.vxlan?.dev) ??
          (local ? links.find((l) => node.addrs?.some((a) => a.ifname === l.ifname && a.addrs.some((x) => x.local === local))) : undefined) ??
          links.find((l) => l.ifname === node.routes4?.find((r) => r.dst === '0.0.0.0/0' && r.table === 'main')?.dev)
        if (!underlay || underlay.mtu === undefined) {
          ctx.skip(`underlay device of ${overlay.ifname} on ${node.name} not found`)
          continue
        }
        const bytes = local?.includes(':') ? overhead[1] : overhead[0]
        const max = underlay.mtu - bytes
        if (overlay.mtu <= max) continue
        findings.push(
          ctx.finding({
            subject: {kind: 'node', name: node.name},
            node: node.name,
            message: `${overlay.kind} ${overlay.ifname} has MTU ${overlay.mtu}, more than ${underlay.ifname}'s ${underlay.mtu} minus ${bytes} bytes of encapsulation (${max})`,
            evidence: [nodeEvidence(node, 'links', linkText(overlay)), nodeEvidence(node, 'links', linkText(underlay))],
          }),
        )
      }
    }
    return findings
  },
}
