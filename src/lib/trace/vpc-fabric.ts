/**
 * Pods that are addresses of the node's own subnet (the AWS VPC CNI: secondary addresses of the
 * node's ENIs): no node routes another node's pods; the subnet itself — a cloud VPC's fabric —
 * delivers each of its addresses to the interface that holds it, whether the packet is sent to the
 * address on-link or to the subnet's gateway. So a packet leaving by a device whose subnet holds
 * both its next hop and the destination pod, and the pod's node too, reaches that node (as does
 * one of that node's own addresses sent through the gateway).
 *
 * Which of the node's interfaces (ENIs) it arrives on is not in the node's evidence as such; the
 * VPC CNI's per-pod rule says it: "from POD lookup T" where T's default route leaves by the ENI
 * the pod's address belongs to. Without such a rule the address is the primary ENI's (the device
 * holding the node's InternalIP).
 */
import type {NodeModel} from '../model/cluster.js'
import type {NodeDatapath} from '../model/node.js'
import {cidrContains, normaliseCidr, parseIp} from '../net/cidr.js'
import {describeRoute} from '../parse/iproute2/routes.js'
import {describeRule} from '../parse/iproute2/rules.js'
import {sourceOf} from './evidence.js'
import type {TraceEvidence} from './types.js'
import {podByIp, type Walk} from './walk.js'

export interface FabricDelivery {
  node: NodeModel
  /** The owner's interface the packet arrives on. */
  inIface: string
  subnet: string
  action: string
  evidence: TraceEvidence[]
}

/** The subnet (as "a.b.c.d/len") of an address on `dev` that holds every one of `ips`. */
function subnetOn(dp: NodeDatapath, dev: string, ips: string[]): {subnet: string; text: string} | undefined {
  for (const i of dp.addrs ?? []) {
    if (i.ifname !== dev) continue
    for (const a of i.addrs) {
      if (a.family !== 'inet' || a.prefixlen >= 32) continue
      const subnet = normaliseCidr(`${a.local}/${a.prefixlen}`)
      if (subnet && ips.every((ip) => parseIp(ip) !== undefined && cidrContains(subnet, ip))) return {subnet, text: `${dev} inet ${a.local}/${a.prefixlen}`}
    }
  }
  return undefined
}

/** The owner's interface that holds `ip`: the ENI its from-rule's table leaves by, else the one with the node's InternalIP. */
function arrivalOn(remote: NodeDatapath | undefined, owner: NodeModel, ip: string): {ifname: string; evidence: TraceEvidence[]} {
  const rule = remote?.rules4?.find((r) => !r.not && r.action === 'lookup' && (r.src === ip || r.src === `${ip}/32`) && r.table !== undefined && r.table !== 'main' && r.table !== 'local')
  const route = rule ? remote?.routes4?.find((r) => r.table === rule.table && r.prefixLength === 0 && r.dev) : undefined
  if (remote && rule && route?.dev) {
    return {ifname: route.dev, evidence: [{source: sourceOf(remote, 'rules4'), text: describeRule(rule)}, {source: sourceOf(remote, 'routes4'), text: describeRoute(route)}]}
  }
  const internal = owner.internalIPs.find((x) => parseIp(x)?.family === 4)
  const ifname = internal ? remote?.addrs?.find((i) => i.addrs.some((a) => a.local === internal))?.ifname : undefined
  return {ifname: ifname ?? 'eth0', evidence: []}
}

/**
 * How the subnet of `dev` delivers pod address `dst` (sent to `nextHop`, itself or the gateway) to
 * its node `owner`; undefined when this is not that layout (the pod is not an address of that subnet).
 */
export function fabricDelivery(w: Walk, dp: NodeDatapath, dev: string, nextHop: string, dst: string, owner: NodeModel): FabricDelivery | undefined {
  const pod = podByIp(w.cluster, dst)
  const remote = w.node(owner.name)
  const held = pod ? undefined : remote?.addrs?.find((i) => i.addrs.some((x) => x.local === dst))?.ifname
  if (!held && (!pod || pod.node !== owner.name)) return undefined
  const internal = owner.internalIPs.filter((x) => parseIp(x)?.family === 4)
  const on = subnetOn(dp, dev, [dst, nextHop])
  if (!on || !internal.some((x) => cidrContains(on.subnet, x))) return undefined
  const arrival = held ? {ifname: held, evidence: []} : arrivalOn(remote, owner, dst)
  const via = nextHop === dst ? 'on-link' : `through its gateway ${nextHop}`
  return {
    node: owner,
    inIface: arrival.ifname,
    subnet: on.subnet,
    action: `${dst} is an address of the subnet ${on.subnet} (sent ${via}): the subnet delivers it to ${owner.name} ${arrival.ifname}, which holds it`,
    evidence: [
      {source: sourceOf(dp, 'addrs'), text: on.text},
      pod ? {source: `Pod ${pod.namespace}/${pod.name}`, text: `status.podIP: ${dst}; spec.nodeName: ${owner.name}`} : {source: sourceOf(remote as NodeDatapath, 'addrs'), text: `${held ?? ''} inet ${dst} (on ${owner.name})`},
      ...arrival.evidence,
    ],
  }
}

/**
 * The node that has `ip` on one of its interfaces (node evidence, not the API): a secondary ENI's
 * own address, which a Service's masquerade may make the source of a request and so the
 * destination of its reply.
 */
export function nodeHoldingAddress(w: Walk, ip: string): NodeModel | undefined {
  return w.cluster.nodes.find((n) => w.node(n.name)?.addrs?.some((i) => i.ifname !== 'lo' && i.addrs.some((x) => x.local === ip)))
}
