/**
 * The host side of a pod's veth, told apart from a node's uplink veth (a node in a container or a
 * netns lab has one) by its addresses: a pod's carries none but host ones (/32, /128: a routed
 * CNI's gateway), an uplink carries the node's address with its subnet, in either family — an
 * IPv6-only node's uplink holds only its /64. Shared by trace and the checks so both judge alike.
 */
import type {InterfaceAddress} from '../parse/iproute2/addrs.js'
import type {Link} from '../parse/iproute2/links.js'
import type {NodeDatapath} from './node.js'

/** An address wider than a host's (/32, /128), outside host and link scope: a subnet the interface is on. */
export function isSubnetAddress(a: Pick<InterfaceAddress, 'family' | 'prefixlen' | 'scope'>): boolean {
  if (a.scope === 'host' || a.scope === 'link') return false
  return (a.family === 'inet' && a.prefixlen !== 32) || (a.family === 'inet6' && a.prefixlen !== 128)
}

/** A veth whose peer is in another namespace and that holds no subnet address: a pod's host side. */
export function isPodFacingVeth(node: NodeDatapath, l: Link): boolean {
  if (l.kind !== 'veth' || l.linkNetnsid === undefined) return false
  const addrs = node.addrs?.find((a) => a.ifname === l.ifname)?.addrs ?? []
  return !addrs.some(isSubnetAddress)
}
