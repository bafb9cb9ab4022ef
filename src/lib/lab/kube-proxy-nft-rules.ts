/**
 * Writes the `nft -f` input kube-proxy's nftables mode (v1.36, pkg/proxy/nftables/proxier.go) would
 * leave on one node for a model of Services and endpoints: one `ip kube-proxy` table, dispatch by
 * the `service-ips` / `service-nodeports` verdict maps, one `service-HASH-ns/name/proto/port` chain
 * per Service port whose single rule DNATs by `numgen random mod N map { … }`, `external-` and
 * `local-` chains for NodePorts, drop/reject through `no-endpoint-services` / `no-endpoint-nodeports`,
 * masquerading by mark 0x4000. The tests load it into namespaces and compare the evaluator with the
 * kernel; the benchmarks use it for 10k-Service rulesets. Pure, deterministic, linear.
 *
 * Differences from kube-proxy: the whole table in one transaction (kube-proxy adds elements in the
 * same transaction too), and session affinity is not modelled.
 */
import {createHash} from 'node:crypto'
import {servicePortName, type KubeProxyModel, type ServiceModel, type ServicePortModel} from './kube-proxy-rules.js'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** First 8 characters of Go's base32.StdEncoding of sha256(name) (5 bytes = 8 characters). */
function hash8(name: string): string {
  const bytes = createHash('sha256').update(name).digest()
  let out = ''
  let buffer = 0
  let bits = 0
  for (let i = 0; i < 5; i++) {
    buffer = (buffer << 8) | (bytes[i] as number)
    bits += 8
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
    buffer &= (1 << bits) - 1
  }
  return out
}

/** kube-proxy's servicePortChainNameBase: "HASH-ns/name/proto/port". */
export function nftChainBase(svc: Pick<ServiceModel, 'namespace' | 'name'>, port: Pick<ServicePortModel, 'name' | 'protocol'>): string {
  const name = `${svc.namespace}/${svc.name}/${port.protocol.toLowerCase()}/${port.name}`
  return `${hash8(name)}-${name}`
}

const MASQ = 'mark set mark or 0x4000'

export interface NftKubeProxyOptions {
  /** The node's addresses for `nodeport-ips` (kube-proxy's default --nodeport-addresses=primary). */
  nodeIPs?: string[]
  /** Service CIDR for cluster-ips-check's drop rule. Default 10.96.0.0/12. */
  serviceCIDR?: string
}

/** The `nft -f` text for one IPv4 node. */
export function kubeProxyNftRules(model: KubeProxyModel, options: NftKubeProxyOptions = {}): string {
  const nodeIPs = options.nodeIPs ?? model.nodeIPs ?? []
  const out: string[] = []
  const elements: string[] = []
  const podCIDR = model.clusterCIDR
  out.push(
    'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
    'add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }',
    'add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }',
    'add set ip kube-proxy hairpin-connections { type ipv4_addr . ipv4_addr . inet_proto . inet_service ; comment "service hairpin connections" ; }',
    'add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }',
    'add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }',
    'add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }',
    'add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }',
    'add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }',
    'add chain ip kube-proxy cluster-ips-check',
    'add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }',
    'add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }',
    'add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }',
    'add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }',
    'add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }',
    'add chain ip kube-proxy firewall-check',
    'add chain ip kube-proxy masquerading',
    'add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }',
    'add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }',
    'add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }',
    'add chain ip kube-proxy nodeport-endpoints-check',
    'add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }',
    'add chain ip kube-proxy services',
    'add chain ip kube-proxy service-endpoints-check',
    'add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
    `add rule ip kube-proxy cluster-ips-check ip daddr { ${options.serviceCIDR ?? '10.96.0.0/12'} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    'add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check',
    'add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check',
    'add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check',
    'add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check',
    'add rule ip kube-proxy filter-input ct state new jump service-endpoints-check',
    'add rule ip kube-proxy filter-output ct state new jump service-endpoints-check',
    'add rule ip kube-proxy filter-output-pre-dnat ct state new jump firewall-check',
    'add rule ip kube-proxy filter-output ct state new jump cluster-ips-check',
    'add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips',
    'add rule ip kube-proxy masquerading mark and 0x4000 != 0 mark set mark xor 0x4000 masquerade fully-random',
    'add rule ip kube-proxy masquerading ct status dnat ip saddr . ip daddr . meta l4proto . th dport @hairpin-connections masquerade fully-random',
    'add rule ip kube-proxy nat-output jump services',
    'add rule ip kube-proxy nat-postrouting jump masquerading',
    'add rule ip kube-proxy nat-prerouting jump services',
    'add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports',
    'add rule ip kube-proxy reject-chain reject',
    ...(podCIDR ? [`add rule ip kube-proxy services ip daddr @cluster-ips ip saddr != ${podCIDR} ${MASQ} comment "masquerade clusterIP traffic from outside cluster"`] : []),
    'add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips',
    'add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports',
    'add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services',
  )
  if (nodeIPs.length) elements.push(`add element ip kube-proxy nodeport-ips { ${nodeIPs.join(', ')} }`)
  const hairpins = new Set<string>()
  for (const svc of model.services) {
    const ready = svc.endpoints.filter((e) => e.ready !== false)
    const local = ready.filter((e) => e.nodeName !== undefined && e.nodeName === model.nodeName)
    const localPolicy = svc.externalTrafficPolicy === 'Local'
    elements.push(`add element ip kube-proxy cluster-ips { ${svc.clusterIP} }`)
    for (const port of svc.ports) {
      const proto = port.protocol.toLowerCase()
      const base = nftChainBase(svc, port)
      const spn = servicePortName(svc, port)
      const svcChain = `service-${base}`
      const extChain = `external-${base}`
      const localChain = `local-${base}`
      const hasExternal = localPolicy ? local.length > 0 : ready.length > 0
      if (ready.length === 0) {
        elements.push(`add element ip kube-proxy no-endpoint-services { ${svc.clusterIP} . ${proto} . ${port.port} comment "${spn}" : goto reject-chain }`)
        if (port.nodePort) elements.push(`add element ip kube-proxy no-endpoint-nodeports { ${proto} . ${port.nodePort} comment "${spn}" : goto reject-chain }`)
        continue
      }
      out.push(`add chain ip kube-proxy ${svcChain}`, dnatRule(svcChain, proto, ready.map((e) => `${e.ip} . ${port.targetPort}`)))
      elements.push(`add element ip kube-proxy service-ips { ${svc.clusterIP} . ${proto} . ${port.port} : goto ${svcChain} }`)
      for (const e of ready) {
        const h = `${e.ip} . ${e.ip} . ${proto} . ${port.targetPort}`
        if (!hairpins.has(h)) {
          hairpins.add(h)
          elements.push(`add element ip kube-proxy hairpin-connections { ${h} }`)
        }
      }
      if (!port.nodePort) continue
      out.push(`add chain ip kube-proxy ${extChain}`)
      elements.push(`add element ip kube-proxy service-nodeports { ${proto} . ${port.nodePort} : goto ${extChain} }`)
      if (!localPolicy) {
        out.push(`add rule ip kube-proxy ${extChain} ${MASQ} comment "masquerade"`, `add rule ip kube-proxy ${extChain} goto ${svcChain}`)
        continue
      }
      if (podCIDR) out.push(`add rule ip kube-proxy ${extChain} ip saddr ${podCIDR} goto ${svcChain} comment "short-circuit pod traffic"`)
      out.push(
        `add rule ip kube-proxy ${extChain} fib saddr type local ${MASQ} comment "masquerade local traffic"`,
        `add rule ip kube-proxy ${extChain} fib saddr type local goto ${svcChain} comment "short-circuit local traffic"`,
      )
      if (hasExternal) {
        out.push(`add chain ip kube-proxy ${localChain}`, dnatRule(localChain, proto, local.map((e) => `${e.ip} . ${port.targetPort}`)), `add rule ip kube-proxy ${extChain} goto ${localChain}`)
      } else {
        elements.push(`add element ip kube-proxy no-endpoint-nodeports { ${proto} . ${port.nodePort} comment "${spn}" : drop }`)
      }
    }
  }
  return [...out, ...elements, ''].join('\n')
}

function dnatRule(chain: string, proto: string, targets: string[]): string {
  const map = targets.map((t, i) => `${i} : ${t}`).join(', ')
  return `add rule ip kube-proxy ${chain} meta l4proto ${proto} dnat ip addr . port to numgen random mod ${targets.length} map { ${map} }`
}
