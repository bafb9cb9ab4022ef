/**
 * Writes the iptables-restore input that kube-proxy's iptables mode (1.28+) would install on one
 * node for a small model of Services and endpoints. The lab uses it to make real packets to a
 * ClusterIP reach a pod, and the benchmarks use it for 1k–10k-Service dumps, so it is pure,
 * deterministic and linear (string pieces joined once).
 *
 * Deliberate differences from kube-proxy's own restore payload, each so one file loads a whole node:
 * - built-in chains are declared and the jumps into KUBE-* chains (which kube-proxy adds with
 *   separate `iptables -I` calls) are included, so a plain `iptables-restore` suffices;
 * - each rule's flags are in the order iptables-save prints them, and addresses carry /32 (/128),
 *   so a generated dump reads like a captured one. Only probabilities keep kube-proxy's `%0.10f`
 *   ("0.3333333333"); iptables-save prints the kernel's rounding back ("0.33333333349").
 */
import {createHash} from 'node:crypto'

export type KubeProtocol = 'TCP' | 'UDP' | 'SCTP'

export interface EndpointModel {
  ip: string
  /** Only ready endpoints get rules (kube-proxy's terminating-endpoint fallback is not modelled). Default true. */
  ready?: boolean
  /** The node the endpoint's pod runs on; compared with KubeProxyModel.nodeName for Local policy. */
  nodeName?: string
}

export interface ServicePortModel {
  /** The port's name; "" for an unnamed single port. */
  name: string
  port: number
  protocol: KubeProtocol
  /** The endpoint port (numeric targetPort). */
  targetPort: number
  nodePort?: number
}

export interface ServiceModel {
  namespace: string
  name: string
  clusterIP: string
  ports: ServicePortModel[]
  externalTrafficPolicy?: 'Cluster' | 'Local'
  endpoints: EndpointModel[]
}

export interface KubeProxyModel {
  /** Pod CIDR of the cluster (kube-proxy --cluster-cidr); enables the "! -s CIDR … -j KUBE-MARK-MASQ" rules. */
  clusterCIDR?: string
  /** The node these rules are for: decides which endpoints are local for externalTrafficPolicy Local. */
  nodeName?: string
  /** kube-proxy --nodeport-addresses; when absent NodePorts match any local address (addrtype LOCAL). */
  nodeIPs?: string[]
  services: ServiceModel[]
  /**
   * The family these rules are for (dual-stack kube-proxy runs one proxier per family: iptables and
   * ip6tables, the same chain layout). Default: that of the first Service's ClusterIP, else 4.
   */
  ipFamily?: 4 | 6
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** RFC 4648 base32 of the first 10 bytes = the first 16 characters of Go's base32.StdEncoding. */
function base32Prefix16(bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (let i = 0; i < 10; i++) {
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

/**
 * kube-proxy's portProtoHash: base32(sha256(servicePortName + protocol))[:16], where servicePortName
 * is ServicePortName.String() ("ns/name:port", or "ns/name" for an unnamed port) and protocol is
 * lower case ("tcp"). The well-known default/kubernetes:https tcp gives KUBE-SVC-NPX46M4PTMTKRN6Y.
 */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return base32Prefix16(createHash('sha256').update(servicePortName + protocol.toLowerCase()).digest())
}

export function serviceChainName(prefix: 'KUBE-SVC-' | 'KUBE-SVL-' | 'KUBE-EXT-' | 'KUBE-FW-', servicePortName: string, protocol: string): string {
  return prefix + portProtoHash(servicePortName, protocol)
}

/** KUBE-SEP-: the same hash over servicePortName + protocol + endpoint, endpoint being "ip:port" ("[v6]:port"). */
export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return 'KUBE-SEP-' + base32Prefix16(createHash('sha256').update(servicePortName + protocol.toLowerCase() + endpoint).digest())
}

export function servicePortName(svc: Pick<ServiceModel, 'namespace' | 'name'>, port: Pick<ServicePortModel, 'name'>): string {
  return `${svc.namespace}/${svc.name}${port.name ? `:${port.name}` : ''}`
}

function isV6(ip: string): boolean {
  return ip.includes(':')
}

function host(ip: string): string {
  return `${ip}/${isV6(ip) ? 128 : 32}`
}

function hostPort(ip: string, port: number): string {
  return isV6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`
}

/** kube-proxy prints probabilities with fmt "%0.10f". */
function probability(n: number): string {
  return (1 / n).toFixed(10)
}

const MASQ_MARK = '0x4000'
const NODEPORTS_COMMENT = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"'

export function kubeProxyIptablesRules(model: KubeProxyModel): string {
  const v6 = (model.ipFamily ?? (model.services[0] && isV6(model.services[0].clusterIP) ? 6 : 4)) === 6
  const reject = v6 ? 'icmp6-port-unreachable' : 'icmp-port-unreachable'
  const natChains: string[] = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']
  const nat: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ]
  const natServices: string[] = []
  const natNodePorts: string[] = []
  const natPerService: string[] = []
  const filterServices: string[] = []
  const filterExternal: string[] = []
  const cidr = model.clusterCIDR

  for (const svc of model.services) {
    const local = svc.externalTrafficPolicy === 'Local'
    const ready = svc.endpoints.filter((e) => e.ready !== false)
    const localReady = ready.filter((e) => model.nodeName !== undefined && e.nodeName === model.nodeName)
    for (const port of svc.ports) {
      const spn = servicePortName(svc, port)
      const proto = port.protocol.toLowerCase()
      const svcChain = serviceChainName('KUBE-SVC-', spn, proto)
      const dst = `-d ${host(svc.clusterIP)} -p ${proto}`
      const dport = `-m ${proto} --dport ${port.port}`

      if (ready.length === 0) {
        // No endpoints at all: the filter table REJECTs so clients fail fast instead of timing out.
        filterServices.push(`-A KUBE-SERVICES ${dst} -m comment --comment "${spn} has no endpoints" ${dport} -j REJECT --reject-with ${reject}`)
        if (port.nodePort !== undefined) {
          filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -p ${proto} -m comment --comment "${spn} has no endpoints" -m addrtype --dst-type LOCAL -m ${proto} --dport ${port.nodePort} -j REJECT --reject-with ${reject}`)
        }
        continue
      }

      natChains.push(svcChain)
      natServices.push(`-A KUBE-SERVICES ${dst} -m comment --comment "${spn} cluster IP" ${dport} -j ${svcChain}`)
      if (cidr !== undefined) {
        natPerService.push(`-A ${svcChain} ! -s ${cidr} ${dst} -m comment --comment "${spn} cluster IP" ${dport} -j KUBE-MARK-MASQ`)
      }
      const sepChains = new Map<EndpointModel, string>()
      for (const ep of ready) sepChains.set(ep, endpointChainName(spn, proto, hostPort(ep.ip, port.targetPort)))
      const balance = (chain: string, eps: EndpointModel[]): void => {
        eps.forEach((ep, i) => {
          const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : ''
          natPerService.push(`-A ${chain} -m comment --comment "${spn} -> ${hostPort(ep.ip, port.targetPort)}"${stat} -j ${sepChains.get(ep)}`)
        })
      }
      balance(svcChain, ready)

      if (port.nodePort !== undefined) {
        const extChain = serviceChainName('KUBE-EXT-', spn, proto)
        if (local && localReady.length === 0) {
          // Local policy with no endpoint on this node: current kube-proxy DROPs in the filter table
          // (nat cannot DROP), and writes no KUBE-EXT chain or KUBE-NODEPORTS rule.
          filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -p ${proto} -m comment --comment "${spn} has no local endpoints" -m addrtype --dst-type LOCAL -m ${proto} --dport ${port.nodePort} -j DROP`)
        } else {
          natChains.push(extChain)
          natNodePorts.push(`-A KUBE-NODEPORTS -p ${proto} -m comment --comment "${spn}" -m ${proto} --dport ${port.nodePort} -j ${extChain}`)
          if (local) {
            const svlChain = serviceChainName('KUBE-SVL-', spn, proto)
            natChains.push(svlChain)
            if (cidr !== undefined) natPerService.push(`-A ${extChain} -s ${cidr} -m comment --comment "pod traffic for ${spn} external destinations" -j ${svcChain}`)
            natPerService.push(
              `-A ${extChain} -m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
              `-A ${extChain} -m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${svcChain}`,
              `-A ${extChain} -j ${svlChain}`,
            )
            balance(svlChain, localReady)
          } else {
            natPerService.push(
              `-A ${extChain} -m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`,
              `-A ${extChain} -j ${svcChain}`,
            )
          }
        }
      }

      for (const ep of ready) {
        const sep = sepChains.get(ep) as string
        natChains.push(sep)
        natPerService.push(
          `-A ${sep} -s ${host(ep.ip)} -m comment --comment "${spn}" -j KUBE-MARK-MASQ`,
          `-A ${sep} -p ${proto} -m comment --comment "${spn}" -m ${proto} -j DNAT --to-destination ${hostPort(ep.ip, port.targetPort)}`,
        )
      }
    }
  }

  if (model.nodeIPs && model.nodeIPs.length > 0) {
    for (const ip of model.nodeIPs) natServices.push(`-A KUBE-SERVICES -d ${host(ip)} -m comment --comment ${NODEPORTS_COMMENT} -j KUBE-NODEPORTS`)
  } else {
    natServices.push(`-A KUBE-SERVICES -m comment --comment ${NODEPORTS_COMMENT} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`)
  }

  const out: string[] = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':KUBE-EXTERNAL-SERVICES - [0:0]',
    ':KUBE-FIREWALL - [0:0]',
    ':KUBE-FORWARD - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-PROXY-FIREWALL - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A INPUT -j KUBE-FIREWALL',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -j KUBE-FIREWALL',
    // route_localnet would otherwise let remote hosts reach 127.0.0.0/8 services through NodePorts
    // (IPv4 only: IPv6 has no route_localnet, and kube-proxy writes no such rule for it).
    ...(v6 ? [] : ['-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP']),
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ...filterServices,
    ...filterExternal,
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...natChains.map((c) => `:${c} - [0:0]`),
    ...nat,
    ...natServices,
    ...natNodePorts,
    ...natPerService,
    'COMMIT',
    '',
  ]
  return out.join('\n')
}
