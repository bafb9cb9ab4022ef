/**
 * The address ranges a node delivers onto its own bridges: each bridge's connected prefixes (its
 * addresses) and the main-table routes that point at the bridge without a gateway. Whatever falls
 * in such a range is ARPed for on that bridge, never routed to another node. Shared by
 * cidr-overlap (which reports a claim that covers someone else's range) and the pod-CIDR route
 * checks (which leave a route explained by that claim to cidr-overlap, so the root cause is
 * reported once).
 */
import type {NodeDatapath} from '../model/node.js'
import {cidrOverlaps, parseCidr, type Cidr} from '../net/cidr.js'
import {describeRoute} from '../parse/iproute2/routes.js'
import type {Evidence} from '../report/finding.js'
import {nodeEvidence} from './evidence.js'

export interface BridgeClaim {
  dev: string
  cidr: Cidr
  /** The address line first (when there is one), then the route line. */
  evidence: Evidence[]
}

const LINK_LOCAL6 = 'fe80::/10'

const cache = new WeakMap<NodeDatapath, BridgeClaim[]>()

export function bridgeClaims(node: NodeDatapath): BridgeClaim[] {
  const hit = cache.get(node)
  if (hit) return hit
  const bridges = new Set((node.links ?? []).filter((l) => l.kind === 'bridge').map((l) => l.ifname))
  const claims = new Map<string, BridgeClaim>()
  const add = (dev: string, text: string, ev: Evidence) => {
    const cidr = parseCidr(text)
    if (!cidr) return
    const key = `${dev}|${cidr.text}`
    const existing = claims.get(key)
    if (existing) existing.evidence.push(ev)
    else claims.set(key, {dev, cidr, evidence: [ev]})
  }
  for (const iface of node.addrs ?? []) {
    if (!bridges.has(iface.ifname)) continue
    for (const a of iface.addrs) {
      if (a.scope === 'host' || a.scope === 'link') continue
      add(iface.ifname, a.cidr, nodeEvidence(node, 'addrs', `${iface.ifname} ${a.family} ${a.local}/${a.prefixlen}`))
    }
  }
  for (const [routes, id] of [[node.routes4, 'routes4'], [node.routes6, 'routes6']] as const) {
    for (const r of routes ?? []) {
      if (r.table !== 'main' || r.type !== 'unicast' || r.gateway || r.nexthops || !r.dev || !bridges.has(r.dev)) continue
      // Every IPv6 interface has fe80::/64 on-link; that is no claim on anyone's range.
      if (cidrOverlaps(LINK_LOCAL6, r.dst)) continue
      add(r.dev, r.dst, nodeEvidence(node, id, describeRoute(r)))
    }
  }
  const out = [...claims.values()]
  cache.set(node, out)
  return out
}

/** The claim of bridge `dev` on `node` that covers part of `cidr`, if any. */
export function bridgeClaimOver(node: NodeDatapath, dev: string | undefined, cidr: Cidr | string): BridgeClaim | undefined {
  if (!dev) return undefined
  return bridgeClaims(node).find((c) => c.dev === dev && cidrOverlaps(c.cidr, cidr))
}
