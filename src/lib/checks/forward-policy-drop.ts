import {cidrContainsCidr, ipFamily} from '../net/cidr.js'
import {familyDatapath} from '../model/node-family.js'
import {ipv6PodsOn} from './ipv6-pods.js'
import type {NodeDatapath} from '../model/node.js'
import type {IptablesRule, IptablesTable} from '../parse/iptables-save.js'
import type {Finding} from '../report/finding.js'
import {nodeEvidence, OVERLAY_KINDS, podBridges} from './evidence.js'
import {noPodsReason} from './pod-host.js'
import type {Check} from './types.js'

export const forwardPolicyDrop: Check = {
  id: 'forward-policy-drop',
  title: 'The FORWARD chain does not drop pod traffic',
  severity: 'error',
  requires: ['node:iptables-save'],
  remediation: "accept pod traffic in FORWARD (iptables -A FORWARD -s POD_CIDR -j ACCEPT; -d POD_CIDR -j ACCEPT), or enable your CNI's forwarding rules; Docker sets the FORWARD policy to DROP when it starts",
  explanation:
    'Packets a node routes for its pods traverse the filter FORWARD chain (ip6tables\' for IPv6, judged where pods have IPv6 addresses). With a DROP policy and no rule accepting pod traffic (by pod CIDR or pod interface), every cross-node and off-node pod packet is dropped silently. A host that carries no pods is skipped with that reason.',
  run(ctx) {
    const findings: Finding[] = []
    const cluster = ctx.model.cluster
    for (const node of ctx.nodes) {
      // Each family has its own FORWARD chain (iptables, ip6tables); IPv6's matters where pods have IPv6 addresses.
      for (const family of [4, 6] as const) {
        const f = familyDatapath(node, family)
        const filter = f.iptables?.tables.find((t) => t.name === 'filter')
        const forward = filter?.chainIndex.get('FORWARD')
        if (!filter || forward?.policy !== 'DROP') continue
        if (family === 6 && !ipv6PodsOn(ctx.model, node)) continue
        // Docker sets FORWARD DROP on every host it runs on; that only matters where pods are.
        const noPods = noPodsReason(ctx.model, node, `the ${family === 6 ? 'ip6tables ' : ''}FORWARD policy`)
        if (noPods) {
          ctx.skip(noPods)
          continue
        }
        // A finding about one family names that family's ranges only.
        const podCidrs = [...(ctx.model.index.nodeByName().get(node.name)?.podCIDRs ?? []), ...(cluster?.kubeProxy.clusterCIDRs ?? [])].filter((c) => ipFamily(c) === family)
        const podIfaces = podInterfaces(node)
        if (acceptsPodTraffic(filter, podCidrs, podIfaces)) continue
        const counters = forward.counters ? ` [${forward.counters.packets}:${forward.counters.bytes}]` : ''
        findings.push(
          ctx.finding({
            subject: {kind: 'node', name: node.name},
            node: node.name,
            ...(family === 6 ? {family} : {}),
            message: `${family === 6 ? 'ip6tables ' : ''}filter FORWARD policy is DROP and no rule reachable from FORWARD accepts ${family === 6 ? 'IPv6 ' : ''}pod traffic${podCidrs.length ? ` (${podCidrs.join(', ')})` : ''}`,
            evidence: [nodeEvidence(node, f.iptablesId, `:FORWARD DROP${counters}`)],
          }),
        )
      }
    }
    return findings
  },
}

function podInterfaces(node: NodeDatapath): string[] {
  const out = new Set(podBridges(node))
  for (const l of node.links ?? []) if (l.kind && OVERLAY_KINDS.has(l.kind)) out.add(l.ifname)
  return [...out]
}

/** Walks FORWARD and the chains it jumps to, looking for an ACCEPT that covers pod traffic. */
function acceptsPodTraffic(filter: IptablesTable, podCidrs: string[], podIfaces: string[]): boolean {
  const seen = new Set<string>()
  const walk = (chain: string): boolean => {
    if (seen.has(chain)) return false
    seen.add(chain)
    for (const rule of filter.chainIndex.get(chain)?.rules ?? []) {
      const t = rule.target
      if (t?.kind === 'chain' && walk(t.chain)) return true
      if (t?.kind === 'accept' && coversPods(rule, podCidrs, podIfaces)) return true
    }
    return false
  }
  return walk('FORWARD')
}

function coversPods(rule: IptablesRule, podCidrs: string[], podIfaces: string[]): boolean {
  // Rules limited by state or mark (kube-proxy's KUBE-FORWARD) do not let new pod flows through.
  if (rule.matches.some((m) => m.kind === 'conntrack' || m.kind === 'state' || m.kind === 'mark')) return false
  const addr = [rule.src, rule.dst].some((a) => a && !a.negated && podCidrs.some((p) => cidrContainsCidr(a.cidr, p)))
  const iface = [rule.inIface, rule.outIface].some((i) => i && !i.negated && podIfaces.some((n) => (i.wildcard ? n.startsWith(i.name) : n === i.name)))
  const unconditional = !rule.src && !rule.dst && !rule.inIface && !rule.outIface && rule.matches.every((m) => m.kind === 'comment')
  return addr || iface || unconditional
}
