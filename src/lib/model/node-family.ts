/**
 * One address family's share of a node's datapath: IPv4 and IPv6 have their own routes, rules,
 * iptables (iptables-save vs ip6tables-save), conntrack table and forwarding switch, and every
 * place that walks or checks a packet must read the ones of the packet's family. Evidence ids are
 * kept with each piece so a hop or a finding quotes the command that produced it.
 */
import type {ConntrackEntry} from '../parse/conntrack.js'
import type {IptablesDump} from '../parse/iptables-save.js'
import type {Route} from '../parse/iproute2/routes.js'
import type {Rule} from '../parse/iproute2/rules.js'
import type {Family} from '../net/cidr.js'
import type {NodeDatapath} from './node.js'

export interface FamilyDatapath {
  family: Family
  routes?: Route[]
  rules?: Rule[]
  iptables?: IptablesDump
  conntrack?: ConntrackEntry[]
  routesId: 'routes4' | 'routes6'
  rulesId: 'rules4' | 'rules6'
  iptablesId: 'iptables-save' | 'ip6tables-save'
  conntrackId: 'conntrack' | 'conntrack6'
  /** The switch the kernel's forward path reads: ip_forward, or conf.all.forwarding for IPv6 (ip6_forward). */
  forwardingKey: 'net.ipv4.ip_forward' | 'net.ipv6.conf.all.forwarding'
  /** What bridged traffic of this family is passed to: bridge-nf-call-iptables or -ip6tables. */
  bridgeNfKey: 'net.bridge.bridge-nf-call-iptables' | 'net.bridge.bridge-nf-call-ip6tables'
  /** `ip addr`'s family name for this family's addresses. */
  addrFamily: 'inet' | 'inet6'
  /** The host prefix length: /32 or /128. */
  hostPrefix: 32 | 128
}

export function familyDatapath(dp: NodeDatapath, family: Family): FamilyDatapath {
  if (family === 6) {
    return {
      family, routes: dp.routes6, rules: dp.rules6, iptables: dp.iptables6, conntrack: dp.conntrack6,
      routesId: 'routes6', rulesId: 'rules6', iptablesId: 'ip6tables-save', conntrackId: 'conntrack6',
      forwardingKey: 'net.ipv6.conf.all.forwarding', bridgeNfKey: 'net.bridge.bridge-nf-call-ip6tables', addrFamily: 'inet6', hostPrefix: 128,
    }
  }
  return {
    family, routes: dp.routes4, rules: dp.rules4, iptables: dp.iptables4, conntrack: dp.conntrack4,
    routesId: 'routes4', rulesId: 'rules4', iptablesId: 'iptables-save', conntrackId: 'conntrack',
    forwardingKey: 'net.ipv4.ip_forward', bridgeNfKey: 'net.bridge.bridge-nf-call-iptables', addrFamily: 'inet', hostPrefix: 32,
  }
}

/** The routing tables of a family, for lookupRoute (rules absent: the kernel's defaults). */
export function familyTables(dp: NodeDatapath, family: Family): {rules: Rule[]; routes: Route[]} {
  const f = familyDatapath(dp, family)
  return {rules: f.rules ?? [], routes: f.routes ?? []}
}
