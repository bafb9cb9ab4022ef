/**
 * Whether a node's pods use IPv6, so that IPv6-only settings (net.ipv6.conf.all.forwarding, the
 * ip6tables FORWARD chain, kube-proxy's ip6tables rules) are judged there: a node whose pods have
 * IPv6 addresses (status.podIPs) or that holds an IPv6 pod range (spec.podCIDRs). An IPv4-only
 * cluster's nodes often have IPv6 forwarding off, for good reason, and are not judged.
 */
import type {AnalysisModel} from '../model/model.js'
import type {NodeDatapath} from '../model/node.js'
import {parseIp, parseCidr} from '../net/cidr.js'
import type {Evidence} from '../report/finding.js'

export interface Ipv6Pods {
  /** Up to three of the node's pods' IPv6 addresses, for the message. */
  addresses: string[]
  /** The node's IPv6 pod ranges (spec.podCIDRs). */
  cidrs: string[]
  /** The API field that shows it. */
  evidence: Evidence
}

export function ipv6PodsOn(model: AnalysisModel, node: NodeDatapath): Ipv6Pods | undefined {
  const cluster = model.cluster
  if (!cluster) return undefined
  const n = model.index.nodeByName().get(node.name)
  const cidrs = (n?.podCIDRs ?? []).filter((c) => parseCidr(c)?.family === 6)
  const pods = cluster.pods.filter((p) => p.node === node.name && !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed')
  const withV6 = pods.flatMap((p) => p.podIPs.filter((ip) => parseIp(ip)?.family === 6).map((ip) => ({p, ip})))
  const first = withV6[0]
  if (first) {
    const i = first.p.podIPs.indexOf(first.ip)
    return {addresses: withV6.slice(0, 3).map((x) => x.ip), cidrs, evidence: {source: `api: Pod ${first.p.namespace}/${first.p.name} status.podIPs[${i}]`, text: first.ip}}
  }
  if (n && cidrs.length > 0) {
    const i = n.podCIDRs.indexOf(cidrs[0] as string)
    return {addresses: [], cidrs, evidence: {source: `api: Node ${n.name} spec.podCIDRs[${i}]`, text: cidrs[0] as string}}
  }
  return undefined
}
