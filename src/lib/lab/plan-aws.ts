/**
 * The aws-vpc topology (`knet lab up --topology aws-vpc`): the AWS VPC CNI's layout, as its
 * proposal (aws/amazon-vpc-cni-k8s docs/cni-proposal.md) and its plugin write it, on the lab's
 * underlay playing the VPC. planLab computes a plan as for host-gw; awsVpcLayout rewrites its nodes
 * and pods into this one (other topologies pass through untouched).
 *
 * Address plan:
 *   VPC subnet  the underlay 10.100.0.0/24; its router .1 is the subnet's gateway
 *   ENIs        node i: primary ENI eth0 at .(i+1) (its InternalIP, main table), secondary ENI
 *               eth1 at .(240+i) with its own table 2 ("10.100.0.1 dev eth1 scope link",
 *               "default via 10.100.0.1 dev eth1"); eth1's connected route is removed from main,
 *               as ipamd does
 *   pods        VPC addresses of the subnet, no overlay and no spec.podCIDR: node i's pod p is
 *               .(16i + p − 1), an odd p a secondary address of eth0, an even p of eth1; ip/32 on
 *               eth0 with "169.254.1.1 dev eth0 scope link", "default via 169.254.1.1 dev eth0" and
 *               a permanent neighbour entry for 169.254.1.1 naming the host veth's MAC; the host
 *               veth eni<11 hex of sha1("NAMESPACE.POD")> has no address
 *   node        per pod: "POD dev eni… scope link" in main and "512: from all to POD lookup main";
 *               for a pod on the secondary ENI also "1536: from POD lookup 2"
 *   the VPC     delivers an address of its subnet to the ENI that holds it. Emulated: the node
 *               answers ARP for each pod's address on that pod's ENI only (a proxy neighbour entry,
 *               no proxy delay; arp_ignore=1 so an ENI does not answer for the other's address),
 *               and the router sends no redirects. Cross-node pod traffic is plain underlay routing:
 *               on-link on eth0, or through the gateway from a secondary-ENI pod's table.
 * Not emulated: the VPC's source/destination check, the SNAT for traffic leaving the VPC, and
 * ipamd's fwmark rule for NodePort traffic.
 */
import {createHash} from 'node:crypto'
import {UNDERLAY_GATEWAY, type LabPlan, type NodePlan, type PodPlan, type RoutePlan} from './plan.js'

/** The link-local gateway every pod routes through; a permanent neighbour entry in the pod names the host veth. */
export const AWS_POD_GATEWAY = '169.254.1.1'
/** ipamd's priorities: to-pod rules before from-pod rules. */
export const AWS_TO_POD_PRIORITY = 512
export const AWS_FROM_POD_PRIORITY = 1536
/** The secondary ENI's table: its device index + 1, as ipamd numbers them. */
export const AWS_SECONDARY_TABLE = 2

export interface EniPlan {
  device: 'eth0' | 'eth1'
  ip: string
  mac: string
  /** The ENI's peer port on the router's bridge (eth0's is the node's routerPort). */
  routerPort: string
  /** Its own route table (the secondary ENI), with these routes. */
  table?: number
  tableRoutes: RoutePlan[]
}

/** A per-pod `ip rule`, as the VPC CNI adds it. */
export interface RulePlan {
  /** Stable id a fault can name: "node-2/rule/to/web-2-1". */
  id: string
  priority: number
  from?: string
  to?: string
  table: string
  toPod: string
}

export interface AwsNodePlan {
  enis: EniPlan[]
  rules: RulePlan[]
}

export interface AwsPodPlan {
  /** The ENI whose secondary address the pod has. */
  eni: 'eth0' | 'eth1'
  /** The host veth's MAC, which the pod's permanent neighbour entry for the gateway names. */
  gatewayMac: string
}

/** The VPC CNI's host veth name: "eni" + the first 11 hex digits of sha1("NAMESPACE.POD"). */
export function awsVethName(namespace: string, pod: string): string {
  return `eni${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`
}

export function awsPodIpOf(nodeIndex: number, podIndex: number): string {
  return `10.100.0.${16 * nodeIndex + podIndex - 1}`
}

export function awsSecondaryEniIpOf(nodeIndex: number): string {
  return `10.100.0.${240 + nodeIndex}`
}

const hex = (n: number): string => n.toString(16).padStart(2, '0')

/** A locally administered unicast MAC from an address: 0e:61 + its four octets. */
function macOf(ip: string, first = '0e'): string {
  return [first, '61', ...ip.split('.').map((o) => hex(Number(o)))].join(':')
}

/** The plan rewritten into the AWS VPC CNI's layout when its topology is aws-vpc; any other plan as it is. */
export function awsVpcLayout(plan: LabPlan): LabPlan {
  if (plan.params.topology !== 'aws-vpc') return plan
  const podsOf = (node: NodePlan) => plan.pods.filter((p) => p.node === node.name)
  const ipOf = new Map<string, string>()
  const pods: PodPlan[] = plan.nodes.flatMap((node) =>
    podsOf(node).map((pod, k): PodPlan => {
      const ip = awsPodIpOf(node.index, k + 1)
      ipOf.set(pod.name, ip)
      const hostVeth = awsVethName(pod.namespace, pod.name)
      const {hostVethSysctls: _sysctls, ...rest} = pod
      return {
        ...rest,
        ip,
        mac: macOf(ip, '0a'),
        mtu: 1500,
        gateway: AWS_POD_GATEWAY,
        hostVeth,
        hostVethMac: macOf(ip),
        prefix: 32,
        routes: [
          {dst: AWS_POD_GATEWAY, dev: 'eth0', scope: 'link'},
          {dst: 'default', via: AWS_POD_GATEWAY, dev: 'eth0'},
        ],
        aws: {eni: k % 2 === 0 ? 'eth0' : 'eth1', gatewayMac: macOf(ip)},
      }
    }),
  )
  const nodes = plan.nodes.map((node): NodePlan => {
    const mine = pods.filter((p) => p.node === node.name)
    const secondary = awsSecondaryEniIpOf(node.index)
    const {bridge: _bridge, ...rest} = node
    const tableRoutes: RoutePlan[] = [
      {id: `${node.name}/eni/eth1/gateway`, owner: node.name, dst: `${UNDERLAY_GATEWAY}/32`, dev: 'eth1', scope: 'link', purpose: 'default'},
      {id: `${node.name}/eni/eth1/default`, owner: node.name, dst: 'default', via: UNDERLAY_GATEWAY, dev: 'eth1', purpose: 'default'},
    ]
    return {
      ...rest,
      podGateway: AWS_POD_GATEWAY,
      routes: [
        ...node.routes.filter((r) => r.purpose === 'default'),
        ...mine.map((p): RoutePlan => ({id: `${node.name}/pod/${p.name}`, owner: node.name, dst: `${p.ip}/32`, dev: p.hostVeth, scope: 'link', purpose: 'pod', toPod: p.name})),
      ],
      fdb: [],
      neighbours: [],
      aws: {
        enis: [
          {device: 'eth0', ip: node.underlayIp, mac: node.underlayMac, routerPort: node.routerPort, tableRoutes: []},
          {device: 'eth1', ip: secondary, mac: macOf(secondary), routerPort: `${node.routerPort}e1`, table: AWS_SECONDARY_TABLE, tableRoutes},
        ],
        rules: mine.flatMap((p): RulePlan[] => [
          {id: `${node.name}/rule/to/${p.name}`, priority: AWS_TO_POD_PRIORITY, to: `${p.ip}/32`, table: 'main', toPod: p.name},
          ...(p.aws?.eni === 'eth1' ? [{id: `${node.name}/rule/from/${p.name}`, priority: AWS_FROM_POD_PRIORITY, from: `${p.ip}/32`, table: String(AWS_SECONDARY_TABLE), toPod: p.name}] : []),
        ]),
      },
    }
  })
  const services = plan.services.map((s) => ({...s, endpoints: s.endpoints.map((e) => ({...e, ip: ipOf.get(e.pod) ?? e.ip}))}))
  return {...plan, nodes, pods, services}
}
