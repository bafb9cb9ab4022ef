/**
 * The IPv6 side of a lab's plan (`knet lab up --ip-family ipv6|dual`), added to the IPv4 plan
 * that planLab computes: kind's dual-stack ranges, and flannel's own IPv6 layout.
 *
 * Address plan:
 *   underlay   fd00:10:100::/64, router ::1, node i at ::(i+1) (hex), on the same L2 segment
 *   pods       clusterCIDR fd00:10:244::/56, node i owns fd00:10:244:i::/64 (hex i), gateway ::1
 *              on cbr0, pods ::2…, each with a default route via the gateway
 *   Services   fd00:10:96::/112; each ClusterIP mirrors the IPv4 one's last octet
 *              (10.96.0.80 → fd00:10:96::80)
 *   host-gw    fd00:10:244:j::/64 via node j's underlay IPv6 address
 *   vxlan      flannel-v6.1 (flannel's second VXLAN device for IPv6: same VNI and port, an IPv6
 *              local address), holding fd00:10:244:i::/128; remote /64s routed "via
 *              fd00:10:244:j:: dev flannel-v6.1 onlink" with a permanent neighbour and an FDB entry
 *              for node j's IPv6 VTEP. Its MTU is the underlay's less 70 bytes (IPv6 outer
 *              headers), and the pods' MTU follows it so neither family's packets need fragmenting.
 * An IPv6-only lab keeps none of the IPv4 pod network: no IPv4 on the underlay, bridges or pods,
 * no flannel.1, no IPv4 routes (the plan's IPv4 fields stay, unused, so every lookup still works).
 */
import {
  CLUSTER_CIDR6, SERVICE_CIDR6, UNDERLAY_CIDR6, UNDERLAY_GATEWAY6, UNDERLAY_MTU, VXLAN6, VXLAN6_OVERHEAD,
  nodeName, type Family, type IpFamilyChoice, type LabPlan, type NodePlan, type PodPlan, type RoutePlan,
} from './plan.js'

const hex = (n: number): string => n.toString(16)
const hex2 = (n: number): string => n.toString(16).padStart(2, '0')

export function familiesOf(choice: IpFamilyChoice | undefined): Family[] {
  if (choice === 'ipv6') return [6]
  if (choice === 'dual') return [4, 6]
  return [4]
}

export function podCIDR6Of(index: number): string {
  return `fd00:10:244:${hex(index)}::/64`
}

export function podGateway6Of(index: number): string {
  return `fd00:10:244:${hex(index)}::1`
}

/** Pod p (1-based) on node i: ::(p+1), as the IPv4 .(p+1). */
export function podIp6Of(index: number, p: number): string {
  return `fd00:10:244:${hex(index)}::${hex(p + 1)}`
}

/** flannel-v6.1's address on node i: the network address of its /64. */
export function vtepIp6Of(index: number): string {
  return `fd00:10:244:${hex(index)}::`
}

export function underlayIp6Of(index: number): string {
  return `fd00:10:100::${hex(index + 1)}`
}

/** flannel-v6.1's MAC on node i: locally administered, predictable, unlike flannel.1's. */
export function vtepMac6(index: number): string {
  return `0e:6b:6e:06:00:${hex2(index)}`
}

/** 10.96.0.80 → fd00:10:96::80: the same digits, so the pair is easy to tell apart and to match. */
export function clusterIP6Of(clusterIP: string): string {
  return `fd00:10:96::${clusterIP.split('.').pop() ?? '1'}`
}

/** The address of a pod in one family (IPv4: pod.ip). */
export function podIpOf(pod: Pick<PodPlan, 'ip' | 'ip6'>, family: Family): string | undefined {
  return family === 6 ? pod.ip6 : pod.ip
}

/** The address of a node in one family. */
export function nodeIpOf(node: Pick<NodePlan, 'underlayIp' | 'v6'>, family: Family): string | undefined {
  return family === 6 ? node.v6?.underlayIp : node.underlayIp
}

/** Adds the IPv6 side to a freshly computed IPv4 plan (in place) and, for IPv6-only, drops the IPv4 pod network. */
export function applyIpFamilies(plan: LabPlan): LabPlan {
  const families = familiesOf(plan.params.ipFamily)
  plan.ipFamilies = families
  if (!families.includes(6)) return plan
  const vxlan = plan.params.topology === 'vxlan'
  const mtu6 = UNDERLAY_MTU - VXLAN6_OVERHEAD
  plan.clusterCIDR6 = CLUSTER_CIDR6
  plan.serviceCIDR6 = SERVICE_CIDR6
  plan.underlayCIDR6 = UNDERLAY_CIDR6
  plan.router.ip6 = UNDERLAY_GATEWAY6
  const indexes = plan.nodes.map((n) => n.index)
  for (const node of plan.nodes) {
    const i = node.index
    const others = indexes.filter((j) => j !== i)
    node.v6 = {
      underlayIp: underlayIp6Of(i),
      podCIDR: podCIDR6Of(i),
      podGateway: podGateway6Of(i),
      ...(vxlan ? {vxlan: {device: VXLAN6.device, vni: VXLAN6.vni, port: VXLAN6.port, mac: vtepMac6(i), ip: vtepIp6Of(i), local: underlayIp6Of(i), mtu: mtu6}} : {}),
    }
    if (vxlan && node.bridge) node.bridge.mtu = mtu6
    const routes6: RoutePlan[] = [
      {id: `${node.name}/default6`, owner: node.name, dst: 'default', via: UNDERLAY_GATEWAY6, dev: 'eth0', purpose: 'default', family: 6},
      ...others.map((j): RoutePlan =>
        vxlan
          ? {id: `${node.name}/pod-cidr6/${nodeName(j)}`, owner: node.name, dst: podCIDR6Of(j), via: vtepIp6Of(j), dev: VXLAN6.device, onlink: true, purpose: 'pod-cidr', toNode: nodeName(j), family: 6}
          : {id: `${node.name}/pod-cidr6/${nodeName(j)}`, owner: node.name, dst: podCIDR6Of(j), via: underlayIp6Of(j), dev: 'eth0', purpose: 'pod-cidr', toNode: nodeName(j), family: 6},
      ),
    ]
    node.routes.push(...routes6)
    if (vxlan) {
      node.fdb.push(...others.map((j) => ({mac: vtepMac6(j), dev: VXLAN6.device, dst: underlayIp6Of(j), toNode: nodeName(j)})))
      node.neighbours.push(...others.map((j) => ({ip: vtepIp6Of(j), mac: vtepMac6(j), dev: VXLAN6.device, toNode: nodeName(j)})))
    }
  }
  for (const node of plan.nodes) {
    plan.pods.filter((p) => p.node === node.name).forEach((pod, k) => {
      pod.ip6 = podIp6Of(node.index, k + 1)
      if (vxlan) pod.mtu = mtu6
    })
  }
  const ip6 = new Map(plan.pods.map((p) => [p.name, p.ip6]))
  for (const svc of plan.services) {
    svc.clusterIP6 = clusterIP6Of(svc.clusterIP)
    svc.endpoints = svc.endpoints.map((e) => ({...e, ...(ip6.get(e.pod) ? {ip6: ip6.get(e.pod) as string} : {})}))
  }
  if (!families.includes(4)) {
    for (const node of plan.nodes) {
      node.routes = node.routes.filter((r) => r.family === 6)
      node.fdb = node.fdb.filter((f) => f.dev === VXLAN6.device)
      node.neighbours = node.neighbours.filter((n) => n.dev === VXLAN6.device)
      delete node.vxlan
    }
  }
  return plan
}
