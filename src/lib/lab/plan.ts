/**
 * The lab's plan: every namespace, interface, address, MAC, route, pod, port and Service of a lab,
 * computed from four parameters. Pure and deterministic, so tests, `status`, `probe` and the
 * faults to come all read the same answer, and `build.ts` only has to carry it out.
 *
 * Address plan:
 *   underlay   10.100.0.0/24, router .1, node i (1-based) at .(i+1), one L2 segment (a bridge in
 *              the router namespace)
 *   pods       clusterCIDR 10.244.0.0/16, node i owns 10.244.i.0/24, gateway .1 on cbr0, pods .2…
 *   Services   10.96.0.0/16: not kubeadm's /12, which holds the underlay's 10.100.0.0/24 (a real
 *              kube-proxy in nftables mode drops new connections to that whole range, node IPs too)
 *   vxlan      flannel.1 on each node, VNI 1, UDP 8472, address 10.244.i.0/32, MTU 1450
 *   ptp        kindnet's layout (the CNI ptp plugin): no bridge; each pod's host-side veth carries
 *              the gateway 10.244.i.1/32 and the node routes each pod's /32 to it; the pod has
 *              ip/24 with a route to the gateway /32 on eth0, the subnet and default via it; other
 *              nodes' pod CIDRs are routed via their underlay IPs, as host-gw
 *   calico-vxlan Calico's documented layout (VXLAN mode, Calico IPAM): node i holds the IPAM block
 *              10.244.(100+i).64/26 — deliberately not its spec.podCIDR 10.244.i.0/24, which
 *              Calico ignores — with a blackhole route for it; pods are .65… with ip/32 on eth0,
 *              "169.254.1.1 dev eth0 scope link" and "default via 169.254.1.1 dev eth0", on host
 *              veths cali<11 hex> (MAC ee:ee:ee:ee:ee:ee, no address, proxy_arp=1, rp_filter=1,
 *              as Felix sets them) with a scope-link /32 route each; vxlan.calico (VNI 4096, UDP
 *              4789, MTU 1450) holds the block's first address .64/32 and reaches each remote
 *              block by "BLOCK via REMOTE-TUNNEL-IP dev vxlan.calico onlink" plus a permanent
 *              neighbour and an FDB entry for the remote VTEP, as Felix programs them
 *   aws-vpc    the AWS VPC CNI's layout: pods take addresses of the underlay (the VPC subnet) on
 *              eni* veths with per-pod rules and a second ENI with its own table (plan-aws.ts)
 */
import {createHash} from 'node:crypto'
import {badInput} from '../report/errors.js'
import {applyIpFamilies} from './plan-ipv6.js'
import {awsVpcLayout, type AwsNodePlan, type AwsPodPlan} from './plan-aws.js'

export const TOPOLOGIES = ['host-gw', 'vxlan', 'ptp', 'calico-vxlan', 'aws-vpc'] as const
export type Topology = (typeof TOPOLOGIES)[number]

export const IP_FAMILIES = ['ipv4', 'ipv6', 'dual'] as const
export type IpFamilyChoice = (typeof IP_FAMILIES)[number]
/** An address family as a number: 4 or 6. */
export type Family = 4 | 6
/** Topologies that can carry IPv6 (flannel's host-gw and vxlan backends both do). */
export const IPV6_TOPOLOGIES: readonly Topology[] = ['host-gw', 'vxlan']

export interface LabParams {
  name: string
  nodes: number
  podsPerNode: number
  topology: Topology
  /** Absent: ipv4 (labs made before IPv6 existed read the same). */
  ipFamily?: IpFamilyChoice
}

export const LAB_DEFAULTS: LabParams = {name: 'knet', nodes: 2, podsPerNode: 2, topology: 'host-gw'}
export const MIN_NODES = 2
export const MAX_NODES = 8
export const MAX_PODS_PER_NODE = 16

export const UNDERLAY_CIDR = '10.100.0.0/24'
export const UNDERLAY_GATEWAY = '10.100.0.1'
export const CLUSTER_CIDR = '10.244.0.0/16'
export const SERVICE_CIDR = '10.96.0.0/16'
export const UNDERLAY_MTU = 1500
export const VXLAN_OVERHEAD = 50
export const VXLAN = {device: 'flannel.1', vni: 1, port: 8472} as const
/** IPv6 ranges: kind's dual-stack defaults for pods and Services, a ULA /64 for the underlay. */
export const CLUSTER_CIDR6 = 'fd00:10:244::/56'
export const SERVICE_CIDR6 = 'fd00:10:96::/112'
export const UNDERLAY_CIDR6 = 'fd00:10:100::/64'
export const UNDERLAY_GATEWAY6 = 'fd00:10:100::1'
/** flannel's IPv6 VXLAN device: a second device, same VNI and port, IPv6 underlay (70 bytes of headers). */
export const VXLAN6 = {device: 'flannel-v6.1', vni: 1, port: 8472} as const
export const VXLAN6_OVERHEAD = 70
export const CALICO_VXLAN = {device: 'vxlan.calico', vni: 4096, port: 4789} as const
/** The gateway Calico gives every pod: no interface has it; the host veth answers ARP for it by proxy. */
export const CALICO_POD_GATEWAY = '169.254.1.1'
/** Felix gives every cali* host veth this MAC. */
export const CALICO_HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee'

export type Protocol = 'TCP' | 'UDP'

export interface RoutePlan {
  /** Stable id a fault can name, e.g. "node-1/pod-cidr/node-2". */
  id: string
  /** The node whose routing table holds it ("router" for the underlay router). */
  owner: string
  dst: string
  via?: string
  dev: string
  onlink?: boolean
  /** `scope host`, as the CNI ptp plugin adds its per-pod routes (Calico's: scope link). */
  scope?: 'host' | 'link'
  /** What the route is for: a fault removes one kind on purpose. */
  purpose: 'default' | 'pod-cidr' | 'pod'
  /** For pod-cidr routes: the node that owns dst. */
  toNode?: string
  /** For pod routes (ptp): the pod whose /32 it is. */
  toPod?: string
  /** 6 for an IPv6 route (absent: IPv4). */
  family?: 6
}

/** A route inside a pod (the CNI plugin installs them): dst, and a gateway or on-link on eth0. */
export interface PodRoutePlan {
  dst: string
  via?: string
  dev: string
  scope?: 'link'
  src?: string
}

export interface FdbPlan {
  mac: string
  dev: string
  dst: string
  toNode: string
}

export interface NeighbourPlan {
  ip: string
  mac: string
  dev: string
  toNode: string
}

/** A node's IPv6 side (dual-stack and IPv6-only labs). */
export interface NodePlan6 {
  underlayIp: string
  podCIDR: string
  /** cbr0's IPv6 address (::1 of the node's /64), the pods' IPv6 gateway. */
  podGateway: string
  /** flannel-v6.1 (vxlan topology). */
  vxlan?: VxlanPlan
}

export interface VxlanPlan {
  device: string
  vni: number
  port: number
  mac: string
  /** flannel puts the pod CIDR's network address (.0/32) on the VTEP. */
  ip: string
  local: string
  mtu: number
}

export interface NodePlan {
  name: string
  index: number
  netns: string
  underlayIp: string
  underlayMac: string
  /** The node's eth0 peer inside the router namespace. */
  routerPort: string
  podCIDR: string
  /** Calico: the node's IPAM block (not its podCIDR), with a blackhole route for it. */
  ipamBlock?: string
  /** The pod bridge (cbr0); absent with ptp and Calico, where each pod has its own routed veth. */
  bridge?: {name: string; ip: string; prefix: number; mac: string; mtu: number}
  /** The address pods route through: cbr0's, or (ptp) the /32 on every host-side veth. */
  podGateway: string
  vxlan?: VxlanPlan
  routes: RoutePlan[]
  fdb: FdbPlan[]
  neighbours: NeighbourPlan[]
  /** Present when the lab carries IPv6. */
  v6?: NodePlan6
  /** aws-vpc: the node's ENIs and per-pod rules (plan-aws.ts). */
  aws?: AwsNodePlan
}

export interface ContainerPortPlan {
  name: string
  port: number
  protocol: Protocol
}

export interface PodPlan {
  namespace: string
  name: string
  node: string
  netns: string
  ip: string
  mac: string
  mtu: number
  gateway: string
  /** The node-side veth: a port of cbr0, or (ptp) routed, holding the gateway /32, or (Calico) routed cali*, with no address. */
  hostVeth: string
  /** Calico: the host veth's MAC (Felix sets ee:ee:ee:ee:ee:ee on every one) and its sysctls. */
  hostVethMac?: string
  hostVethSysctls?: Record<string, string>
  /** eth0's prefix length (ptp too: ip/24, with the subnet routed via the gateway). */
  prefix: number
  /** The pod's routes besides the connected one (ptp: the connected subnet route is replaced by these). */
  routes: PodRoutePlan[]
  labels: Record<string, string>
  ports: ContainerPortPlan[]
  /** The pod's IPv6 address (a /64 on eth0, default route via the node's cbr0 ::1). */
  ip6?: string
  /** aws-vpc: the ENI holding the pod's address, and the MAC its gateway's neighbour entry names (plan-aws.ts). */
  aws?: AwsPodPlan
}

export interface ServicePortPlan {
  name: string
  port: number
  targetPort: number
  targetPortName: string
  protocol: Protocol
  nodePort?: number
}

export interface EndpointPlan {
  pod: string
  ip: string
  node: string
  ip6?: string
}

export interface ServicePlan {
  namespace: string
  name: string
  type: 'ClusterIP' | 'NodePort'
  clusterIP: string
  ports: ServicePortPlan[]
  selector: Record<string, string>
  endpoints: EndpointPlan[]
  /** The IPv6 ClusterIP (dual-stack and IPv6-only labs). */
  clusterIP6?: string
}

export interface RouterPlan {
  netns: string
  bridge: string
  ip: string
  prefix: number
  mac: string
  routes: RoutePlan[]
  /** br0's IPv6 address (the nodes' IPv6 default gateway). */
  ip6?: string
}

export interface LabPlan {
  params: LabParams
  /** Every namespace of this lab starts with it; nothing else is ever touched. */
  prefix: string
  /** Every process of this lab carries it in its argv (see processes.ts). */
  marker: string
  clusterCIDR: string
  serviceCIDR: string
  underlayCIDR: string
  router: RouterPlan
  nodes: NodePlan[]
  pods: PodPlan[]
  services: ServicePlan[]
  /** The families pods and Services have, primary first: [4], [6] or [4, 6]. */
  ipFamilies: Family[]
  clusterCIDR6?: string
  serviceCIDR6?: string
  underlayCIDR6?: string
}

/** Lab names end up in namespace names and argv markers: short, lower-case DNS-ish. */
export function validateLabName(name: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/.test(name)) {
    throw badInput(`--name: "${name}" is not a lab name`, '1–12 characters of a-z, 0-9 and "-", starting and ending with a letter or digit')
  }
  return name
}

export function validateLabParams(params: LabParams): LabParams {
  validateLabName(params.name)
  if (!Number.isInteger(params.nodes) || params.nodes < MIN_NODES || params.nodes > MAX_NODES) {
    throw badInput(`--nodes must be ${MIN_NODES}–${MAX_NODES}, not ${params.nodes}`)
  }
  if (!Number.isInteger(params.podsPerNode) || params.podsPerNode < 1 || params.podsPerNode > MAX_PODS_PER_NODE) {
    throw badInput(`--pods-per-node must be 1–${MAX_PODS_PER_NODE}, not ${params.podsPerNode}`)
  }
  if (!TOPOLOGIES.includes(params.topology)) throw badInput(`--topology must be one of ${TOPOLOGIES.join(', ')}`)
  const family = params.ipFamily ?? 'ipv4'
  if (!IP_FAMILIES.includes(family)) throw badInput(`--ip-family must be one of ${IP_FAMILIES.join(', ')}`)
  if (family !== 'ipv4' && !IPV6_TOPOLOGIES.includes(params.topology)) {
    throw badInput(`--ip-family ${family} needs topology ${IPV6_TOPOLOGIES.join(' or ')}, not ${params.topology}`)
  }
  return params
}

export function labPrefix(name: string): string {
  return `knetlab-${name}-`
}

const NAMESPACE_SHAPE = /^(rt|n\d+|n\d+-p\d+)$/

/**
 * Whether a namespace name is one this lab could have created: the prefix followed by exactly
 * one of the lab's shapes. The shapes make ownership unambiguous (lab "a" never claims lab "a-b"'s
 * "knetlab-a-b-n1"), which is what lets `down` clean up by name when the state file is gone.
 */
export function isLabNamespace(labName: string, netns: string): boolean {
  const prefix = labPrefix(labName)
  return netns.startsWith(prefix) && NAMESPACE_SHAPE.test(netns.slice(prefix.length))
}

/** Every lab process has `--knetlab-marker <prefix>` in its argv. */
export function labMarker(name: string): string {
  return labPrefix(name)
}

const hex = (n: number): string => n.toString(16).padStart(2, '0')

/** 0a:58 + the IPv4 address, as the CNI bridge plugin derives pod MACs. */
export function macFromIp(ip: string): string {
  return ['0a', '58', ...ip.split('.').map((o) => hex(Number(o)))].join(':')
}

/** Locally administered, unicast, and predictable: flannel.1's MAC on node i. */
export function vtepMac(index: number): string {
  return `0e:6b:6e:00:00:${hex(index)}`
}

/** vxlan.calico's MAC on node i (Felix derives one per node; this one is locally administered and predictable). */
export function calicoVtepMac(index: number): string {
  return `66:ca:1c:00:00:${hex(index)}`
}

/** Node i's Calico IPAM block: a /26 of the cluster range that is not its spec.podCIDR. */
export function calicoBlockOf(index: number): string {
  return `10.244.${100 + index}.64/26`
}

/** The block's first address, which Calico IPAM gives the node's vxlan.calico as its tunnel address. */
export function calicoTunnelIpOf(index: number): string {
  return `10.244.${100 + index}.64`
}

/** Calico's host veth name: "cali" + the first 11 hex digits of sha1("NAMESPACE.POD"). */
export function calicoVethName(namespace: string, pod: string): string {
  return `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`
}

export function nodeName(index: number): string {
  return `node-${index}`
}

export function podCIDROf(index: number): string {
  return `10.244.${index}.0/24`
}

export function underlayIpOf(index: number): string {
  return `10.100.0.${index + 1}`
}

const POD_PORTS: ContainerPortPlan[] = [
  {name: 'http', port: 8080, protocol: 'TCP'},
  {name: 'dns', port: 5353, protocol: 'UDP'},
]

export function planLab(input: LabParams): LabPlan {
  const params = validateLabParams({...input})
  const prefix = labPrefix(params.name)
  const calico = params.topology === 'calico-vxlan'
  const vxlan = params.topology === 'vxlan'
  const ptp = params.topology === 'ptp'
  const routed = ptp || calico
  const podMtu = vxlan || calico ? UNDERLAY_MTU - VXLAN_OVERHEAD : UNDERLAY_MTU
  const indexes = Array.from({length: params.nodes}, (_, i) => i + 1)

  const router: RouterPlan = {
    netns: `${prefix}rt`,
    bridge: 'br0',
    ip: UNDERLAY_GATEWAY,
    prefix: 24,
    mac: macFromIp(UNDERLAY_GATEWAY),
    // No routes to pod CIDRs on purpose: a node missing its own route must fail, not be rescued
    // by the router (as a cloud VPC without route-table entries would).
    routes: [],
  }

  const nodes: NodePlan[] = indexes.map((i) => {
    const name = nodeName(i)
    const others = indexes.filter((j) => j !== i)
    const routes: RoutePlan[] = [
      {id: `${name}/default`, owner: name, dst: 'default', via: UNDERLAY_GATEWAY, dev: 'eth0', purpose: 'default'},
      ...others.map((j): RoutePlan =>
        calico
          ? {id: `${name}/pod-cidr/${nodeName(j)}`, owner: name, dst: calicoBlockOf(j), via: calicoTunnelIpOf(j), dev: CALICO_VXLAN.device, onlink: true, purpose: 'pod-cidr', toNode: nodeName(j)}
          : vxlan
          ? {id: `${name}/pod-cidr/${nodeName(j)}`, owner: name, dst: podCIDROf(j), via: `10.244.${j}.0`, dev: VXLAN.device, onlink: true, purpose: 'pod-cidr', toNode: nodeName(j)}
          : {id: `${name}/pod-cidr/${nodeName(j)}`, owner: name, dst: podCIDROf(j), via: underlayIpOf(j), dev: 'eth0', purpose: 'pod-cidr', toNode: nodeName(j)},
      ),
    ]
    const node: NodePlan = {
      name,
      index: i,
      netns: `${prefix}n${i}`,
      underlayIp: underlayIpOf(i),
      underlayMac: macFromIp(underlayIpOf(i)),
      routerPort: `n${i}`,
      podCIDR: podCIDROf(i),
      ...(routed ? {} : {bridge: {name: 'cbr0', ip: `10.244.${i}.1`, prefix: 24, mac: macFromIp(`10.244.${i}.1`), mtu: podMtu}}),
      ...(calico ? {ipamBlock: calicoBlockOf(i)} : {}),
      podGateway: calico ? CALICO_POD_GATEWAY : `10.244.${i}.1`,
      routes,
      fdb: vxlan
        ? others.map((j) => ({mac: vtepMac(j), dev: VXLAN.device, dst: underlayIpOf(j), toNode: nodeName(j)}))
        : calico
          ? others.map((j) => ({mac: calicoVtepMac(j), dev: CALICO_VXLAN.device, dst: underlayIpOf(j), toNode: nodeName(j)}))
          : [],
      neighbours: vxlan
        ? others.map((j) => ({ip: `10.244.${j}.0`, mac: vtepMac(j), dev: VXLAN.device, toNode: nodeName(j)}))
        : calico
          ? others.map((j) => ({ip: calicoTunnelIpOf(j), mac: calicoVtepMac(j), dev: CALICO_VXLAN.device, toNode: nodeName(j)}))
          : [],
    }
    if (vxlan) {
      node.vxlan = {device: VXLAN.device, vni: VXLAN.vni, port: VXLAN.port, mac: vtepMac(i), ip: `10.244.${i}.0`, local: underlayIpOf(i), mtu: podMtu}
    }
    if (calico) {
      node.vxlan = {device: CALICO_VXLAN.device, vni: CALICO_VXLAN.vni, port: CALICO_VXLAN.port, mac: calicoVtepMac(i), ip: calicoTunnelIpOf(i), local: underlayIpOf(i), mtu: podMtu}
    }
    return node
  })

  const pods: PodPlan[] = nodes.flatMap((node) =>
    Array.from({length: params.podsPerNode}, (_, k): PodPlan => {
      const p = k + 1
      const ip = calico ? `10.244.${100 + node.index}.${64 + p}` : `10.244.${node.index}.${p + 1}`
      const labels: Record<string, string> = {app: 'web'}
      // The first pod on each node also serves DNS, so the dns Service's endpoints differ from web's.
      if (p === 1) labels.tier = 'dns'
      const name = `web-${node.index}-${p}`
      if (calico) {
        return {
          namespace: 'default',
          name,
          node: node.name,
          netns: `${node.netns}-p${p}`,
          ip,
          mac: macFromIp(ip),
          mtu: podMtu,
          gateway: CALICO_POD_GATEWAY,
          hostVeth: calicoVethName('default', name),
          hostVethMac: CALICO_HOST_VETH_MAC,
          hostVethSysctls: {proxy_arp: '1', rp_filter: '1'},
          prefix: 32,
          routes: [
            {dst: CALICO_POD_GATEWAY, dev: 'eth0', scope: 'link'},
            {dst: 'default', via: CALICO_POD_GATEWAY, dev: 'eth0'},
          ],
          labels,
          ports: POD_PORTS.map((port) => ({...port})),
        }
      }
      return {
        namespace: 'default',
        name,
        node: node.name,
        netns: `${node.netns}-p${p}`,
        ip,
        mac: macFromIp(ip),
        mtu: podMtu,
        gateway: node.podGateway,
        hostVeth: `veth${p}`,
        prefix: 24,
        routes: ptp
          ? [
              {dst: `${node.podGateway}/32`, dev: 'eth0', scope: 'link', src: ip},
              {dst: node.podCIDR, via: node.podGateway, dev: 'eth0', src: ip},
              {dst: 'default', via: node.podGateway, dev: 'eth0'},
            ]
          : [{dst: 'default', via: node.podGateway, dev: 'eth0'}],
        labels,
        ports: POD_PORTS.map((port) => ({...port})),
      }
    }),
  )

  // ptp and Calico: the node reaches each of its pods by a /32 route to the pod's host-side veth.
  if (routed) {
    for (const pod of pods) {
      const node = nodes.find((n) => n.name === pod.node) as NodePlan
      node.routes.push({id: `${node.name}/pod/${pod.name}`, owner: node.name, dst: `${pod.ip}/32`, dev: pod.hostVeth, scope: calico ? 'link' : 'host', purpose: 'pod', toPod: pod.name})
    }
  }

  const select = (selector: Record<string, string>): EndpointPlan[] =>
    pods.filter((pod) => Object.entries(selector).every(([k, v]) => pod.labels[k] === v)).map((pod) => ({pod: pod.name, ip: pod.ip, node: pod.node}))
  const service = (name: string, type: ServicePlan['type'], clusterIP: string, ports: ServicePortPlan[], selector: Record<string, string>): ServicePlan => ({
    namespace: 'default',
    name,
    type,
    clusterIP,
    ports,
    selector,
    endpoints: select(selector),
  })
  const services: ServicePlan[] = [
    service('web', 'ClusterIP', '10.96.0.80', [{name: 'http', port: 80, targetPort: 8080, targetPortName: 'http', protocol: 'TCP'}], {app: 'web'}),
    service('dns', 'ClusterIP', '10.96.0.53', [{name: 'dns', port: 53, targetPort: 5353, targetPortName: 'dns', protocol: 'UDP'}], {tier: 'dns'}),
    service('web-np', 'NodePort', '10.96.0.81', [{name: 'http', port: 80, targetPort: 8080, targetPortName: 'http', protocol: 'TCP', nodePort: 30080}], {app: 'web'}),
    // No selector and no endpoints (as for endpoints managed outside Kubernetes that are not there
    // yet): kube-proxy REJECTs, so clients are refused instead of timing out. Selectorless rather
    // than a selector matching nothing, so a healthy lab stays free of doctor warnings.
    {...service('empty', 'ClusterIP', '10.96.0.99', [{name: 'http', port: 80, targetPort: 8080, targetPortName: 'http', protocol: 'TCP'}], {}), endpoints: []},
  ]

  return awsVpcLayout(applyIpFamilies({params, prefix, marker: labMarker(params.name), clusterCIDR: CLUSTER_CIDR, serviceCIDR: SERVICE_CIDR, underlayCIDR: UNDERLAY_CIDR, router, nodes, pods, services, ipFamilies: [4]}))
}

/** Every namespace of the plan, router first, then each node followed by its pods (build order). */
export function planNamespaces(plan: LabPlan): string[] {
  return [plan.router.netns, ...plan.nodes.flatMap((n) => [n.netns, ...plan.pods.filter((p) => p.node === n.name).map((p) => p.netns)])]
}

/** Node name → namespace playing it: what `--node-access netns --netns-map` takes. */
export function planNodeMap(plan: LabPlan): Record<string, string> {
  return Object.fromEntries(plan.nodes.map((n) => [n.name, n.netns]))
}
