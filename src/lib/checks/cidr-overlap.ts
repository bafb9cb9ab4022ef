import {parseCidr, parseIp, cidrContainsCidr, makeCidr, type Cidr, type Family} from '../net/cidr.js'
import type {ClusterCidrs} from '../model/cluster/cidrs.js'
import {findOverlaps, type PrefixItem} from '../net/interval-index.js'
import type {Evidence, Finding} from '../report/finding.js'
import type {Check} from './types.js'
import {bridgeClaims} from './bridge-claims.js'
import {api, nodeEvidence} from './evidence.js'

type Kind = 'pod CIDR' | 'cluster pod CIDR' | 'Service CIDR' | 'node subnet' | 'bridge'

interface Range {
  kind: Kind
  cidr: Cidr
  /** Nodes it belongs to (pod CIDRs, node subnets, bridges); identical prefixes are merged. */
  owners: string[]
  evidence: Evidence[]
  label: string
}

export const cidrOverlap: Check = {
  id: 'cidr-overlap',
  title: 'Pod, Service and node address ranges do not overlap',
  severity: 'error',
  requires: ['cluster:nodes', 'cluster:services'],
  remediation: 'give every node a distinct podCIDR inside a cluster CIDR that avoids the Service CIDR, node subnets and local bridges (e.g. set docker0 "bip" or remove docker0)',
  explanation:
    "When two ranges overlap, the kernel picks one route for both and packets meant for a pod go to a Service, a node or a local bridge instead. On the nodes this reads each bridge's addresses and the routes onto it: docker0's 172.17.0.0/16, or a bridge given another node's pod CIDR (a stale CNI config), makes the node deliver that range onto its own bridge. Such a finding names the node and quotes the address and route lines; route-missing and route-nexthop-wrong leave the pod CIDRs it explains alone, so the cause is reported once.",
  run(ctx) {
    const cluster = ctx.cluster()
    const ranges = new Map<string, Range>()
    const add = (kind: Kind, text: string, owner: string | undefined, ev: Evidence[], label: string) => {
      const cidr = parseCidr(text)
      if (!cidr) return
      const key = `${kind}|${cidr.text}`
      const existing = ranges.get(key)
      if (existing) {
        if (owner && !existing.owners.includes(owner)) {
          existing.owners.push(owner)
          // Evidence from the first few owners only: docker0 on 5,000 nodes is one line per node.
          if (existing.evidence.length < 3 && ev[0]) existing.evidence.push(ev[0])
        }
        return
      }
      ranges.set(key, {kind, cidr, owners: owner ? [owner] : [], evidence: [...ev], label})
    }
    for (const n of cluster.nodes) n.podCIDRs.forEach((c, i) => add('pod CIDR', c, n.name, [api('Node', n.name, `spec.podCIDRs[${i}]`, c)], c))
    const kpSource = cluster.kubeProxy.source ?? 'ConfigMap kube-system/kube-proxy'
    for (const c of cluster.cidrs.podFromKubeProxy) add('cluster pod CIDR', c, undefined, [{source: `api: ${kpSource} clusterCIDR`, text: c}], c)
    // The cluster's own word on its Service ranges (ServiceCIDR objects, 1.33+), else the guess, per family.
    for (const r of cluster.cidrs.service) add('Service CIDR', r.cidr, undefined, [api('ServiceCIDR', r.serviceCIDR, r.field, r.cidr)], r.cidr)
    // A guess only where the cluster has no word to give (a server before 1.33): ServiceCIDRs that
    // could not be read (forbidden, timed out) are evidence missing, and a guess would stand in for it.
    const unread = cluster.collectionErrors.find((e) => e.source === 'servicecidrs')
    const assumed = assumedServiceRanges(cluster.cidrs)
    if (unread && assumed.length > 0) ctx.skip(`the Service CIDR is not checked: ServiceCIDRs could not be read (${unread.message}), and no range is assumed in their place`)
    for (const svc of unread ? [] : assumed) {
      add('Service CIDR', svc.cidr, undefined, [api('Service', 'default/kubernetes', svc.field, `${svc.ip} (Service CIDR ${svc.cidr} assumed: ${svc.reason})`)], `${svc.cidr} (assumed)`)
    }
    const withEvidence = new Set<string>()
    const byName = ctx.model.index.nodeByName()
    for (const node of ctx.nodes) {
      const own = byName.get(node.name)
      const ips = new Set(own?.internalIPs ?? [])
      const subnets = new Set<string>()
      for (const iface of node.addrs ?? []) {
        for (const a of iface.addrs) {
          if (a.scope === 'host' || a.scope === 'link' || !ips.has(a.local)) continue
          withEvidence.add(node.name)
          subnets.add(a.cidr)
          add('node subnet', a.cidr, node.name, [nodeEvidence(node, 'addrs', `${iface.ifname} ${a.family} ${a.local}/${a.prefixlen}`)], `${a.cidr} (${iface.ifname})`)
        }
      }
      // A bridge inside the node's own pod CIDR is its CNI bridge: whatever overlaps it overlaps
      // that pod CIDR too, which carries the finding. A bridge holding the node's own IP is its uplink.
      for (const claim of bridgeClaims(node)) {
        if (subnets.has(claim.cidr.text) || (own?.podCIDRs ?? []).some((p) => cidrContainsCidr(p, claim.cidr))) continue
        add('bridge', claim.cidr.text, node.name, claim.evidence, `${claim.dev} ${claim.cidr.text}`)
      }
    }
    for (const n of cluster.nodes) {
      if (withEvidence.has(n.name)) continue
      n.internalIPs.forEach((ip, i) => add('node subnet', ip, n.name, [api('Node', n.name, `status.addresses (InternalIP ${i})`, ip)], ip))
    }
    const all = [...ranges.values()]
    const findings: Finding[] = []
    for (const r of all) {
      if (r.kind === 'pod CIDR' && r.owners.length > 1) findings.push(report(ctx, r, r, `pod CIDR ${r.cidr.text} is allocated to ${r.owners.length} nodes: ${r.owners.join(', ')}`))
    }
    const items: PrefixItem<Range>[] = all.map((r) => ({cidr: r.cidr, payload: r}))
    const pairs = findOverlaps(items)
      .map(([outer, inner]) => [outer.payload, inner.payload] as const)
      .filter(([a, b]) => conflicts(a, b))
    // A bridge that takes another node's pod CIDR is reported for that; that it also lies inside
    // the cluster pod CIDR is the same fault, not a second one.
    const takesPodCidr = new Set(pairs.flatMap(([a, b]) => (a.kind === 'pod CIDR' ? [b] : b.kind === 'pod CIDR' ? [a] : [])))
    for (const [outer, inner] of pairs) {
      const kinds = [outer.kind, inner.kind]
      if (kinds.includes('cluster pod CIDR') && (takesPodCidr.has(outer) || takesPodCidr.has(inner))) continue
      // The node's own range first: "bridge cbr0 … on node-1 overlaps pod CIDR … of node-2".
      const [a, b] = isNodeLevel(inner) && !isNodeLevel(outer) ? [inner, outer] : [outer, inner]
      findings.push(report(ctx, a, b, `${describe(a)} overlaps ${describe(b)}`))
    }
    return findings
  },
}

/** kube-apiserver's largest Service range is 2^20 addresses (a /108 for IPv6); kubeadm's and kind's IPv6 default is a /112. */
const ASSUMED_V6_PREFIX = 112

/**
 * The Service range of each family that no ServiceCIDR object gives, guessed from the kubernetes
 * Service's ClusterIP of that family, which kube-apiserver takes as its range's first address:
 * IPv4 from well-known defaults (the cluster model's guess), IPv6 as the /112 the address is the
 * first of (never larger: a bigger guess would report overlaps the real range may not have).
 */
export function assumedServiceRanges(cidrs: ClusterCidrs): {family: Family; cidr: string; ip: string; field: string; reason: string}[] {
  const out: {family: Family; cidr: string; ip: string; field: string; reason: string}[] = []
  const known = (family: Family) => cidrs.service.some((r) => parseCidr(r.cidr)?.family === family)
  const ips = cidrs.kubernetesServiceIPs
  const at = (family: Family) => ips.findIndex((ip) => parseIp(ip)?.family === family)
  const i4 = at(4)
  if (cidrs.serviceAssumed && i4 >= 0 && !known(4)) out.push({family: 4, cidr: cidrs.serviceAssumed.cidr, ip: ips[i4] as string, field: `spec.clusterIPs[${i4}]`, reason: cidrs.serviceAssumed.reason})
  const i6 = at(6)
  const ip6 = i6 >= 0 ? parseIp(ips[i6] as string) : undefined
  if (ip6 && !known(6)) {
    const range = makeCidr(ip6, ASSUMED_V6_PREFIX)
    if (ip6.value === range.first + 1n) {
      out.push({family: 6, cidr: range.text, ip: ip6.text, field: `spec.clusterIPs[${i6}]`, reason: `the kubernetes Service has ${ip6.text}, the first address of this /${ASSUMED_V6_PREFIX} (the usual IPv6 Service range size; kube-apiserver allows up to a /108)`})
    }
  }
  return out
}

function describe(r: Range): string {
  const owners = r.owners.length === 0 ? '' : r.owners.length <= 3 ? ` on ${r.owners.join(', ')}` : ` on ${r.owners.slice(0, 3).join(', ')} and ${r.owners.length - 3} more`
  return `${r.kind} ${r.label}${r.kind === 'pod CIDR' ? ` of ${r.owners.join(', ')}` : owners}`
}

function isNodeLevel(r: Range): boolean {
  return r.kind === 'bridge' || r.kind === 'node subnet'
}

function conflicts(a: Range, b: Range): boolean {
  // Two different bridge prefixes that overlap conflict when some node has one and not the other:
  // that node sends the other's traffic into its own bridge (docker0's /16 on every node vs a
  // bridge network elsewhere inside it). Identical prefixes are already merged into one range.
  if (a.kind === 'bridge' && b.kind === 'bridge') return a.owners.some((o) => !b.owners.includes(o)) || b.owners.some((o) => !a.owners.includes(o))
  if (a.kind === b.kind) return a.kind === 'pod CIDR'
  const pair = new Set([a.kind, b.kind])
  return !(pair.has('pod CIDR') && pair.has('cluster pod CIDR'))
}

function report(ctx: Parameters<Check['run']>[0], a: Range, b: Range, message: string): Finding {
  const podSide = a.kind === 'pod CIDR' ? a : b.kind === 'pod CIDR' ? b : undefined
  const nodeSide = [a, b].find(isNodeLevel)
  // The node that misroutes: for two bridge ranges, one that has the first and not the second.
  const other = nodeSide === a ? b : a
  const node = nodeSide ? (nodeSide.owners.find((o) => !other.owners.includes(o)) ?? nodeSide.owners[0]) : undefined
  return ctx.finding({
    subject: podSide?.owners[0] ? {kind: 'node', name: podSide.owners[0]} : {kind: 'cluster', name: 'cluster'},
    ...(node ? {node} : {}),
    // Ranges are compared within their family only (findOverlaps sweeps each family apart).
    ...(a.cidr.family === 6 ? {family: 6 as const} : {}),
    message,
    evidence: a === b ? a.evidence : [...a.evidence, ...b.evidence],
  })
}
