/**
 * The plan as the exact argv that build it, grouped by namespace. Pure: unit tests read them, and
 * a fault reverses one of them (e.g. `routeArgv('del', …)` for a missing route). Every command
 * names its namespace with `ip -n NS` / `bridge -n NS` / `ip netns exec NS`; none acts on the
 * caller's namespace. Links are created inside lab namespaces with their peer placed directly in
 * another lab namespace, so no link ever exists in the root namespace, not even briefly.
 */
import type {LabPlan, NodePlan, PodPlan, RoutePlan} from './plan.js'

export interface Step {
  /** Namespace the step acts in (for messages). */
  netns: string
  argv: string[]
  /** A step allowed to fail (optional kernel features). */
  optional?: boolean
}

const ip = (netns: string, ...args: string[]): Step => ({netns, argv: ['ip', '-n', netns, ...args]})
const sysctl = (netns: string, key: string, value: string, optional = false): Step => ({
  netns,
  argv: ['ip', 'netns', 'exec', netns, 'sysctl', '-qw', `${key}=${value}`],
  ...(optional ? {optional: true} : {}),
})

export function routeArgv(action: 'replace' | 'del', netns: string, route: RoutePlan): string[] {
  const argv = ['ip', '-n', netns, 'route', action, route.dst]
  if (route.via !== undefined) argv.push('via', route.via)
  argv.push('dev', route.dev)
  if (route.onlink) argv.push('onlink')
  if (route.scope) argv.push('scope', route.scope)
  return argv
}

export function routerSteps(plan: LabPlan): Step[] {
  const r = plan.router
  return [
    ip(r.netns, 'link', 'set', 'lo', 'up'),
    ip(r.netns, 'link', 'add', r.bridge, 'address', r.mac, 'type', 'bridge'),
    ip(r.netns, 'addr', 'add', `${r.ip}/${r.prefix}`, 'dev', r.bridge),
    ip(r.netns, 'link', 'set', r.bridge, 'up'),
    sysctl(r.netns, 'net.ipv4.ip_forward', '1'),
  ]
}

export function nodeSteps(plan: LabPlan, node: NodePlan): Step[] {
  const ns = node.netns
  const rt = plan.router.netns
  const b = node.bridge
  const steps: Step[] = [
    ip(ns, 'link', 'set', 'lo', 'up'),
    // The node's NIC: a veth whose peer is a port of the underlay bridge in the router namespace.
    ip(ns, 'link', 'add', 'eth0', 'address', node.underlayMac, 'mtu', '1500', 'type', 'veth', 'peer', 'name', node.routerPort, 'netns', rt),
    ip(rt, 'link', 'set', node.routerPort, 'master', plan.router.bridge),
    ip(rt, 'link', 'set', node.routerPort, 'up'),
    ip(ns, 'addr', 'add', `${node.underlayIp}/24`, 'dev', 'eth0'),
    ip(ns, 'link', 'set', 'eth0', 'up'),
  ]
  if (b) {
    steps.push(
      ip(ns, 'link', 'add', b.name, 'address', b.mac, 'mtu', String(b.mtu), 'type', 'bridge'),
      ip(ns, 'addr', 'add', `${b.ip}/${b.prefix}`, 'dev', b.name),
      ip(ns, 'link', 'set', b.name, 'up'),
    )
  }
  steps.push(sysctl(ns, 'net.ipv4.ip_forward', '1'))
  // Bridged pod-to-pod replies must pass conntrack, or same-node Service replies are not un-DNATed.
  if (b) steps.push(sysctl(ns, 'net.bridge.bridge-nf-call-iptables', '1', true))
  const v = node.vxlan
  if (v) {
    steps.push(
      ip(ns, 'link', 'add', v.device, 'address', v.mac, 'mtu', String(v.mtu), 'type', 'vxlan', 'id', String(v.vni), 'local', v.local, 'dev', 'eth0', 'dstport', String(v.port), 'nolearning'),
      ip(ns, 'addr', 'add', `${v.ip}/32`, 'dev', v.device),
      ip(ns, 'link', 'set', v.device, 'up'),
    )
    for (const f of node.fdb) steps.push({netns: ns, argv: ['bridge', '-n', ns, 'fdb', 'append', f.mac, 'dev', f.dev, 'dst', f.dst]})
    for (const n of node.neighbours) steps.push(ip(ns, 'neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', n.dev, 'nud', 'permanent'))
  }
  // Calico: a blackhole for the node's own IPAM block (its pods' /32 routes are more specific).
  if (node.ipamBlock) steps.push(ip(ns, 'route', 'replace', 'blackhole', node.ipamBlock))
  // Per-pod routes (ptp, Calico) need the pods' veths: podSteps adds them.
  for (const route of node.routes.filter((r) => r.purpose !== 'pod')) steps.push({netns: ns, argv: routeArgv('replace', ns, route)})
  return steps
}

export function podSteps(node: NodePlan, pod: PodPlan): Step[] {
  if (node.ipamBlock) return calicoPodSteps(node, pod)
  if (!node.bridge) return ptpPodSteps(node, pod)
  const ns = pod.netns
  return [
    ip(ns, 'link', 'set', 'lo', 'up'),
    ip(node.netns, 'link', 'add', pod.hostVeth, 'mtu', String(pod.mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns),
    ip(ns, 'link', 'set', 'eth0', 'address', pod.mac, 'mtu', String(pod.mtu)),
    ip(ns, 'addr', 'add', `${pod.ip}/24`, 'dev', 'eth0'),
    ip(ns, 'link', 'set', 'eth0', 'up'),
    ip(ns, 'route', 'replace', 'default', 'via', pod.gateway, 'dev', 'eth0'),
    ip(node.netns, 'link', 'set', pod.hostVeth, 'master', node.bridge.name),
    // kubenet's hairpin-veth mode: a pod reaching itself through its Service comes back out the same port.
    ip(node.netns, 'link', 'set', pod.hostVeth, 'type', 'bridge_slave', 'hairpin', 'on'),
    ip(node.netns, 'link', 'set', pod.hostVeth, 'up'),
  ]
}

/**
 * What the CNI ptp plugin does: the pod's address with its connected route replaced by a route to
 * the gateway on eth0 and the subnet via the gateway; on the node the gateway /32 on the host-side
 * veth (answering the pod's ARP for it) and a scope-host /32 route to the pod.
 */
function ptpPodSteps(node: NodePlan, pod: PodPlan): Step[] {
  const ns = pod.netns
  const subnet = node.podCIDR
  const podRoute = node.routes.find((r) => r.purpose === 'pod' && r.toPod === pod.name)
  return [
    ip(ns, 'link', 'set', 'lo', 'up'),
    ip(node.netns, 'link', 'add', pod.hostVeth, 'mtu', String(pod.mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns),
    ip(ns, 'link', 'set', 'eth0', 'address', pod.mac, 'mtu', String(pod.mtu)),
    ip(ns, 'addr', 'add', `${pod.ip}/${pod.prefix}`, 'dev', 'eth0'),
    ip(ns, 'link', 'set', 'eth0', 'up'),
    ip(ns, 'route', 'del', subnet, 'dev', 'eth0'),
    ...pod.routes.map((r) => ip(ns, 'route', 'replace', r.dst, ...(r.via ? ['via', r.via] : []), 'dev', r.dev, ...(r.scope ? ['scope', r.scope] : []), ...(r.src ? ['src', r.src] : []))),
    ip(node.netns, 'addr', 'add', `${node.podGateway}/32`, 'dev', pod.hostVeth),
    ip(node.netns, 'link', 'set', pod.hostVeth, 'up'),
    ...(podRoute ? [{netns: node.netns, argv: routeArgv('replace', node.netns, podRoute)}] : []),
  ]
}

/**
 * What Calico's CNI plugin and Felix do: the pod's address as a /32 with an on-link route to
 * 169.254.1.1 and the default route via it; on the node a cali* veth with no address and the MAC
 * ee:ee:ee:ee:ee:ee, proxy_arp=1 with no proxy delay (it answers the pod's ARP for 169.254.1.1,
 * which no interface has), rp_filter=1, and a scope-link /32 route to the pod through it.
 */
function calicoPodSteps(node: NodePlan, pod: PodPlan): Step[] {
  const ns = pod.netns
  const veth = pod.hostVeth
  const podRoute = node.routes.find((r) => r.purpose === 'pod' && r.toPod === pod.name)
  return [
    ip(ns, 'link', 'set', 'lo', 'up'),
    ip(node.netns, 'link', 'add', veth, ...(pod.hostVethMac ? ['address', pod.hostVethMac] : []), 'mtu', String(pod.mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns),
    ip(ns, 'link', 'set', 'eth0', 'address', pod.mac, 'mtu', String(pod.mtu)),
    ip(ns, 'addr', 'add', `${pod.ip}/${pod.prefix}`, 'dev', 'eth0'),
    ip(ns, 'link', 'set', 'eth0', 'up'),
    ...pod.routes.map((r) => ip(ns, 'route', 'replace', r.dst, ...(r.via ? ['via', r.via] : []), 'dev', r.dev, ...(r.scope ? ['scope', r.scope] : []))),
    ...Object.entries(pod.hostVethSysctls ?? {}).map(([key, value]) => sysctl(node.netns, `net.ipv4.conf.${veth}.${key}`, value)),
    sysctl(node.netns, `net.ipv4.neigh.${veth}.proxy_delay`, '0'),
    ip(node.netns, 'link', 'set', veth, 'up'),
    ...(podRoute ? [{netns: node.netns, argv: routeArgv('replace', node.netns, podRoute)}] : []),
  ]
}

/** `ip netns exec NODE iptables-restore` with the kube-proxy payload on stdin. */
export function iptablesRestoreArgv(node: NodePlan): string[] {
  return ['ip', 'netns', 'exec', node.netns, 'iptables-restore']
}
