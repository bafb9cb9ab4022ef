/**
 * A connection works only if its reply gets back. After a delivered request, the reply is walked
 * from where the request arrived to the client, as conntrack sees it: ESTABLISHED (no nat table,
 * stateful policies admit it), un-masqueraded at the node that masqueraded the request, and
 * un-DNATed at the node that DNATed it — which needs the reply to pass netfilter there (a reply
 * switched on a bridge with br_netfilter off does not: bridge-nf-off). A reply that dies turns the
 * verdict into dropped, with its hops appended and marked ↩.
 */
import type {Packet} from '../datapath/netfilter/packet.js'
import {visitNode} from './node-hop.js'
import {arrival, leavePod} from './pod-start.js'
import type {HopDraft, Leaf, ReplyContext, Walk} from './walk.js'

export const REPLY_MARK = '↩ '

export function withReply(w: Walk, leaf: Leaf): Leaf {
  const d = leaf.delivered
  // Beyond the cluster (an external client) the way back is not in evidence; a pod reaching itself replies inside itself.
  if (leaf.verdict !== 'delivered' || !d || w.source.kind === 'external') return leaf
  const req = d.packet
  if (!req.src || req.src === req.dst) return leaf
  const packet: Packet = {
    family: req.family, src: req.dst, dst: req.src, protocol: req.protocol, mark: 0, ctstate: 'ESTABLISHED',
    ...(req.dport === undefined ? {} : {sport: req.dport}),
    ...(req.sport === undefined ? {} : {dport: req.sport}),
    // An echo reply: ICMP type 0, ICMPv6 type 129.
    ...(req.protocol === 'icmp' ? {icmpType: req.family === 6 ? 129 : 0, icmpCode: 0} : {}),
  }
  const reply: ReplyContext = {
    ...(leaf.dnat?.node && leaf.dnat.original ? {dnat: {node: leaf.dnat.node, original: leaf.dnat.original}} : {}),
    ...(leaf.snat ? {unSnat: leaf.snat} : {}),
  }
  // An echo reply is as big as the request; a TCP/UDP answer's size is not known.
  const {size: _size, ...base} = w
  const rw: Walk = {...base, reply, ...(req.protocol === 'icmp' && w.size !== undefined ? {size: w.size} : {})}
  const leaves = d.pod
    ? leavePod(rw, {ip: req.dst, node: d.node, name: `pod/${d.pod.namespace}/${d.pod.name}`, short: d.pod.name, evidence: []}, packet)
    : visitNode(rw, {...arrival(d.node, packet, undefined, d.node, []), note: `the reply, generated on ${d.node}`})
  const bad = leaves.find((l) => l.verdict === 'dropped') ?? leaves.find((l) => l.verdict === 'unknown')
  if (!bad?.failure) return leaf
  const failed = bad.failure.hop
  let mapped: HopDraft | undefined
  const hops = bad.hops.map((h, i) => {
    const m: HopDraft = {...h, label: `${REPLY_MARK}${h.label}`, action: i === 0 ? `the reply: ${h.action}` : h.action}
    if (h === failed) mapped = m
    return m
  })
  return {
    ...leaf,
    hops: [...leaf.hops, ...hops],
    verdict: bad.verdict,
    failure: {code: bad.failure.code, message: `the reply does not get back: ${bad.failure.message}`, hop: mapped ?? failed},
  }
}
