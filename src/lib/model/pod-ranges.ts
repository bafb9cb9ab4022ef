/**
 * Every node's pod ranges: spec.podCIDRs when the CNI takes pod addresses from them, and IPAM
 * blocks that are no podCIDR (Calico's /26 blocks). Calico's IPAMBlock objects name each block's
 * node, routed yet or not, and where one covers a range it outranks the routes; elsewhere blocks
 * are read from the routing tables — the owner's blackhole route for its own block (Calico installs
 * one per block it holds), and other nodes' routes to a block through the owner (its address as
 * next hop, or its VXLAN VTEP through the neighbour and FDB entries, else the tunnel address calico-node
 * annotates on its Node). Computed once per model, and shared by the
 * checks and trace, so both own an address to the same node.
 *
 * A block read from an owner's blackhole outranks one read from someone else's route to it; a
 * block that several nodes route to different owners is dropped (which one is right is not in
 * evidence); ranges that hold a node address are the node network, not pods.
 */
import type {NodeModel} from './cluster.js'
import {isCalicoVxlanDevice, nodeByCalicoTunnel} from './cluster/calico-annotations.js'
import {clusterCni, OWN_IPAM_CNIS} from './cluster-cni.js'
import type {AnalysisModel} from './model.js'
import type {NodeDatapath} from './node.js'
import {cidrContains, cidrOverlaps, cidrContainsCidr, parseCidr, type Cidr} from '../net/cidr.js'
import {describeRoute, type Route} from '../parse/iproute2/routes.js'
import type {Evidence} from '../report/finding.js'

export interface PodRange {
  owner: NodeModel
  cidr: Cidr
  kind: 'pod CIDR' | 'IPAM block'
  /** For an IPAM block, the IPAMBlock object or route line it was read from. */
  origin?: Evidence
}

export interface PodRanges {
  ranges: PodRange[]
  /** Set when spec.podCIDRs are not the pod ranges: which CNI says so, for skip reasons. */
  ownIpam?: string
}

interface Block extends PodRange {
  from: 'blackhole' | 'route'
}

const cache = new WeakMap<AnalysisModel, PodRanges>()

export function podRanges(model: AnalysisModel): PodRanges {
  const hit = cache.get(model)
  if (hit) return hit
  const nodes = model.cluster?.nodes ?? []
  const ownIpam = ownIpamCni(model)
  const ranges: PodRange[] = []
  const podCidrs: Cidr[] = []
  if (!ownIpam) {
    for (const n of nodes) {
      for (const text of n.podCIDRs) {
        const cidr = parseCidr(text)
        if (!cidr) continue
        podCidrs.push(cidr)
        ranges.push({owner: n, cidr, kind: 'pod CIDR'})
      }
    }
  }
  // Where spec.podCIDRs are the pod ranges, a blackhole or another route is something else.
  const ownRanges = ownIpam !== undefined || podCidrs.length === 0
  const held = ownRanges ? heldBlocks(model) : []
  ranges.push(...held)
  const blocks = ownRanges ? readBlocks(model).filter((b) => !held.some((h) => cidrOverlaps(h.cidr, b.cidr))) : []
  const holes = blocks.filter((b) => b.from === 'blackhole')
  // An aggregate blackhole over other nodes' blocks is the whole pool, not one node's block.
  const ownBlocks = holes.filter((b) => !holes.some((o) => o.owner !== b.owner && cidrContainsCidr(b.cidr, o.cidr)))
  const routed = blocks.filter((b) => b.from === 'route' && !holes.some((h) => cidrOverlaps(h.cidr, b.cidr)))
  const owners = new Map<string, Set<string>>()
  for (const b of routed) {
    const set = owners.get(b.cidr.text) ?? new Set<string>()
    set.add(b.owner.name)
    owners.set(b.cidr.text, set)
  }
  const seen = new Set<string>()
  for (const b of [...ownBlocks, ...routed]) {
    const key = `${b.owner.name}|${b.cidr.text}`
    if (seen.has(key) || (b.from === 'route' && (owners.get(b.cidr.text)?.size ?? 0) > 1)) continue
    seen.add(key)
    ranges.push({owner: b.owner, cidr: b.cidr, kind: 'IPAM block', ...(b.origin ? {origin: b.origin} : {})})
  }
  const out: PodRanges = {ranges, ...(ownIpam ? {ownIpam} : {})}
  cache.set(model, out)
  return out
}

/**
 * The CNI, recognised from the DaemonSets or else from the nodes' own evidence, when it assigns pod
 * addresses from its own IPAM rather than spec.podCIDRs; undefined otherwise. Calico (and others)
 * can be told to use spec.podCIDR (host-local IPAM, "usePodCidr"): a node's CNI config saying
 * host-local is the exception. With no CNI recognised, IPAMBlocks held by nodes are Calico IPAM's.
 */
export function ownIpamCni(model: AnalysisModel): string | undefined {
  const seen = clusterCni(model).cni
  const cni = seen === undefined && (model.cluster?.ipamBlocks?.length ?? 0) > 0 ? 'calico' : seen
  if (cni === undefined || !OWN_IPAM_CNIS.has(cni)) return undefined
  const hostLocal = model.nodes.some((n) => (n.cni ?? []).some((f) => f.parsed?.plugins.some((p) => p.ipamType === 'host-local')))
  return hostLocal ? undefined : cni
}

/**
 * The blocks Calico's IPAMBlock objects give to nodes that exist. One naming a node that is gone (a
 * removed node's leftover, until Calico's IPAM garbage collection frees it) says nothing about
 * who holds the block now, so the routes decide that one.
 */
function heldBlocks(model: AnalysisModel): PodRange[] {
  const byName = model.index.nodeByName()
  const held: PodRange[] = []
  for (const b of model.cluster?.ipamBlocks ?? []) {
    const owner = byName.get(b.node)
    const cidr = parseCidr(b.cidr)
    if (!owner || !cidr) continue
    held.push({owner, cidr, kind: 'IPAM block', origin: {source: `api: IPAMBlock ${b.name} spec.affinity`, text: `host:${b.node} (spec.cidr ${b.cidr})`}})
  }
  return held
}

function readBlocks(model: AnalysisModel): Block[] {
  const byName = model.index.nodeByName()
  const byAddress = model.index.nodeByAddress()
  const nodeIps = [...byAddress.keys()]
  const blocks: Block[] = []
  for (const node of model.nodes) {
    const self = byName.get(node.name)
    if (!self) continue
    for (const [routes, id] of [[node.routes4, 'routes4'], [node.routes6, 'routes6']] as const) {
      for (const r of routes ?? []) {
        if (r.table !== 'main' || !isBlockSized(r)) continue
        const cidr = parseCidr(r.dst)
        if (!cidr || nodeIps.some((ip) => cidrContains(cidr, ip))) continue
        const origin = {source: node.evidence[id]?.source ?? `${node.name}: ${id}`, text: describeRoute(r)}
        if (r.type === 'blackhole') {
          // Not the node's own block when the pods living in it run on one other node: that node's.
          const other = podsElsewhere(model, cidr, self.name)
          blocks.push(other ? {owner: other.owner, cidr, kind: 'IPAM block', origin: other.origin, from: 'route'} : {owner: self, cidr, kind: 'IPAM block', origin, from: 'blackhole'})
          continue
        }
        if (r.type !== 'unicast' || r.nexthops) continue
        const owner = routeOwner(node, r, byAddress, model.cluster?.nodes ?? [])
        if (owner && owner.name !== self.name) blocks.push({owner, cidr, kind: 'IPAM block', origin, from: 'route'})
      }
    }
  }
  return blocks
}

/** The one other node whose pods (and none of `self`'s) hold addresses in the range, with a pod as evidence. */
function podsElsewhere(model: AnalysisModel, cidr: Cidr, self: string): {owner: NodeModel; origin: Evidence} | undefined {
  const inside = (model.cluster?.pods ?? []).filter((p) => !p.hostNetwork && p.node && p.podIPs.some((ip) => cidrContains(cidr, ip)))
  const nodes = new Set(inside.map((p) => p.node))
  const pod = inside[0]
  const owner = pod?.node ? model.index.nodeByName().get(pod.node) : undefined
  if (!pod || !owner || nodes.size !== 1 || nodes.has(self)) return undefined
  const ip = pod.podIPs.find((a) => cidrContains(cidr, a)) ?? ''
  return {owner, origin: {source: `api: Pod ${pod.namespace}/${pod.name} status.podIPs`, text: `${ip} (on ${owner.name})`}}
}

/** Neither a default route nor a host route (a single pod, or an address borrowed from a block). */
function isBlockSized(r: Route): boolean {
  return r.prefixLength > 0 && r.prefixLength < (r.family === 4 ? 32 : 128)
}

/**
 * The node a route leads to: its gateway's owner, or for a VXLAN route the owner of the VTEP behind
 * the gateway (its neighbour and FDB entries, else the Calico Node annotation naming that tunnel address).
 */
function routeOwner(node: NodeDatapath, r: Route, byAddress: Map<string, NodeModel>, nodes: readonly NodeModel[]): NodeModel | undefined {
  if (!r.gateway) return undefined
  const direct = byAddress.get(r.gateway)
  if (direct) return direct
  const dev = node.links?.find((l) => l.ifname === r.dev)
  if (dev?.kind !== 'vxlan') return undefined
  const mac = node.neighbours?.find((n) => n.dst === r.gateway && n.dev === dev.ifname && n.lladdr)?.lladdr
  const vtep = mac ? node.fdb?.find((f) => f.ifname === dev.ifname && f.mac === mac && f.dst)?.dst : undefined
  const owner = vtep ? byAddress.get(vtep) : undefined
  // Calico's gateway is the owner's tunnel address, which its Node's annotation names even when the entries are gone.
  return owner ?? (isCalicoVxlanDevice(dev.ifname) ? nodeByCalicoTunnel(nodes, r.gateway) : undefined)
}
