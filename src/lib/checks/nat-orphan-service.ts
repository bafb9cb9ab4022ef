import type {Finding} from '../report/finding.js'
import {splitPortName} from '../model/kube-proxy-view.js'
import type {Check} from './types.js'
import {kubeProxyView6} from './kube-proxy-ipv6.js'

export const natOrphanService: Check = {
  id: 'nat-orphan-service',
  title: 'kube-proxy has no rules for deleted Services',
  severity: 'warn',
  requires: ['cluster:services'],
  kubeProxyIptables: true,
  remediation: "restart kube-proxy on the node so it rewrites its rules; if the ClusterIP has been reused, traffic to the new Service goes to the old one's pods until then",
  explanation:
    "kube-proxy removes a Service's chains when the Service is deleted. Rules left behind mean this node's kube-proxy is not syncing: the old ClusterIP still answers, and a new Service given that IP is shadowed.",
  run(ctx) {
    const index = ctx.model.index
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const reported = new Set<string>()
      // Both families' rules; a Service left in both is reported once, from its IPv4 rules.
      const v6 = kubeProxyView6(ctx.model, node)
      for (const view of [index.kubeProxyView(node), v6]) {
        if (!view) continue
        const family = view === v6 ? {family: 6 as const} : {}
        const entries = [...view.ports.map((p) => ({portName: p.portName, rule: p.rule})), ...view.noEndpoints]
        for (const e of entries) {
          const parts = splitPortName(e.portName)
          if (!parts) continue
          const key = `${parts.namespace}/${parts.name}`
          if (index.serviceByKey().has(key) || reported.has(e.portName)) continue
          reported.add(e.portName)
          findings.push(
            ctx.finding({
              subject: {kind: 'service', namespace: parts.namespace, name: parts.name},
              node: node.name,
              ...family,
              message: `${node.name} still has kube-proxy rules for ${e.portName}, but Service ${key} does not exist`,
              evidence: [{source: view.source, text: e.rule.text}],
            }),
          )
        }
        // IPVS virtual services carry no Service name: one whose address and port no Service has.
        for (const o of view.orphans ?? []) {
          findings.push(
            ctx.finding({
              subject: {kind: 'node', name: node.name},
              node: node.name,
              ...family,
              message: `${node.name} still has kube-proxy's ${o.what}, but no Service has that address and port`,
              evidence: [{source: view.source, text: o.rule.text}],
            }),
          )
        }
      }
    }
    return findings
  },
}
