import type {AnalysisModel} from '../model/model.js'
import type {NodeDatapath} from '../model/node.js'
import type {Link} from '../parse/iproute2/links.js'
import type {Finding} from '../report/finding.js'
import {isPodVeth, linkText, nodeEvidence, podBridges} from './evidence.js'
import type {CheckContext} from './context.js'
import type {Check} from './types.js'

/** Encapsulation overhead in bytes over an IPv4 / IPv6 underlay. */
const OVERHEAD: Record<string, [number, number]> = {vxlan: [50, 70], geneve: [50, 70], ipip: [20, 40], gre: [24, 44], wireguard: [60, 80], sit: [20, 40], ip6tnl: [40, 40]}

export const mtuMismatch: Check = {
  id: 'mtu-mismatch',
  title: 'Overlay and pod MTUs fit the underlay',
  severity: 'error',
  requires: ['node:links'],
  remediation:
    "set the overlay (and pod) MTU to the underlay MTU minus the encapsulation overhead (VXLAN: 50 bytes over IPv4) — without an overlay, to the underlay MTU — in the CNI's config, then recreate the pods; or give the node's NIC back the MTU its peers use",
  explanation:
    "Encapsulated packets are larger than the packets they carry. If the overlay MTU is more than the underlay MTU minus that overhead, full-size packets are dropped or fragmented: small requests work, large responses and TLS handshakes hang. Without an overlay (host-gw, kubenet, BGP), pods' packets leave the node as they are, so the pods' MTU (their bridge and veths) must not exceed the MTU of the node's own interface; a node whose NIC MTU is below its peers' also drops the full-size frames they send it.",
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const overlays = (node.links ?? []).filter((l) => l.kind !== undefined && OVERHEAD[l.kind] !== undefined && l.mtu !== undefined)
      for (const overlay of overlays) {
        const finding = overlayTooBig(ctx, node, overlay)
        if (finding) findings.push(finding)
      }
      if (overlays.length === 0) {
        const finding = podsTooBig(ctx, node)
        if (finding) findings.push(finding)
      }
    }
    return findings
  },
}

function overlayTooBig(ctx: CheckContext, node: NodeDatapath, overlay: Link): Finding | undefined {
  const overhead = OVERHEAD[overlay.kind ?? ''] as [number, number]
  const local = overlay.vxlan?.local
  const underlay = (node.links ?? []).find((l) => l.ifname === overlay.vxlan?.dev) ?? (local ? linkWithAddress(node, local) : undefined) ?? defaultRouteLink(node)
  if (underlay?.mtu === undefined || overlay.mtu === undefined) {
    ctx.skip(`underlay device of ${overlay.ifname} on ${node.name} not found`)
    return undefined
  }
  const bytes = local?.includes(':') ? overhead[1] : overhead[0]
  const max = underlay.mtu - bytes
  if (overlay.mtu <= max) return undefined
  return ctx.finding({
    subject: {kind: 'node', name: node.name},
    node: node.name,
    message: `${overlay.kind} ${overlay.ifname} has MTU ${overlay.mtu}, more than ${underlay.ifname}'s ${underlay.mtu} minus ${bytes} bytes of encapsulation (${max})`,
    evidence: [nodeEvidence(node, 'links', linkText(overlay)), nodeEvidence(node, 'links', linkText(underlay))],
  })
}

/** No overlay: the largest pod-facing MTU (pod bridges, pods' host veths) against the node's own interface. */
function podsTooBig(ctx: CheckContext, node: NodeDatapath): Finding | undefined {
  const links = node.links ?? []
  const bridges = podBridges(node)
  const podFacing = links.filter((l) => l.mtu !== undefined && (bridges.has(l.ifname) || isPodVeth(node, l)))
  // The bridge first on a tie: it names the pods' network rather than one pod.
  const biggest = podFacing.sort((a, b) => (b.mtu ?? 0) - (a.mtu ?? 0) || Number(bridges.has(b.ifname)) - Number(bridges.has(a.ifname)))[0]
  if (!biggest?.mtu) return undefined
  const underlay = nodeLink(ctx.model, node) ?? defaultRouteLink(node)
  if (underlay?.mtu === undefined) {
    ctx.skip(`underlay device of ${node.name} not found (no interface with its InternalIP, no default route)`)
    return undefined
  }
  if (biggest.mtu <= underlay.mtu) return undefined
  return ctx.finding({
    subject: {kind: 'node', name: node.name},
    node: node.name,
    message: `${bridges.has(biggest.ifname) ? 'pod bridge' : 'pod veth'} ${biggest.ifname} has MTU ${biggest.mtu}, more than ${underlay.ifname}'s ${underlay.mtu}, which carries pod traffic to other nodes unencapsulated`,
    evidence: [nodeEvidence(node, 'links', linkText(biggest)), nodeEvidence(node, 'links', linkText(underlay))],
  })
}

function linkWithAddress(node: NodeDatapath, ip: string): Link | undefined {
  const iface = node.addrs?.find((a) => a.addrs.some((x) => x.local === ip))
  return iface ? node.links?.find((l) => l.ifname === iface.ifname) : undefined
}

/** The interface holding one of the node's InternalIPs, as the API reports them. */
function nodeLink(model: AnalysisModel, node: NodeDatapath): Link | undefined {
  for (const ip of model.index.nodeByName().get(node.name)?.internalIPs ?? []) {
    const link = linkWithAddress(node, ip)
    if (link) return link
  }
  return undefined
}

function defaultRouteLink(node: NodeDatapath): Link | undefined {
  const dev = node.routes4?.find((r) => r.dst === '0.0.0.0/0' && r.table === 'main')?.dev
  return dev ? node.links?.find((l) => l.ifname === dev) : undefined
}
