/**
 * The aws-vpc plan (plan-aws.ts) as argv: what ipamd does for a node's ENIs and what the VPC CNI
 * plugin does for each pod, plus the emulation of the VPC delivering each address to its ENI.
 * Pure, like steps.ts; a fault reverses one of them (ruleArgv('del', …)).
 */
import type {RulePlan} from './plan-aws.js'
import type {LabPlan, NodePlan, PodPlan} from './plan.js'
import {routedPodSteps, routeArgv, type Step} from './steps.js'

const ip = (netns: string, ...args: string[]): Step => ({netns, argv: ['ip', '-n', netns, ...args]})
const sysctl = (netns: string, key: string, value: string): Step => ({netns, argv: ['ip', 'netns', 'exec', netns, 'sysctl', '-qw', `${key}=${value}`]})

export function ruleArgv(action: 'add' | 'del', netns: string, rule: RulePlan): string[] {
  return ['ip', '-n', netns, 'rule', action, ...(rule.from ? ['from', rule.from] : []), ...(rule.to ? ['to', rule.to] : []), 'lookup', rule.table, 'priority', String(rule.priority)]
}

/** The node's two ENIs on the VPC subnet (the router's bridge), the secondary's table, forwarding. */
export function awsNodeSteps(plan: LabPlan, node: NodePlan): Step[] {
  const ns = node.netns
  const rt = plan.router.netns
  const steps: Step[] = [
    ip(ns, 'link', 'set', 'lo', 'up'),
    // The VPC router sends no redirects: a secondary ENI's pods route on-subnet traffic through it on purpose.
    sysctl(rt, 'net.ipv4.conf.all.send_redirects', '0'),
    sysctl(rt, `net.ipv4.conf.${plan.router.bridge}.send_redirects`, '0'),
    // Two ENIs on one segment: each answers ARP only for its own addresses (as the VPC only ever asks the right one).
    sysctl(ns, 'net.ipv4.conf.all.arp_ignore', '1'),
    sysctl(ns, 'net.ipv4.ip_forward', '1'),
  ]
  for (const eni of node.aws?.enis ?? []) {
    steps.push(
      ip(ns, 'link', 'add', eni.device, 'address', eni.mac, 'mtu', '1500', 'type', 'veth', 'peer', 'name', eni.routerPort, 'netns', rt),
      ip(rt, 'link', 'set', eni.routerPort, 'master', plan.router.bridge),
      ip(rt, 'link', 'set', eni.routerPort, 'up'),
      ip(ns, 'addr', 'add', `${eni.ip}/24`, 'dev', eni.device),
      ip(ns, 'link', 'set', eni.device, 'up'),
      sysctl(ns, `net.ipv4.neigh.${eni.device}.proxy_delay`, '0'),
    )
    if (eni.table !== undefined) {
      // ipamd moves a secondary ENI's connected route out of main into the ENI's own table.
      steps.push(ip(ns, 'route', 'del', plan.underlayCIDR, 'dev', eni.device))
      for (const r of eni.tableRoutes) steps.push({netns: ns, argv: [...routeArgv('replace', ns, r), 'table', String(eni.table)]})
    }
  }
  for (const route of node.routes.filter((r) => r.purpose !== 'pod')) steps.push({netns: ns, argv: routeArgv('replace', ns, route)})
  return steps
}

/**
 * What the VPC CNI plugin does for one pod: the veth, the pod's /32 with the link-local gateway and
 * a permanent neighbour entry for it, the host's /32 route and the pod's rules; and, for the
 * emulated VPC, the pod's ENI answering ARP for its address.
 */
export function awsPodSteps(node: NodePlan, pod: PodPlan): Step[] {
  const ns = pod.netns
  const veth = pod.hostVeth
  const eni = pod.aws?.eni ?? 'eth0'
  const podRoute = node.routes.find((r) => r.purpose === 'pod' && r.toPod === pod.name)
  return [
    ...routedPodSteps(node, pod),
    ...(pod.aws ? [ip(ns, 'neigh', 'replace', pod.gateway, 'lladdr', pod.aws.gatewayMac, 'dev', 'eth0', 'nud', 'permanent')] : []),
    ip(node.netns, 'link', 'set', veth, 'up'),
    ...(podRoute ? [{netns: node.netns, argv: routeArgv('replace', node.netns, podRoute)}] : []),
    ...(node.aws?.rules ?? []).filter((r) => r.toPod === pod.name).map((r) => ({netns: node.netns, argv: ruleArgv('add', node.netns, r)})),
    ip(node.netns, 'neigh', 'replace', 'proxy', pod.ip, 'dev', eni),
  ]
}
