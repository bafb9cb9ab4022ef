/**
 * With --source-port the traced packet belongs to one flow, and the node's conntrack table may
 * already hold it: then it is not NEW, the nat table is not consulted, and it goes wherever the
 * entry's reply tuple says — a removed endpoint too (a stale entry, what kube-proxy should have
 * flushed: the lab's stale-conntrack fault).
 */
import type {ConntrackEntry} from '../parse/conntrack.js'
import type {NodeDatapath} from '../model/node.js'
import type {Packet} from '../datapath/netfilter/packet.js'
import {sourceOf} from './evidence.js'
import type {Arrival} from './node-hop.js'
import type {TraceEvidence} from './types.js'
import {failLeaf, type HopDraft, type Leaf, type Walk} from './walk.js'

export function conntrackLine(e: ConntrackEntry): string {
  const tuple = (t: NonNullable<ConntrackEntry['reply']>) => `src=${t.src} dst=${t.dst}${t.sport === null ? '' : ` sport=${t.sport}`}${t.dport === null ? '' : ` dport=${t.dport}`}`
  return [e.protocol, String(e.protocolNumber), e.timeout === null ? '' : String(e.timeout), e.state ?? '', tuple(e.original), e.reply ? tuple(e.reply) : '', ...e.flags.map((f) => `[${f}]`)].filter(Boolean).join(' ')
}

/** The entry whose original direction is this packet's flow (same protocol, addresses and ports). */
export function flowEntry(node: NodeDatapath, p: Packet): ConntrackEntry | undefined {
  if (p.sport === undefined || p.protocol === 'icmp') return undefined
  return (p.family === 6 ? node.conntrack6 : node.conntrack4)?.find((e) => e.protocol === p.protocol && e.original.src === p.src && e.original.sport === p.sport && e.original.dst === p.dst && e.original.dport === (p.dport ?? null) && e.reply !== null)
}

export const conntrackEvidence = (node: NodeDatapath, e: ConntrackEntry): TraceEvidence => ({source: sourceOf(node, e.original.src.includes(':') ? 'conntrack6' : 'conntrack'), text: conntrackLine(e)})

/**
 * The packet's flow in the node's conntrack table, translated: a stale target (no ready endpoint of
 * the traced Service) ends the walk here; a live one continues as that DNAT, ESTABLISHED.
 */
export function trackedFlow(w: Walk, node: NodeDatapath, a: Arrival, arrival: HopDraft, rest: Pick<Leaf, 'dnat' | 'masquerade' | 'snat'>): {leaf?: Leaf; next?: Arrival} | undefined {
  const entry = flowEntry(node, a.packet)
  if (!entry?.reply || entry.reply.src === a.packet.dst) return undefined
  const to = entry.reply.src
  const port = entry.reply.sport
  const svc = w.destination.service
  const what = w.destination.name ?? 'the Service'
  const ready = svc ? new Set(w.cluster.endpointSlices.filter((s) => s.namespace === svc.namespace && s.serviceName === svc.name).flatMap((s) => s.endpoints.filter((e) => e.ready !== false).flatMap((e) => e.addresses))) : undefined
  const note = a.note ? `${a.note}; ` : ''
  if (ready && !ready.has(to)) {
    const h = {...arrival, action: `${note}conntrack already holds this flow (source port ${a.packet.sport ?? '?'}) and translates it to ${to}, which is no ready endpoint of ${what}`, evidence: [conntrackEvidence(node, entry)]}
    return {leaf: failLeaf(a.hops, h, 'nat-stale-endpoint', `${a.node}'s conntrack entry for this flow still DNATs it to ${to}, no ready endpoint of ${what}: a stale entry, so the flow is blackholed until it expires`, rest)}
  }
  const packet: Packet = {...a.packet, dst: to, ...(port === null ? {} : {dport: port}), ctstate: 'ESTABLISHED'}
  return {next: {...a, packet, dnat: {ip: to, port, probability: 1, at: a.hops.length, node: a.node, original: a.packet.dst}, note: `${note}conntrack already holds this flow: translated to ${to}${port === null ? '' : `:${port}`} (${conntrackLine(entry)})`}}
}
