import type {Evidence, Finding} from '../report/finding.js'
import {describeRoute} from '../parse/iproute2/routes.js'
import {cniOf} from './cni.js'
import {nodeEvidence} from './evidence.js'
import {hostOf, routedVeths} from './routed-pods.js'
import type {Check} from './types.js'

/** The gateway Calico gives every pod: a link-local address no interface owns, answered by proxy ARP. */
const LINK_LOCAL_GATEWAY = '169.254.1.1'

export const proxyArpOff: Check = {
  id: 'proxy-arp-off',
  title: "Routed pod veths answer ARP for the pods' link-local gateway",
  severity: 'error',
  requires: ['node:links', 'node:routes4', 'node:addrs'],
  remediation: "sysctl -w net.ipv4.conf.IFACE.proxy_arp=1 for the interfaces named; Calico's Felix sets it on every cali* interface, so a veth left without it means Felix did not program that pod (check calico-node on the node) or something reset the sysctl",
  explanation:
    "Calico gives every pod the default route via 169.254.1.1, an address no interface on the node owns, and plugs the pod into a host veth with no address and no bridge (a /32 route back to the pod). The pod reaches anything at all only because the host veth answers its ARP for 169.254.1.1 by proxy: with proxy_arp=0 on that veth (and on conf.all), the pod's first packet waits for an ARP reply that never comes. Needs the proxy_arp sysctls (gathered since this check exists); a node without them is skipped with that reason.",
  run(ctx) {
    const findings: Finding[] = []
    const podsByIp = ctx.model.cluster ? ctx.model.index.podsByIp() : undefined
    for (const node of ctx.nodes) {
      const cni = cniOf(ctx.model, node)
      const calicoNode = cni.cni === 'calico' || cni.cni === 'canal'
      // Pods of other routed CNIs reach the node differently: Cilium answers ARP in eBPF, AWS's and
      // Azure's pods hold a static neighbour entry for their gateway.
      const veths = routedVeths(node).filter((v) => v.link.ifname.startsWith('cali') || calicoNode)
      if (veths.length === 0) continue
      // A node that owns the gateway answers ARP for it on any interface (arp_ignore=0).
      if ((node.addrs ?? []).some((i) => i.addrs.some((a) => a.local === LINK_LOCAL_GATEWAY))) continue
      const proxyArp = node.proxyArp
      if (!proxyArp) {
        const e = node.evidence['proxy-arp']
        const status = !e || e.status === 'absent' ? 'not in the snapshot (gathered by an older knet)' : e.status
        ctx.skip(`proxy-arp ${status} on ${node.name}${e?.reason ? ` (${e.reason})` : ''}, so its ${veths.length} routed pod veth(s) were not checked`)
        continue
      }
      const all = proxyArp.get('all') ?? 0
      if (all !== 0) continue
      for (const v of veths) {
        const value = proxyArp.get(v.link.ifname)
        if (value === undefined) {
          ctx.skip(`${v.link.ifname} on ${node.name} is not in the proxy_arp output (created after it was read?)`)
          continue
        }
        if (value !== 0) continue
        const ips = v.routes.map(hostOf)
        const pods = ips.flatMap((ip) => podsByIp?.get(ip) ?? [])
        const pod = pods[0]
        const podName = pod ? `pod ${pod.namespace}/${pod.name} (${ips.join(', ')})` : `the pod at ${ips.join(', ')}`
        const evidence: Evidence[] = [
          nodeEvidence(node, 'proxy-arp', `/proc/sys/net/ipv4/conf/${v.link.ifname}/proxy_arp:${value}`),
          nodeEvidence(node, 'proxy-arp', `/proc/sys/net/ipv4/conf/all/proxy_arp:${all}`),
          ...v.routes.slice(0, 2).map((r) => nodeEvidence(node, r.family === 4 ? 'routes4' : 'routes6', describeRoute(r))),
        ]
        findings.push(
          ctx.finding({
            subject: pod ? {kind: 'pod', namespace: pod.namespace, name: pod.name} : {kind: 'node', name: node.name},
            node: node.name,
            message: `proxy_arp is 0 on ${v.link.ifname}, the routed host veth of ${podName}: nothing answers the pod's ARP for its gateway ${LINK_LOCAL_GATEWAY}, so it can send nothing`,
            evidence,
          }),
        )
      }
    }
    return findings
  },
}
