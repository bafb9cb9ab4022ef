import type {Finding} from '../report/finding.js'
import type {Check} from './types.js'

export const kubeProxyMode: Check = {
  id: 'kube-proxy-mode',
  title: "kube-proxy's mode on the nodes matches its ConfigMap",
  severity: 'warn',
  requires: ['cluster:kube-proxy-config'],
  remediation: "restart kube-proxy on the nodes named so they pick up the ConfigMap's mode, and clean up the old mode's rules (kube-proxy --cleanup)",
  explanation:
    "kube-proxy reads its mode at start. A node whose rules show another mode than the ConfigMap has not restarted since the change (or has its own flags), and leftovers of the old mode can keep serving stale Service rules. knet's NAT checks read each node's rules in the mode it shows (iptables-save, the nft table kube-proxy, or ipvsadm).",
  run(ctx) {
    const cluster = ctx.cluster()
    const configured = cluster.kubeProxy.mode as string
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const seen = ctx.model.index.observedKubeProxyMode(node)
      if (!seen) {
        ctx.skip(`no kube-proxy rules visible on ${node.name} (no KUBE-SERVICES chain in iptables or ip6tables, kube-ipvs0 or nft table kube-proxy)`)
        continue
      }
      if (seen.mode === configured) continue
      findings.push(
        ctx.finding({
          subject: {kind: 'node', name: node.name},
          node: node.name,
          message: `kube-proxy runs in ${seen.mode} mode on ${node.name}, but its ConfigMap says ${configured}${cluster.kubeProxy.modeDefaulted ? ' (mode empty: iptables by default)' : ''}`,
          evidence: [seen.evidence, {source: `api: ${cluster.kubeProxy.source ?? 'ConfigMap kube-system/kube-proxy'} mode`, text: cluster.kubeProxy.modeDefaulted ? '""' : configured}],
        }),
      )
    }
    return findings
  },
}
