import type {Finding} from '../report/finding.js'
import {isPodVeth, nodeEvidence, OVERLAY_KINDS, podBridges, sysctlText} from './evidence.js'
import {ownPodRoutes} from './own-pod-routes.js'
import {routedVeths} from './routed-pods.js'
import type {Check} from './types.js'

export const rpFilterStrict: Check = {
  id: 'rp-filter-strict',
  title: 'Strict reverse-path filtering is off on overlay and pod-facing interfaces',
  severity: 'warn',
  requires: ['node:rp-filter', 'node:links', 'node:routes4'],
  remediation: 'sysctl -w net.ipv4.conf.IFACE.rp_filter=2 (loose) or 0 for the interfaces named, and net.ipv4.conf.all.rp_filter=2 if all is 1; persist in /etc/sysctl.d/',
  explanation:
    "With rp_filter=1 the kernel drops packets arriving on an interface it would not route the source back through. Overlays, asymmetric pod routes and policy routing break that assumption, so packets vanish without a counter in iptables. The kernel applies max(all, interface). A routed pod veth (no bridge, a /32 route back to the pod through it, as Calico sets up cali* interfaces) is the exception: there the route back is the veth itself, and strict filtering is the CNI's intended anti-spoofing.",
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const entries = new Map((node.rpFilter ?? []).map((e) => [e.key.replace(/^net\.ipv4\.conf\./, '').replace(/\.rp_filter$/, '').replaceAll('/', '.'), e]))
      const all = entries.get('all')
      const allValue = Number(all?.value ?? 0)
      const bridges = podBridges(node)
      // A routed pod veth whose /32 is gone (route-missing's finding) is still one: own-pod-routes names it for its pod.
      const assigned = ownPodRoutes(ctx.model, [node]).results.flatMap((r) => (r.veth ? [r.veth.ifname] : []))
      const routed = new Set([...routedVeths(node).map((v) => v.link.ifname), ...assigned])
      const strict = (node.links ?? []).filter((l) => {
        // A pod veth that is down carries nothing to filter, and has lost the route that shows it is routed (veth-down's finding).
        const podFacing = isPodVeth(node, l) && !routed.has(l.ifname) && (l.master !== undefined || l.flags.includes('UP'))
        const facing = (l.kind && OVERLAY_KINDS.has(l.kind)) || bridges.has(l.ifname) || podFacing
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
