import type {Finding} from '../report/finding.js'
import {isPodVeth, nodeEvidence, OVERLAY_KINDS, podBridges, sysctlText} from './evidence.js'
import type {Check} from './types.js'

export const rpFilterStrict: Check = {
  id: 'rp-filter-strict',
  title: 'Strict reverse-path filtering is off on overlay and pod-facing interfaces',
  severity: 'warn',
  requires: ['node:rp-filter', 'node:links'],
  remediation: 'sysctl -w net.ipv4.conf.IFACE.rp_filter=2 (loose) or 0 for the interfaces named, and net.ipv4.conf.all.rp_filter=2 if all is 1; persist in /etc/sysctl.d/',
  explanation:
    'With rp_filter=1 the kernel drops packets arriving on an interface it would not route the source back through. Overlays, asymmetric pod routes and policy routing break that assumption, so packets vanish without a counter in iptables. The kernel applies max(all, interface).',
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const entries = new Map((node.rpFilter ?? []).map((e) => [e.key.replace(/^net\.ipv4\.conf\./, '').replace(/\.rp_filter$/, '').replaceAll('/', '.'), e]))
      const all = entries.get('all')
      const allValue = Number(all?.value ?? 0)
      const bridges = podBridges(node)
      const strict = (node.links ?? []).filter((l) => {
        const facing = (l.kind && OVERLAY_KINDS.has(l.kind)) || bridges.has(l.ifname) || isPodVeth(node, l)
        const own = entries.get(l.ifname)
        return facing && Math.max(allValue, Number(own?.value ?? 0)) === 1
      })
      if (strict.length === 0) continue
      const evidence = strict
        .slice(0, 5)
        .map((l) => entries.get(l.ifname))
        .filter((e) => e !== undefined)
        .map((e) => nodeEvidence(node, 'rp-filter', sysctlText(e)))
      if (all && allValue === 1) evidence.unshift(nodeEvidence(node, 'rp-filter', sysctlText(all)))
      findings.push(
        ctx.finding({
          subject: {kind: 'node', name: node.name},
          node: node.name,
          message: `strict rp_filter (1) on ${strict.map((l) => l.ifname).join(', ')}`,
          evidence,
        }),
      )
    }
    return findings
  },
}
