/**
 * Where a packet from a pod starts: the pod's eth0, then its host side on the node — identified from
 * the node's own state (the route back to the pod, neighbour + FDB on the bridge) — then the node.
 * Used for the traced source and for the reply from the pod that was reached.
 */
import type {Packet} from '../datapath/netfilter/packet.js'
import {lookupRoute} from '../net/route-lookup.js'
import {familyDatapath} from '../model/node-family.js'
import {bridgeState, downDeviceFor, podAttachment} from './bridge.js'
import {linkEvidence, sourceOf} from './evidence.js'
import {gatewayUnanswered, unroutedLocalPod} from './routed-veth.js'
import {visitNode, type Arrival} from './node-hop.js'
import type {TraceEvidence} from './types.js'
import {failLeaf, hop, type HopDraft, type Leaf, type Walk} from './walk.js'

export interface PodOrigin {
  ip: string
  node: string | null
  /** "pod/default/web-1-1" (or the address). */
  name: string
  /** "web-1-1", for the path line. */
  short: string
  evidence: TraceEvidence[]
}

export function arrival(node: string, packet: Packet, inIface: string | undefined, label: string, hops: HopDraft[]): Arrival {
  return {node, packet, ...(inIface === undefined ? {} : {inIface}), label, hops, masquerade: false, visited: []}
}

export function leavePod(w: Walk, origin: PodOrigin, packet: Packet): Leaf[] {
  const {ip, node: nodeName} = origin
  const eth0 = hop(nodeName, 'eth0', `${origin.short} eth0`, `leaves pod ${origin.name} by eth0 from ${ip}`, 'ok', origin.evidence)
  if (!nodeName) return [failLeaf([], eth0, 'evidence-missing', `pod ${origin.name} is not scheduled on a node`, {masquerade: false}, true)]
  const dp = w.node(nodeName)
  const fam = dp ? familyDatapath(dp, packet.family) : undefined
  if (!dp || !fam?.routes) {
    const id = fam?.routesId ?? 'routes4'
    const h = hop(nodeName, null, 'veth?', `${nodeName}'s ${packet.family === 6 ? 'IPv6 ' : ''}routes are not in evidence`, 'unknown', dp ? [{source: sourceOf(dp, id), text: dp.evidence[id]?.status ?? 'absent'}] : [])
    return [failLeaf([eth0], h, 'evidence-missing', `${nodeName}'s datapath was not gathered`, {masquerade: false}, true)]
  }
  // The node's route back to the pod names the device the pod sits behind (a bridge, or a routed veth).
  const back = lookupRoute({rules: fam.rules ?? [], routes: fam.routes}, {dst: ip})
  const dev = back.kind === 'unicast' && !back.gateway ? back.dev : undefined
  const down = downDeviceFor(dp, ip)
  if (!dev && down) {
    const h = hop(nodeName, down.ifname, down.ifname, `${down.ifname}, which holds ${ip}'s subnet, is down`, 'fail', [linkEvidence(dp, down)])
    return [failLeaf([eth0], h, 'link-down', `${nodeName}: ${down.ifname} is down`, {masquerade: false})]
  }
  const unrouted = dev ? undefined : unroutedLocalPod(w, dp, ip)
  if (unrouted) {
    const h = hop(nodeName, unrouted.device ?? null, unrouted.device ?? 'veth?', unrouted.message, 'fail', unrouted.evidence)
    return [failLeaf([eth0], h, unrouted.code, unrouted.message, {masquerade: false})]
  }
  if (!dev) {
    const h = hop(nodeName, null, 'veth?', `${nodeName} has no direct route back to ${ip}`, 'fail', back.trail.map((t) => ({source: sourceOf(dp, fam.routesId), text: t})))
    return [failLeaf([eth0], h, 'route-missing', `${nodeName} has no route back to its pod ${ip}`, {masquerade: false})]
  }
  const att = podAttachment(dp, ip, dev)
  const veth = hop(nodeName, att.device, att.device ?? 'veth?', att.action, att.status, att.evidence, att.code)
  if (att.status !== 'ok') return [failLeaf([eth0], veth, att.code ?? 'evidence-missing', `${nodeName}: ${att.action}`, {masquerade: false}, att.status === 'unknown')]
  const b = bridgeState(dp, dev)
  const noGateway = b.isBridge ? undefined : gatewayUnanswered(w, dp, dev)
  if (noGateway) {
    const h = hop(nodeName, dev, dev, noGateway.message, 'fail', noGateway.evidence)
    return [failLeaf([eth0], h, 'route-missing', `${nodeName}: ${noGateway.message}`, {masquerade: false})]
  }
  if (b.isBridge && b.status !== 'ok') {
    const h = hop(nodeName, dev, dev, b.action, b.status, b.evidence, b.code)
    return [failLeaf([eth0, veth], h, b.code ?? 'link-down', `${nodeName}: ${b.action}`, {masquerade: false}, b.status === 'unknown')]
  }
  // The bridge is where the node's stack sees the packet (a routed CNI: the veth itself).
  const hops: HopDraft[] = b.isBridge ? [eth0, veth] : [eth0]
  const label = b.isBridge ? dev : `${nodeName} ${dev}`
  return visitNode(w, {...arrival(nodeName, {...packet, inIface: dev}, dev, label, hops), ...(att.device ? {inPort: att.device} : {})})
}
