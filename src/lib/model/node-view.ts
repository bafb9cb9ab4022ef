/** A compact account of one node's parsed evidence: what was read, how much, and what was not. */
import type {NodeDatapath} from './node.js'

export interface NodeView {
  name: string
  access: string
  evidence: {id: string; status: string; reason?: string; items?: number}[]
  problems: NodeDatapath['problems']
}

export function nodeView(dp: NodeDatapath): NodeView {
  const items: Record<string, number | undefined> = {
    links: dp.links?.length,
    addrs: dp.addrs?.reduce((n, i) => n + i.addrs.length, 0),
    routes4: dp.routes4?.length,
    routes6: dp.routes6?.length,
    rules4: dp.rules4?.length,
    rules6: dp.rules6?.length,
    neigh: dp.neighbours?.length,
    'bridge-links': dp.bridgePorts?.length,
    'bridge-fdb': dp.fdb?.length,
    'iptables-save': countRules(dp.iptables4),
    'ip6tables-save': countRules(dp.iptables6),
    'iptables-legacy-save': countRules(dp.iptablesLegacy),
    nft: dp.nft?.rules.length,
    'iptables-version': dp.iptablesVersion ? 1 : undefined,
    ipvsadm: dp.ipvs?.services.length,
    ipset: dp.ipsets?.sets.length,
    conntrack: dp.conntrack4?.length,
    conntrack6: dp.conntrack6?.length,
    sysctls: dp.sysctls?.length,
    'rp-filter': dp.rpFilter?.length,
    'proxy-arp': dp.proxyArp?.size,
    'ipv6-forwarding': dp.ipv6Forwarding?.length,
    'cni-conf': dp.cni?.length,
    'cni-ipam': dp.cniIpam?.length,
    'cni-results': dp.cniResults?.length,
  }
  return {
    name: dp.name,
    access: `${dp.access.kind}:${dp.access.target}`,
    evidence: Object.entries(dp.evidence).map(([id, e]) => ({
      id,
      status: e.status,
      ...(e.reason === undefined ? {} : {reason: e.reason}),
      ...(items[id] === undefined ? {} : {items: items[id]}),
    })),
    problems: dp.problems,
  }
}

function countRules(dump: NodeDatapath['iptables4']): number | undefined {
  return dump?.tables.reduce((n, t) => n + t.chains.reduce((m, c) => m + c.rules.length, 0), 0)
}
