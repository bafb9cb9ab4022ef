/**
 * The plan as the exact argv that build it, grouped by namespace. Pure: unit tests read them, and
 * a fault reverses one of them (e.g. `routeArgv('del', …)` for a missing route). Every command
 * names its namespace with `ip -n NS` / `bridge -n NS` / `ip netns exec NS`; none acts on the
 * caller's namespace. Links are created inside lab namespaces with their peer placed directly in
 * another lab namespace, so no link ever exists in the root namespace, not even briefly.
 */
import type {LabPlan, NodePlan, PodPlan, RoutePlan} from './plan.js'
import {awsNodeSteps, awsPodSteps} from './steps-aws.js'

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

/**
 * IPv6 labs: no duplicate address detection (every address usable at once, no waiting), forwarding
 * on nodes and the router, and addresses kept on a link set down (as IPv4's are), so a fault that
 * downs a bridge and its heal leave the same addresses. Set before any link exists in NS.
 */
function ipv6Sysctls(netns: string, forwarding: boolean): Step {
  const keys = ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.keep_addr_on_down=1', 'net.ipv6.conf.default.keep_addr_on_down=1']
  if (forwarding) keys.push('net.ipv6.conf.all.forwarding=1')
  return {netns, argv: ['ip', 'netns', 'exec', netns, 'sysctl', '-qw', ...keys]}
}

const has = (plan: LabPlan, family: 4 | 6): boolean => plan.ipFamilies.includes(family)

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
    ...(r.ip6 ? [ipv6Sysctls(r.netns, true)] : []),
    ip(r.netns, 'link', 'set', 'lo', 'up'),
    ip(r.netns, 'link', 'add', r.bridge, 'address', r.mac, 'type', 'bridge'),
    ...(has(plan, 4) ? [ip(r.netns, 'addr', 'add', `${r.ip}/${r.prefix}`, 'dev', r.bridge)] : []),
    ...(r.ip6 ? [ip(r.netns, 'addr', 'add', `${r.ip6}/64`, 'dev', r.bridge, 'nodad')] : []),
    ip(r.netns, 'link', 'set', r.bridge, 'up'),
    sysctl(r.netns, 'net.ipv4.ip_forward', '1'),
  ]
}

export function nodeSteps(plan: LabPlan, node: NodePlan): Step[] {
  if (node.aws) return awsNodeSteps(plan, node)
  const ns = node.netns
  const rt = plan.router.netns
  const b = node.bridge
  const v6 = node.v6
  const v4 = has(plan, 4)
  const steps: Step[] = [
    ...(v6 ? [ipv6Sysctls(ns, true)] : []),
    ip(ns, 'link', 'set', 'lo', 'up'),
    // The node's NIC: a veth whose peer is a port of the underlay bridge in the router namespace.
    ip(ns, 'link', 'add', 'eth0', 'address', node.underlayMac, 'mtu', '1500', 'type', 'veth', 'peer', 'name', node.routerPort, 'netns', rt),
    ip(rt, 'link', 'set', node.routerPort, 'master', plan.router.bridge),
    ip(rt, 'link', 'set', node.routerPort, 'up'),
    ...(v4 ? [ip(ns, 'addr', 'add', `${node.underlayIp}/24`, 'dev', 'eth0')] : []),
    ...(v6 ? [ip(ns, 'addr', 'add', `${v6.underlayIp}/64`, 'dev', 'eth0', 'nodad')] : []),
    ip(ns, 'link', 'set', 'eth0', 'up'),
  ]
  if (b) {
    steps.push(
      ip(ns, 'link', 'add', b.name, 'address', b.mac, 'mtu', String(b.mtu), 'type', 'bridge'),
      ...(v4 ? [ip(ns, 'addr', 'add', `${b.ip}/${b.prefix}`, 'dev', b.name)] : []),
      ...(v6 ? [ip(ns, 'addr', 'add', `${v6.podGateway}/64`, 'dev', b.name, 'nodad')] : []),
      ip(ns, 'link', 'set', b.name, 'up'),
    )
  }
  steps.push(sysctl(ns, 'net.ipv4.ip_forward', '1'))
  // Bridged pod-to-pod replies must pass conntrack, or same-node Service replies are not un-DNATed.
  if (b) steps.push(sysctl(ns, 'net.bridge.bridge-nf-call-iptables', '1', true))
  if (b && v6) steps.push(sysctl(ns, 'net.bridge.bridge-nf-call-ip6tables', '1', true))
  const v = node.vxlan
  if (v) {
    steps.push(
      ip(ns, 'link', 'add', v.device, 'address', v.mac, 'mtu', String(v.mtu), 'type', 'vxlan', 'id', String(v.vni), 'local', v.local, 'dev', 'eth0', 'dstport', String(v.port), 'nolearning'),
      ip(ns, 'addr', 'add', `${v.ip}/32`, 'dev', v.device),
      ip(ns, 'link', 'set', v.device, 'up'),
    )
  }
  const vx6 = v6?.vxlan
  if (vx6) {
    steps.push(
      ip(ns, 'link', 'add', vx6.device, 'address', vx6.mac, 'mtu', String(vx6.mtu), 'type', 'vxlan', 'id', String(vx6.vni), 'local', vx6.local, 'dev', 'eth0', 'dstport', String(vx6.port), 'nolearning'),
      ip(ns, 'addr', 'add', `${vx6.ip}/128`, 'dev', vx6.device, 'nodad'),
      ip(ns, 'link', 'set', vx6.device, 'up'),
    )
  }
  if (v || vx6) {
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
  if (node.aws) return awsPodSteps(node, pod)
  if (node.ipamBlock) return calicoPodSteps(node, pod)
  if (!node.bridge) return ptpPodSteps(node, pod)
  const ns = pod.netns
  const v6 = node.v6 && pod.ip6 ? {ip: pod.ip6, gateway: node.v6.podGateway} : undefined
  // An IPv6-only lab's pods have no IPv4 (their node has no IPv4 pod route).
  const v4 = !node.v6 || node.routes.some((r) => r.family !== 6)
  return [
    ...(v6 ? [ipv6Sysctls(ns, false)] : []),
    ip(ns, 'link', 'set', 'lo', 'up'),
    ip(node.netns, 'link', 'add', pod.hostVeth, 'mtu', String(pod.mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns),
    ip(ns, 'link', 'set', 'eth0', 'address', pod.mac, 'mtu', String(pod.mtu)),
    ...(v4 ? [ip(ns, 'addr', 'add', `${pod.ip}/24`, 'dev', 'eth0')] : []),
    ...(v6 ? [ip(ns, 'addr', 'add', `${v6.ip}/64`, 'dev', 'eth0', 'nodad')] : []),
    ip(ns, 'link', 'set', 'eth0', 'up'),
    ...(v4 ? [ip(ns, 'route', 'replace', 'default', 'via', pod.gateway, 'dev', 'eth0')] : []),
    ...(v6 ? [ip(ns, 'route', 'replace', 'default', 'via', v6.gateway, 'dev', 'eth0')] : []),
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
/** A routed (bridgeless) pod's own side, shared by the Calico and AWS layouts: its veth pair, address, MAC, MTU and routes. */
export function routedPodSteps(node: NodePlan, pod: PodPlan): Step[] {
  const ns = pod.netns
  return [
    ip(ns, 'link', 'set', 'lo', 'up'),
    ip(node.netns, 'link', 'add', pod.hostVeth, ...(pod.hostVethMac ? ['address', pod.hostVethMac] : []), 'mtu', String(pod.mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns),
    ip(ns, 'link', 'set', 'eth0', 'address', pod.mac, 'mtu', String(pod.mtu)),
    ip(ns, 'addr', 'add', `${pod.ip}/${pod.prefix}`, 'dev', 'eth0'),
    ip(ns, 'link', 'set', 'eth0', 'up'),
    ...pod.routes.map((r) => ip(ns, 'route', 'replace', r.dst, ...(r.via ? ['via', r.via] : []), 'dev', r.dev, ...(r.scope ? ['scope', r.scope] : []))),
  ]
}

function calicoPodSteps(node: NodePlan, pod: PodPlan): Step[] {
  const veth = pod.hostVeth
  const podRoute = node.routes.find((r) => r.purpose === 'pod' && r.toPod === pod.name)
  return [
    ...routedPodSteps(node, pod),
    ...Object.entries(pod.hostVethSysctls ?? {}).map(([key, value]) => sysctl(node.netns, `net.ipv4.conf.${veth}.${key}`, value)),
    sysctl(node.netns, `net.ipv4.neigh.${veth}.proxy_delay`, '0'),
    ip(node.netns, 'link', 'set', veth, 'up'),
    ...(podRoute ? [{netns: node.netns, argv: routeArgv('replace', node.netns, podRoute)}] : []),
  ]
}

/** `ip netns exec NODE iptables-restore` (ip6tables-restore for IPv6) with the kube-proxy payload on stdin. */
export function iptablesRestoreArgv(node: NodePlan, family: 4 | 6 = 4): string[] {
  return ['ip', 'netns', 'exec', node.netns, family === 6 ? 'ip6tables-restore' : 'iptables-restore']
}
