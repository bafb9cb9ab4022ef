import type {Finding} from '../report/finding.js'
import {readyEndpoints, readySlicePorts, readyTargetTest} from './nat-endpoints.js'
import type {Check} from './types.js'
import {hostPort} from '../net/cidr.js'
import {kubeProxyView6} from './kube-proxy-ipv6.js'

export const natStaleEndpoint: Check = {
  id: 'nat-stale-endpoint',
  title: "kube-proxy's DNAT targets are ready endpoints",
  severity: 'error',
  requires: ['cluster:services', 'cluster:endpointslices'],
  kubeProxyIptables: true,
  remediation: 'restart kube-proxy on the node (it rewrites all rules on start) and check its logs for sync errors or a lost API watch',
  explanation:
    "kube-proxy rewrites its KUBE-SEP-* DNAT rules whenever endpoints change. A DNAT target that is no longer a ready endpoint means this node's kube-proxy stopped syncing: a share of the Service's connections go to a pod that is gone or not ready.",
  run(ctx) {
    const index = ctx.model.index
    const endpoints = readySlicePorts(ctx.model)
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      // The IPv4 rules, and kube-proxy's IPv6 rules (ip6tables, ip6 kube-proxy or IPv6 IPVS services).
      const v6 = kubeProxyView6(ctx.model, node)
      for (const view of [index.kubeProxyView(node), ...(v6 ? [v6] : [])]) {
        if (!view) continue
        const family = view === v6 ? 6 : undefined
        // One finding per stale target of a Service port: IPVS repeats the real servers under the
        // ClusterIP and every NodePort address, iptables under KUBE-SVC and KUBE-SVL; each rule is evidence.
        const seen = new Map<string, Finding>()
        for (const port of view.ports) {
          const key = `${port.namespace}/${port.name}`
          if (!index.serviceByKey().has(key)) continue
          const slicePorts = endpoints.get(`${port.portName}|${port.protocol}`)
          const isReady = readyTargetTest(slicePorts, port.targets.length)
          for (const t of port.targets) {
            if (isReady(t)) continue
            const target = hostPort(t.ip, t.port)
            const same = `${port.portName}|${port.protocol}|${target}`
            const earlier = seen.get(same)
            if (earlier) {
              earlier.evidence.splice(earlier.evidence.length - 1, 0, {source: view.source, text: t.rule.text})
              continue
            }
            const ready = readyEndpoints(slicePorts, false)
            const finding = ctx.finding({
              subject: {kind: 'service', namespace: port.namespace, name: port.name},
              node: node.name,
              ...(family ? {family} : {}),
              message: `${port.portName} (${port.protocol}) DNATs to ${target}, which is not a ready endpoint`,
              evidence: [
                {source: view.source, text: t.rule.text},
                {
                  source: `api: EndpointSlices of Service ${key}`,
                  text: ready.length ? `ready: ${ready.map((e) => hostPort(e.ip, e.port)).join(', ')}` : 'no ready endpoints',
                },
              ],
            })
            seen.set(same, finding)
            findings.push(finding)
          }
        }
      }
    }
    return findings
  },
}
