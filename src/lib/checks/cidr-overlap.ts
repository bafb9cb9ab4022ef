import {parseCidr, cidrContainsCidr, type Cidr} from '../net/cidr.js'
import {findOverlaps, type PrefixItem} from '../net/interval-index.js'
import type {Evidence, Finding} from '../report/finding.js'
import type {Check} from './types.js'
import {api, nodeEvidence} from './evidence.js'

type Kind = 'pod CIDR' | 'cluster pod CIDR' | 'Service CIDR' | 'node subnet' | 'bridge'

interface Range {
  kind: Kind
  cidr: Cidr
  /** Nodes it belongs to (pod CIDRs, node subnets, bridges); identical prefixes are merged. */
  owners: string[]
  evidence: Evidence[]
  /** A bridge inside its own node's pod CIDR: the CNI bridge, expected. */
  cniBridge?: boolean
  label: string
}

export const cidrOverlap: Check = {
  id: 'cidr-overlap',
  title: 'Pod, Service and node address ranges do not overlap',
  severity: 'error',
  requires: ['cluster:nodes', 'cluster:services'],
  remediation: 'give every node a distinct podCIDR inside a cluster CIDR that avoids the Service CIDR, node subnets and local bridges (e.g. set docker0 "bip" or remove docker0)',
  explanation:
    'When two ranges overlap, the kernel picks one route for both and packets meant for a pod go to a Service, a node or a local bridge instead (docker0 at 172.17.0.0/16 is the classic case).',
  run(ctx) {
    const cluster = ctx.cluster()
    const ranges = new Map<string, Range>()
    const add = (kind: Kind, text: string, owner: string | undefined, ev: Evidence, label: string) => {
      const cidr = parseCidr(text)
      if (!cidr) return
      const key = `${kind}|${cidr.text}`
      const existing = ranges.get(key)
      if (existing) {
        if (owner && !existing.owners.includes(owner)) {
          existing.owners.push(owner)
          if (existing.evidence.length < 3) existing.evidence.push(ev)
        }
        return
      }
      ranges.set(key, {kind, cidr, owners: owner ? [owner] : [], evidence: [ev], label})
    }
    for (const n of cluster.nodes) n.podCIDRs.forEach((c, i) => add('pod CIDR', c, n.name, api('Node', n.name, `spec.podCIDRs[${i}]`, c), c))
    const kpSource = cluster.kubeProxy.source ?? 'ConfigMap kube-system/kube-proxy'
    for (const c of cluster.cidrs.podFromKubeProxy) add('cluster pod CIDR', c, undefined, {source: `api: ${kpSource} clusterCIDR`, text: c}, c)
    const svc = cluster.cidrs.serviceAssumed
    if (svc) {
      const ip = cluster.cidrs.kubernetesServiceIPs[0] ?? ''
      add('Service CIDR', svc.cidr, undefined, api('Service', 'default/kubernetes', 'spec.clusterIPs[0]', `${ip} (Service CIDR ${svc.cidr} assumed: ${svc.reason})`), `${svc.cidr} (assumed)`)
    }
    const withEvidence = new Set<string>()
    for (const node of ctx.nodes) {
      const own = ctx.model.index.nodeByName().get(node.name)
      const ips = new Set(own?.internalIPs ?? [])
      const bridges = new Set((node.links ?? []).filter((l) => l.kind === 'bridge').map((l) => l.ifname))
      for (const iface of node.addrs ?? []) {
        for (const a of iface.addrs) {
          if (a.scope === 'host' || a.scope === 'link') continue
          const text = `${iface.ifname} ${a.family} ${a.local}/${a.prefixlen}`
          if (ips.has(a.local)) {
            withEvidence.add(node.name)
            add('node subnet', a.cidr, node.name, nodeEvidence(node, 'addrs', text), `${a.cidr} (${iface.ifname})`)
          } else if (bridges.has(iface.ifname)) {
            add('bridge', a.cidr, node.name, nodeEvidence(node, 'addrs', text), `${iface.ifname} ${a.cidr}`)
          }
        }
      }
    }
    for (const n of cluster.nodes) {
      if (withEvidence.has(n.name)) continue
      n.internalIPs.forEach((ip, i) => add('node subnet', ip, n.name, api('Node', n.name, `status.addresses (InternalIP ${i})`, ip), ip))
    }
    const podCidrsOf = ctx.model.index.nodeByName()
    for (const r of ranges.values()) {
      if (r.kind !== 'bridge') continue
      r.cniBridge = r.owners.every((o) => (podCidrsOf.get(o)?.podCIDRs ?? []).some((p) => cidrContainsCidr(p, r.cidr)))
    }
    const all = [...ranges.values()]
    const findings: Finding[] = []
    for (const r of all) {
      if (r.kind === 'pod CIDR' && r.owners.length > 1) findings.push(report(ctx, r, r, `pod CIDR ${r.cidr.text} is allocated to ${r.owners.length} nodes: ${r.owners.join(', ')}`))
    }
    const items: PrefixItem<Range>[] = all.map((r) => ({cidr: r.cidr, payload: r}))
    for (const [outer, inner] of findOverlaps(items)) {
      const a = outer.payload
      const b = inner.payload
      if (!conflicts(a, b)) continue
      findings.push(report(ctx, a, b, `${describe(a)} overlaps ${describe(b)}`))
    }
    return findings
  },
}

function describe(r: Range): string {
  const owners = r.owners.length === 0 ? '' : r.owners.length <= 3 ? ` on ${r.owners.join(', ')}` : ` on ${r.owners.slice(0, 3).join(', ')} and ${r.owners.length - 3} more`
  return `${r.kind} ${r.label}${r.kind === 'pod CIDR' ? ` of ${r.owners.join(', ')}` : owners}`
}

function conflicts(a: Range, b: Range): boolean {
  // Two different bridge prefixes that overlap conflict when some node has one and not the other:
  // that node sends the other's traffic into its own bridge (docker0's /16 on every node vs a pod
  // bridge elsewhere inside it). Identical prefixes are already merged into one range.
  if (a.kind === 'bridge' && b.kind === 'bridge') return a.owners.some((o) => !b.owners.includes(o)) || b.owners.some((o) => !a.owners.includes(o))
  if (a.kind === b.kind) return a.kind === 'pod CIDR'
  const pair = new Set([a.kind, b.kind])
  if (pair.has('pod CIDR') && pair.has('cluster pod CIDR')) return false
  if (pair.has('bridge')) {
    const bridge = a.kind === 'bridge' ? a : b
    const other = a.kind === 'bridge' ? b : a
    if (bridge.cniBridge && (other.kind === 'cluster pod CIDR' || (other.kind === 'pod CIDR' && bridge.owners.every((o) => other.owners.includes(o))))) return false
  }
  return true
}

function report(ctx: Parameters<Check['run']>[0], a: Range, b: Range, message: string): Finding {
  const podSide = a.kind === 'pod CIDR' ? a : b.kind === 'pod CIDR' ? b : undefined
  const nodeSide = [a, b].find((r) => r.kind === 'bridge' || r.kind === 'node subnet')
  const node = podSide?.owners[0] ?? nodeSide?.owners[0]
  return ctx.finding({
    subject: podSide?.owners[0] ? {kind: 'node', name: podSide.owners[0]} : {kind: 'cluster', name: 'cluster'},
    ...(nodeSide?.owners[0] ? {node: nodeSide.owners[0]} : node && !podSide ? {node} : {}),
    message,
    evidence: a === b ? a.evidence : [...a.evidence, ...b.evidence],
  })
}
