/**
 * Pods attached without a bridge: a host veth with no master and no address of its own, and a
 * host route (/32, /128) to the pod through it — Calico's layout (cali*), also Cilium's and the
 * clouds'. The node reaches the pod by that route; the pod reaches the node through whatever
 * answers ARP on the veth. Shared by rp-filter-strict (strict reverse-path filtering is correct on
 * such a veth: the route back to the source is the veth itself) and proxy-arp-off.
 */
import type {NodeDatapath} from '../model/node.js'
import type {Link} from '../parse/iproute2/links.js'
import type {Route} from '../parse/iproute2/routes.js'
import {isPodVeth} from './evidence.js'

export interface RoutedVeth {
  link: Link
  /** The host routes to the pod's addresses through this veth, in table order. */
  routes: Route[]
}

const cache = new WeakMap<NodeDatapath, RoutedVeth[]>()

export function routedVeths(node: NodeDatapath): RoutedVeth[] {
  const hit = cache.get(node)
  if (hit) return hit
  const hostRoutes = new Map<string, Route[]>()
  for (const r of [...(node.routes4 ?? []), ...(node.routes6 ?? [])]) {
    if (r.table !== 'main' || r.type !== 'unicast' || r.gateway || r.nexthops || !r.dev) continue
    if (r.prefixLength !== (r.family === 4 ? 32 : 128)) continue
    const list = hostRoutes.get(r.dev)
    if (list) list.push(r)
    else hostRoutes.set(r.dev, [r])
  }
  const out: RoutedVeth[] = []
  for (const l of node.links ?? []) {
    const routes = hostRoutes.get(l.ifname)
    if (!routes || l.master || !isPodVeth(node, l)) continue
    out.push({link: l, routes})
  }
  cache.set(node, out)
  return out
}

/** The host address of a /32 or /128 route's destination. */
export function hostOf(r: Route): string {
  return r.dst.slice(0, r.dst.lastIndexOf('/'))
}
