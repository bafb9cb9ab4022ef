/**
 * What a real lab's nodes are before Kubernetes touches them: the underlay (the router's bridge,
 * each node's eth0 on it, its default route via the router) and the node OS settings a kubeadm preflight asks for (ip_forward,
 * bridge-nf-call-iptables). Everything else on a node (the pod bridge, flannel.1, routes to other
 * nodes' pods, netfilter rules) is made by the real programs. The same argv as steps.ts's
 * routerSteps and the first part of nodeSteps, which the emulated driver runs.
 */
import type {LabPlan, NodePlan} from '../plan.js'
import {routeArgv, routerSteps, type Step} from '../steps.js'

const ip = (netns: string, ...args: string[]): Step => ({netns, argv: ['ip', '-n', netns, ...args]})
const sysctl = (netns: string, key: string, value: string, optional = false): Step => ({
  netns,
  argv: ['ip', 'netns', 'exec', netns, 'sysctl', '-qw', `${key}=${value}`],
  ...(optional ? {optional: true} : {}),
})

/**
 * Dual-stack nodes: IPv6 forwarding on (kubeadm's preflight asks for it as for ip_forward), no
 * duplicate address detection and addresses kept on a link set down, as on the emulated lab (set
 * before any link exists, so cbr0 and flannel-v6.1 inherit them from `default`).
 */
const ipv6Sysctls = (ns: string): Step => ({
  netns: ns,
  argv: ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.keep_addr_on_down=1', 'net.ipv6.conf.default.keep_addr_on_down=1', 'net.ipv6.conf.all.forwarding=1'],
})

export function nodeUnderlaySteps(plan: LabPlan, node: NodePlan): Step[] {
  const ns = node.netns
  const rt = plan.router.netns
  const v6 = node.v6
  return [
    ...(v6 ? [ipv6Sysctls(ns)] : []),
    ip(ns, 'link', 'set', 'lo', 'up'),
    ip(ns, 'link', 'add', 'eth0', 'address', node.underlayMac, 'mtu', '1500', 'type', 'veth', 'peer', 'name', node.routerPort, 'netns', rt),
    ip(rt, 'link', 'set', node.routerPort, 'master', plan.router.bridge),
    ip(rt, 'link', 'set', node.routerPort, 'up'),
    ip(ns, 'addr', 'add', `${node.underlayIp}/24`, 'dev', 'eth0'),
    ...(v6 ? [ip(ns, 'addr', 'add', `${v6.underlayIp}/64`, 'dev', 'eth0', 'nodad')] : []),
    ip(ns, 'link', 'set', 'eth0', 'up'),
    sysctl(ns, 'net.ipv4.ip_forward', '1'),
    sysctl(ns, 'net.bridge.bridge-nf-call-iptables', '1', true),
    ...(v6 ? [sysctl(ns, 'net.bridge.bridge-nf-call-ip6tables', '1', true)] : []),
    // The node's own default routes (its "DHCP" part, one per family); the pod-CIDR routes are flannel's to make.
    ...node.routes.filter((r) => r.purpose === 'default').map((r) => ({netns: ns, argv: routeArgv('replace', ns, r)})),
  ]
}

export function underlaySteps(plan: LabPlan): Step[] {
  return [...routerSteps(plan), ...plan.nodes.flatMap((n) => nodeUnderlaySteps(plan, n))]
}
