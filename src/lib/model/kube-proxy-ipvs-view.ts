/**
 * kube-proxy's IPVS-mode view of Services on one node (pkg/proxy/ipvs): one virtual service per
 * ClusterIP:port, per external and load-balancer IP, and per node address for a NodePort, each with
 * its endpoints as masquerading real servers of weight 1. A real server of weight 0 is an endpoint
 * kube-proxy is draining (graceful termination): IPVS schedules nothing new to it, so it is not a
 * DNAT target. A Service port without endpoints keeps its virtual service, with no real servers.
 *
 * IPVS has no comments: a virtual service is tied to its Service by address, port and protocol,
 * from the cluster state. One that no Service has is an orphan.
 *
 * Both families share one IPVS table (`ipvsadm -S -n` writes IPv6 as `[addr]:port`); dual-stack
 * kube-proxy runs one proxier per family, so the view is read per family, like ip6tables next to
 * iptables: a Service's IPv6 ClusterIP is judged against its IPv6 endpoints only.
 */
import type {ClusterModel} from './cluster.js'
import type {Family} from '../net/cidr.js'
import type {IpvsRealServer, IpvsVirtualService} from '../parse/ipvsadm.js'
import type {NodeDatapath} from './node.js'
import type {KubeProxyRule, KubeProxyServicePort, KubeProxyTarget, KubeProxyView} from './model.js'

export type IpvsRole = 'cluster-ip' | 'external-ip' | 'load-balancer' | 'node-port'

export interface IpvsServiceRef {
  /** kube-proxy's ServicePortName: "ns/name:port", or "ns/name" for an unnamed port. */
  portName: string
  namespace: string
  name: string
  port: string
  protocol: string
  role: IpvsRole
}

const FLAG: Record<string, string> = {tcp: '-t', udp: '-u', sctp: '--sctp-service', fwmark: '-f'}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
}

function serviceArg(vs: IpvsVirtualService): string {
  return vs.protocol === 'fwmark' ? `-f ${vs.fwmark ?? ''}` : `${FLAG[vs.protocol] ?? '-t'} ${hostPort(vs.address ?? '', vs.port ?? 0)}`
}

/** The virtual service's line as `ipvsadm -S -n` prints it (the format is canonical, so this is the line it printed). */
export function ipvsServiceText(vs: IpvsVirtualService): string {
  return [`-A ${serviceArg(vs)} -s ${vs.scheduler}`, ...(vs.persistent === null ? [] : [`-p ${vs.persistent}`]), ...(vs.netmask === null ? [] : [`-M ${vs.netmask}`]), ...(vs.flags.length ? [`-b ${vs.flags.join(',')}`] : [])].join(' ')
}

/** A real server's line as `ipvsadm -S -n` prints it. */
export function ipvsRealServerText(vs: IpvsVirtualService, rs: IpvsRealServer): string {
  const fwd = rs.forwarding === 'masq' ? '-m' : rs.forwarding === 'tunnel' ? '-i' : '-g'
  const thresholds = [...(rs.upperThreshold === null ? [] : [`-x ${rs.upperThreshold}`]), ...(rs.lowerThreshold === null ? [] : [`-y ${rs.lowerThreshold}`])]
  return [`-a ${serviceArg(vs)} -r ${hostPort(rs.address, rs.port)} ${fwd} -w ${rs.weight}`, ...thresholds].join(' ')
}

/** "TCP 10.96.0.80:80", as `ipvsadm -Ln` heads a virtual service. */
export function ipvsServiceLabel(vs: IpvsVirtualService): string {
  return vs.protocol === 'fwmark' ? `FWM ${vs.fwmark ?? ''}` : `${vs.protocol.toUpperCase()} ${hostPort(vs.address ?? '', vs.port ?? 0)}`
}

const indexes = new WeakMap<ClusterModel, (vs: IpvsVirtualService) => IpvsServiceRef | undefined>()

/**
 * Which Service port a virtual service implements: by ClusterIP, external IP or load-balancer IP
 * with the Service port, else by NodePort (on whichever node address: kube-proxy makes one per address).
 */
export function ipvsServiceResolver(cluster: ClusterModel | undefined): (vs: IpvsVirtualService) => IpvsServiceRef | undefined {
  if (!cluster) return () => undefined
  const known = indexes.get(cluster)
  if (known) return known
  const byAddress = new Map<string, IpvsServiceRef>()
  const byNodePort = new Map<string, IpvsServiceRef>()
  for (const svc of cluster.services) {
    if (svc.type === 'ExternalName' || svc.headless) continue
    for (const p of svc.ports) {
      const base = `${svc.namespace}/${svc.name}`
      const protocol = p.protocol.toLowerCase()
      const ref = (role: IpvsRole): IpvsServiceRef => ({portName: p.name ? `${base}:${p.name}` : base, namespace: svc.namespace, name: svc.name, port: p.name ?? '', protocol, role})
      const add = (ip: string | undefined, role: IpvsRole) => {
        const key = `${protocol}|${ip ?? ''}|${p.port}`
        if (ip && !byAddress.has(key)) byAddress.set(key, ref(role))
      }
      for (const ip of svc.clusterIPs) add(ip, 'cluster-ip')
      for (const ip of svc.externalIPs) add(ip, 'external-ip')
      for (const ing of svc.loadBalancerIngress) add(ing.ip, 'load-balancer')
      if (p.nodePort !== undefined && !byNodePort.has(`${protocol}|${p.nodePort}`)) byNodePort.set(`${protocol}|${p.nodePort}`, ref('node-port'))
    }
  }
  const resolve = (vs: IpvsVirtualService): IpvsServiceRef | undefined => {
    if (vs.protocol === 'fwmark' || vs.address === null || vs.port === null) return undefined
    return byAddress.get(`${vs.protocol}|${vs.address}|${vs.port}`) ?? byNodePort.get(`${vs.protocol}|${vs.port}`)
  }
  indexes.set(cluster, resolve)
  return resolve
}

/** Whether the node shows IPVS mode: kube-ipvs0, or virtual services. */
function ipvsMode(node: NodeDatapath): boolean {
  return (node.ipvs?.services.length ?? 0) > 0 || (node.links?.some((l) => l.ifname === 'kube-ipvs0') ?? false)
}

/** The family a virtual service belongs to: its address's (fwmark services, which kube-proxy does not make, count as IPv4). */
function serviceFamily(vs: IpvsVirtualService): Family {
  return vs.address !== null && vs.address.includes(':') ? 6 : 4
}

export function readKubeProxyIpvsView(node: NodeDatapath, cluster?: ClusterModel, family: Family = 4): KubeProxyView | undefined {
  const table = node.ipvs
  if (!table || !ipvsMode(node)) return undefined
  const source = node.evidence.ipvsadm?.source ?? `${node.name}: ipvsadm -S -n`
  const resolve = ipvsServiceResolver(cluster)
  const ports: KubeProxyServicePort[] = []
  const byKey = new Map<string, KubeProxyServicePort>()
  const orphans: NonNullable<KubeProxyView['orphans']> = []
  for (const vs of table.services) {
    if (serviceFamily(vs) !== family) continue
    const rule: KubeProxyRule = {text: ipvsServiceText(vs), line: vs.line}
    const ref = resolve(vs)
    if (!ref) {
      orphans.push({what: `IPVS virtual service ${ipvsServiceLabel(vs)}`, rule})
      continue
    }
    const chain = ipvsServiceLabel(vs)
    const targets: KubeProxyTarget[] = vs.realServers
      .filter((rs) => rs.weight > 0)
      .map((rs) => ({ip: rs.address, port: rs.port, chain, rule: {text: ipvsRealServerText(vs, rs), line: rs.line}}))
    const entry: KubeProxyServicePort = {
      portName: ref.portName, namespace: ref.namespace, name: ref.name, port: ref.port, protocol: ref.protocol,
      ...(ref.role === 'cluster-ip' && vs.address ? {clusterIP: vs.address} : {}), chain, rule, targets,
    }
    ports.push(entry)
    const key = `${ref.portName}|${ref.protocol}`
    // byKey answers "does this node implement the Service's ClusterIP": its ClusterIP virtual service.
    if (ref.role === 'cluster-ip' && !byKey.has(key)) byKey.set(key, entry)
  }
  return {node: node.name, source, mode: 'ipvs', ports, byKey, noEndpoints: [], orphans}
}
