import type {KubeProxyView, ReadyEndpoint} from '../model/model.js'
import type {Evidence, Finding} from '../report/finding.js'
import {everyReadyV4Targeted, hasReadyEndpoint, readyEndpoints, readySlicePorts} from './nat-endpoints.js'
import type {Check} from './types.js'
import type {CheckContext} from './context.js'
import type {ServiceModel} from '../model/cluster.js'
import {hostPort} from '../net/cidr.js'
import {kubeProxyView6} from './kube-proxy-ipv6.js'

export const natMissingService: Check = {
  id: 'nat-missing-service',
  title: "Every Service with ready endpoints has kube-proxy rules on every node",
  severity: 'error',
  requires: ['cluster:services', 'cluster:endpointslices'],
  kubeProxyIptables: true,
  remediation: 'restart kube-proxy on the node and check its logs (RBAC, API connectivity, iptables-restore errors); make sure nothing else flushes the nat table',
  explanation:
    'Each node translates a ClusterIP through its own kube-proxy rules, a dual-stack Service\'s IPv6 ClusterIP through its IPv6 rules (ip6tables, the ip6 kube-proxy nftables table, or IPv6 IPVS virtual services). A Service with ready endpoints but no KUBE-SVC chain on a node is unreachable from that node; endpoints missing from the chain never get traffic from it.',
  run(ctx) {
    const index = ctx.model.index
    const endpoints = readySlicePorts(ctx.model)
    const findings: Finding[] = []
    for (const svc of ctx.cluster().services) {
      findings.push(...ipv6Findings(ctx, svc, endpoints))
      if (svc.type === 'ExternalName' || svc.headless || !svc.clusterIPs.some((ip) => !ip.includes(':'))) continue
      const key = `${svc.namespace}/${svc.name}`
      for (const port of svc.ports) {
        const portName = port.name ? `${key}:${port.name}` : key
        const protocol = port.protocol.toLowerCase()
        const portKey = `${portName}|${protocol}`
        const slicePorts = endpoints.get(portKey)
        if (!hasReadyEndpoint(slicePorts, true)) continue
        // The endpoints as records only when there is something to report.
        let readyList: ReadyEndpoint[] | undefined
        const ready = (): ReadyEndpoint[] => (readyList ??= readyEndpoints(slicePorts, true))
        for (const node of ctx.nodes) {
          const view = index.kubeProxyView(node)
          if (!view) continue
          const rules = view.byKey.get(portKey)
          if (!rules) {
            const first = ready()[0] as ReadyEndpoint
            findings.push(
              ctx.finding({
                subject: {kind: 'service', namespace: svc.namespace, name: svc.name},
                node: node.name,
                message: `${portName} (${protocol}) has ${ready().length} ready endpoint(s) but no kube-proxy rules on ${node.name}`,
                evidence: [apiEvidence(first), {source: view.source, text: absentText(view, portName, protocol, svc.clusterIPs.find((ip) => !ip.includes(':')), port.port)}],
              }),
            )
            continue
          }
          // A rule of the chain is unreadable (iptables-unreadable reports it): which endpoints it DNATs to is not known.
          if (rules.unreadable || everyReadyV4Targeted(slicePorts, rules.targets)) continue
          const absent = ready().filter((e) => !rules.targets.some((t) => t.ip === e.ip && (e.port === undefined || t.port === undefined || t.port === e.port)))
          const missing = absent[0]
          if (!missing) continue
          findings.push(
            ctx.finding({
              subject: {kind: 'service', namespace: svc.namespace, name: svc.name},
              node: node.name,
              message: `${portName} (${protocol}): ${absent.length} ready endpoint(s) absent from ${node.name}'s rules: ${absent.map((e) => e.ip).join(', ')}`,
              evidence: [apiEvidence(missing), {source: view.source, text: rules.rule.text}],
            }),
          )
        }
      }
    }
    return findings
  },
}

function apiEvidence(e: ReadyEndpoint): Evidence {
  return {source: `api: EndpointSlice ${e.slice} ${e.field}`, text: `${hostPort(e.ip, e.port)} ready`}
}

/**
 * A dual-stack (or IPv6-only) Service's IPv6 family: kube-proxy's IPv6 rules in the node's mode
 * (kubeProxyView6: ip6tables, the ip6 kube-proxy table, IPv6 IPVS services) against the IPv6
 * EndpointSlices, per node. A node that has the IPv4 rules but not the IPv6 ones is the usual
 * fault (kube-proxy started before the node had IPv6, or ip6tables-restore failing).
 */
function ipv6Findings(ctx: CheckContext, svc: ServiceModel, endpoints: ReturnType<typeof readySlicePorts>): Finding[] {
  const clusterIP = svc.clusterIPs.find((ip) => ip.includes(':'))
  if (svc.type === 'ExternalName' || svc.headless || !clusterIP) return []
  const out: Finding[] = []
  const key = `${svc.namespace}/${svc.name}`
  for (const port of svc.ports) {
    const portName = port.name ? `${key}:${port.name}` : key
    const protocol = port.protocol.toLowerCase()
    const portKey = `${portName}|${protocol}`
    const ready = readyEndpoints(endpoints.get(portKey), false).filter((e) => e.ip.includes(':'))
    const first = ready[0]
    if (!first) continue
    for (const node of ctx.nodes) {
      const view = kubeProxyView6(ctx.model, node)
      if (!view) continue
      const rules = view.byKey.get(portKey)
      const subject = {kind: 'service' as const, namespace: svc.namespace, name: svc.name}
      if (!rules) {
        const v4 = ctx.model.index.kubeProxyView(node)?.byKey.has(portKey) === true
        out.push(ctx.finding({
          subject, node: node.name, family: 6,
          message: `${portName} (${protocol}) has ${ready.length} ready IPv6 endpoint(s) but no kube-proxy ${rulesOf6(view)} on ${node.name}${v4 ? ' (its IPv4 family has them): IPv6 clients of ' + hostPort(clusterIP, port.port) + ' get nowhere' : ''}`,
          evidence: [apiEvidence(first), {source: view.source, text: view.mode === 'iptables' ? `no -A KUBE-SERVICES rule with comment "${portName} cluster IP" in *nat (for ${clusterIP})` : absentText(view, portName, protocol, clusterIP, port.port)}],
        }))
        continue
      }
      if (rules.unreadable) continue
      const absent = ready.filter((e) => !rules.targets.some((t) => t.ip === e.ip && (e.port === undefined || t.port === undefined || t.port === e.port)))
      const missing = absent[0]
      if (!missing) continue
      out.push(ctx.finding({
        subject, node: node.name, family: 6,
        message: `${portName} (${protocol}): ${absent.length} ready IPv6 endpoint(s) absent from ${node.name}'s ${rulesOf6(view)}: ${absent.map((e) => e.ip).join(', ')}`,
        evidence: [apiEvidence(missing), {source: view.source, text: rules.rule.text}],
      }))
    }
  }
  return out
}

/** kube-proxy's IPv6 rules as named in the node's mode. */
const rulesOf6 = (view: KubeProxyView): string => (view.mode === 'iptables' ? 'ip6tables rules' : view.mode === 'nftables' ? 'ip6 kube-proxy nftables rules' : 'IPv6 IPVS virtual services')

/** What the node's rules would hold for the port, in the layout of its mode, quoted as absent. */
function absentText(view: KubeProxyView, portName: string, protocol: string, clusterIP: string | undefined, port: number): string {
  if (view.mode === 'nftables') return `no element { ${clusterIP ?? '?'} . ${protocol} . ${port} } in map ${clusterIP?.includes(':') ? 'ip6' : 'ip'} kube-proxy service-ips (${portName})`
  if (view.mode === 'ipvs') return `no virtual service ${protocol.toUpperCase()} ${hostPort(clusterIP ?? '?', port)} in ipvsadm (${portName})`
  return `no -A KUBE-SERVICES rule with comment "${portName} cluster IP" in *nat`
}
