/**
 * What calico-node writes on its Node: the address it uses for the node (projectcalico.org/IPv4Address,
 * with its prefix length) and the address Calico IPAM gave the node's VXLAN device
 * (projectcalico.org/IPv4VXLANTunnelAddr), and their IPv6 twins. Other nodes' routes to this node's
 * blocks go "via TUNNEL_ADDR dev vxlan.calico onlink", so the annotation says whose VTEP a route's
 * gateway is even where the neighbour and FDB entries are gone. Malformed values are left out.
 */
import {parseIp} from '../../net/cidr.js'
import {rec, str} from './read.js'

export const CALICO_IPV4_ADDRESS = 'projectcalico.org/IPv4Address'
export const CALICO_IPV4_VXLAN_TUNNEL = 'projectcalico.org/IPv4VXLANTunnelAddr'
export const CALICO_IPV6_ADDRESS = 'projectcalico.org/IPv6Address'
export const CALICO_IPV6_VXLAN_TUNNEL = 'projectcalico.org/IPv6VXLANTunnelAddr'

export interface CalicoNodeAddresses {
  /** IPv4Address without its prefix length. */
  ipv4Address?: string
  ipv4VxlanTunnelAddr?: string
  ipv6Address?: string
  ipv6VxlanTunnelAddr?: string
}

/** The annotation each field is read from, for evidence lines. */
export const CALICO_ANNOTATION_OF: Readonly<Record<keyof CalicoNodeAddresses, string>> = {
  ipv4Address: CALICO_IPV4_ADDRESS,
  ipv4VxlanTunnelAddr: CALICO_IPV4_VXLAN_TUNNEL,
  ipv6Address: CALICO_IPV6_ADDRESS,
  ipv6VxlanTunnelAddr: CALICO_IPV6_VXLAN_TUNNEL,
}

/** The Calico addresses a Node's metadata.annotations carry, or undefined when it has none. */
export function calicoNodeAddresses(metadata: unknown): CalicoNodeAddresses | undefined {
  const annotations = rec(rec(metadata).annotations)
  const ip = (key: string, family: 4 | 6, prefixed: boolean): string | undefined => {
    const text = str(annotations[key])
    if (text === undefined) return undefined
    const slash = text.indexOf('/')
    if (slash >= 0 && (!prefixed || !/^\d{1,3}$/.test(text.slice(slash + 1)))) return undefined
    const parsed = parseIp(slash >= 0 ? text.slice(0, slash) : text)
    return parsed?.family === family ? parsed.text : undefined
  }
  const out: CalicoNodeAddresses = {}
  const v4 = ip(CALICO_IPV4_ADDRESS, 4, true)
  const t4 = ip(CALICO_IPV4_VXLAN_TUNNEL, 4, false)
  const v6 = ip(CALICO_IPV6_ADDRESS, 6, true)
  const t6 = ip(CALICO_IPV6_VXLAN_TUNNEL, 6, false)
  if (v4) out.ipv4Address = v4
  if (t4) out.ipv4VxlanTunnelAddr = t4
  if (v6) out.ipv6Address = v6
  if (t6) out.ipv6VxlanTunnelAddr = t6
  return Object.keys(out).length > 0 ? out : undefined
}

interface AnnotatedNode {
  name: string
  calico?: CalicoNodeAddresses
}

/** The node's VXLAN tunnel address of that family, from its annotation. */
export function calicoTunnelAddr(node: AnnotatedNode, family: 4 | 6): string | undefined {
  return family === 6 ? node.calico?.ipv6VxlanTunnelAddr : node.calico?.ipv4VxlanTunnelAddr
}

/** The node whose annotation names `ip` as its VXLAN tunnel address. */
export function nodeByCalicoTunnel<T extends AnnotatedNode>(nodes: readonly T[], ip: string): T | undefined {
  const family = parseIp(ip)?.family
  if (family === undefined) return undefined
  return nodes.find((n) => calicoTunnelAddr(n, family) === ip)
}

/** The annotation line that says `node`'s VXLAN tunnel address, as evidence. */
export function calicoTunnelEvidence(node: AnnotatedNode, family: 4 | 6): {source: string; text: string} | undefined {
  const addr = calicoTunnelAddr(node, family)
  if (addr === undefined) return undefined
  return {source: `api: Node ${node.name} metadata.annotations`, text: `${family === 6 ? CALICO_IPV6_VXLAN_TUNNEL : CALICO_IPV4_VXLAN_TUNNEL}: ${addr}`}
}

/** Calico's VXLAN devices: the annotations describe the VTEPs behind these, not flannel's or anyone else's. */
export function isCalicoVxlanDevice(ifname: string): boolean {
  return ifname === 'vxlan.calico' || ifname === 'vxlan-v6.calico'
}

export interface CalicoVtepMismatch {
  /** The remote node's own tunnel address (from its annotation). */
  expected: string
  /** The node whose tunnel address the gateway is, if any. */
  holder?: string
  message: string
  evidence: {source: string; text: string}[]
}

/**
 * A route to `remote`'s block through Calico's VXLAN device whose gateway is not the tunnel address
 * `remote`'s annotation names: another node's, or no node's (a replaced node's old address). Undefined
 * when the gateway is right, or the annotations do not say (no annotation on `remote`).
 */
export function calicoVtepMismatch(nodes: readonly AnnotatedNode[], remote: AnnotatedNode, gateway: string, dev: string, where: string): CalicoVtepMismatch | undefined {
  const family = parseIp(gateway)?.family
  if (family === undefined || !isCalicoVxlanDevice(dev)) return undefined
  const expected = calicoTunnelAddr(remote, family)
  const remoteEv = calicoTunnelEvidence(remote, family)
  if (expected === undefined || !remoteEv || expected === gateway) return undefined
  const annotation = family === 6 ? CALICO_IPV6_VXLAN_TUNNEL : CALICO_IPV4_VXLAN_TUNNEL
  const holder = nodeByCalicoTunnel(nodes, gateway)
  const holderEv = holder ? calicoTunnelEvidence(holder, family) : undefined
  const message = holder
    ? `route to ${where} goes via VTEP ${gateway}, which is ${holder.name}'s VXLAN tunnel address (${annotation}); ${remote.name}'s is ${expected}`
    : `route to ${where} goes via VTEP ${gateway}, which no Node's ${annotation} carries (a replaced node's old tunnel address?); ${remote.name}'s is ${expected}`
  return {expected, ...(holder ? {holder: holder.name} : {}), message, evidence: [remoteEv, ...(holderEv ? [holderEv] : [])]}
}
