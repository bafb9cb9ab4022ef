import type {Finding} from '../report/finding.js'
import {linkText, nodeEvidence, podBridges, sysctlText} from './evidence.js'
import {noPodsReason} from './pod-host.js'
import type {Check} from './types.js'

export const bridgeNfCallOff: Check = {
  id: 'bridge-nf-call-off',
  title: 'Bridged pod traffic passes through iptables (br_netfilter)',
  severity: 'error',
  requires: ['node:sysctls', 'node:links'],
  remediation: 'modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1 (and -ip6tables); persist both in /etc/modules-load.d/ and /etc/sysctl.d/',
  explanation:
    "On a bridge-based datapath, traffic between two pods on the same bridge never reaches iptables unless br_netfilter is loaded and bridge-nf-call-iptables=1. Then kube-proxy's DNAT is not undone on replies, so a pod calling a Service backed by a pod on the same node gets replies from the wrong address and the connection hangs.",
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const bridges = [...podBridges(node)].filter((b) => node.links?.some((l) => l.ifname === b && l.kind === 'bridge'))
      if (bridges.length === 0) continue
      const noPods = noPodsReason(ctx.model, node, 'br_netfilter')
      if (noPods) {
        ctx.skip(noPods)
        continue
      }
      const bridge = node.links?.find((l) => l.ifname === bridges[0]) ?? undefined
      const entry = (node.sysctls ?? []).filter((e) => e.key === 'net.bridge.bridge-nf-call-iptables').at(-1)
      if (entry && entry.value.trim() !== '0') continue
      const bridgeEv = bridge ? [nodeEvidence(node, 'links', linkText(bridge))] : []
      findings.push(
        ctx.finding({
          subject: {kind: 'node', name: node.name},
          node: node.name,
          message: entry
            ? `net.bridge.bridge-nf-call-iptables is 0 on a node whose pods sit on bridge ${bridges.join(', ')}`
            : `br_netfilter is not loaded (no /proc/sys/net/bridge/bridge-nf-call-iptables) on a node whose pods sit on bridge ${bridges.join(', ')}`,
          evidence: [
            entry ? nodeEvidence(node, 'sysctls', sysctlText(entry)) : nodeEvidence(node, 'sysctls', '/proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory'),
            ...bridgeEv,
          ],
        }),
      )
    }
    return findings
  },
}
