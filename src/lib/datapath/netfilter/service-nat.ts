/**
 * What kube-proxy's rules do to a connection to a Service, in the shape trace shows: the endpoints
 * DNAT can pick with the chance of each, whether the filter table rejects or drops it (no endpoints,
 * externalTrafficPolicy Local without a local endpoint), and whether it is masqueraded (KUBE-MARK-MASQ
 * sets 0x4000; KUBE-POSTROUTING masquerades marked packets).
 */
import type {IptablesDump} from '../../parse/iptables-save.js'
import type {EvaluateOptions} from './evaluate.js'
import type {TrailEntry, Verdict} from './outcomes.js'
import type {NetfilterContext, Packet} from './packet.js'
import {traverse, type RouteFn, type TraversalPath, type TraverseOutcome} from './traverse.js'

export interface ServiceEndpointNat {
  ip: string
  port?: number
  /** Chance that DNAT picks this endpoint (over all outcomes, so the entries sum to the chance of any DNAT). */
  probability: number
  /** The chain holding the DNAT rule (KUBE-SEP-…) and the rule's line. */
  chain: string
  ruleLine: number
  /** The DNAT rule's comment ("ns/svc:port"). */
  comment?: string
  /** Masqueraded on the way out (off-cluster source, hairpin, NodePort with Cluster policy). */
  masquerade: boolean
  /** What happens after DNAT: the most probable verdict of this endpoint's outcomes. */
  verdict: Verdict
  /** The rules from the hook's first chain to this endpoint's final verdict. */
  trail: TrailEntry[]
}

export interface ServiceNatResult {
  path: TraversalPath
  dnat: ServiceEndpointNat[]
  rejected?: {reason: string; rejectWith: string; rule: TrailEntry | undefined; probability: number}
  dropped?: {reason: string; rule: TrailEntry | undefined; probability: number}
  /** True when an accepted outcome is masqueraded. */
  masquerade: boolean
  /** The rules every outcome passed (the common prefix of their trails). */
  trail: TrailEntry[]
  /** Assumptions any outcome rests on, and why any outcome is UNKNOWN. */
  uncertain: string[]
  outcomes: TraverseOutcome[]
}

export interface ServiceNatOptions extends EvaluateOptions {
  /** Default: local-out for a packet without inIface, forward otherwise (the route then picks INPUT for local delivery). */
  path?: TraversalPath
  route?: RouteFn
}

function commonPrefix(trails: TrailEntry[][]): TrailEntry[] {
  const [first, ...rest] = trails
  if (!first) return []
  let n = first.length
  for (const t of rest) {
    let k = 0
    while (k < n && k < t.length && t[k] === first[k]) k++
    n = k
  }
  return first.slice(0, n)
}

function lastRule(trail: TrailEntry[]): TrailEntry | undefined {
  for (let i = trail.length - 1; i >= 0; i--) if (trail[i]?.kind === 'rule') return trail[i]
  return undefined
}

export function serviceNat(dump: IptablesDump, packet: Packet, ctx: NetfilterContext, options: ServiceNatOptions = {}): ServiceNatResult {
  const path = options.path ?? (packet.inIface === undefined ? 'local-out' : 'forward')
  return summarizeServiceNat(path, traverse(dump, path, packet, ctx, options.route, options))
}

/** The Service view of any traversal's outcomes (iptables here; nftables and IPVS nodes in datapath/nftables, datapath/ipvs). */
export function summarizeServiceNat(path: TraversalPath, outcomes: TraverseOutcome[]): ServiceNatResult {
  const byEndpoint = new Map<string, {entry: ServiceEndpointNat; verdicts: Map<Verdict, number>}>()
  const uncertain = new Set<string>()
  let rejected: ServiceNatResult['rejected']
  let dropped: ServiceNatResult['dropped']
  let masquerade = false

  for (const o of outcomes) {
    for (const u of o.uncertain) uncertain.add(u)
    if (o.verdict === 'UNKNOWN' && o.reason) uncertain.add(o.reason)
    const accepted = o.verdict === 'ACCEPT'
    if (accepted && o.nat.masquerade) masquerade = true
    if (o.verdict === 'REJECT') {
      const rule = lastRule(o.trail)
      if (rejected) rejected.probability += o.probability
      else rejected = {reason: rule?.comment ?? rule?.raw ?? 'rejected', rejectWith: o.rejectWith ?? 'icmp-port-unreachable', rule, probability: o.probability}
    }
    if (o.verdict === 'DROP') {
      const rule = o.decidedBy === 'rule' ? lastRule(o.trail) : undefined
      const reason = rule ? (rule.comment ?? rule.raw) : `policy DROP of ${o.at.table} ${o.at.hook}`
      if (dropped) dropped.probability += o.probability
      else dropped = {reason, rule, probability: o.probability}
    }
    const d = o.nat.dnat
    if (!d) continue
    const key = `${d.ip}|${d.port ?? ''}`
    let slot = byEndpoint.get(key)
    if (!slot) {
      const dnatRule = o.trail.find((t) => t.kind === 'rule' && t.chain === d.chain && t.line === d.line)
      slot = {
        entry: {
          ip: d.ip, ...(d.port === undefined ? {} : {port: d.port}), probability: 0, chain: d.chain, ruleLine: d.line,
          ...(dnatRule?.comment === undefined ? {} : {comment: dnatRule.comment}), masquerade: false, verdict: o.verdict, trail: o.trail,
        },
        verdicts: new Map(),
      }
      byEndpoint.set(key, slot)
    }
    slot.entry.probability += o.probability
    if (accepted && o.nat.masquerade) slot.entry.masquerade = true
    slot.verdicts.set(o.verdict, (slot.verdicts.get(o.verdict) ?? 0) + o.probability)
  }
  const dnat = [...byEndpoint.values()].map(({entry, verdicts}) => {
    let best = entry.verdict
    let bestP = -1
    for (const [v, p] of verdicts) if (p > bestP) [best, bestP] = [v, p]
    return {...entry, verdict: best}
  })
  return {
    path, dnat, ...(rejected ? {rejected} : {}), ...(dropped ? {dropped} : {}), masquerade,
    trail: commonPrefix(outcomes.map((o) => o.trail)), uncertain: [...uncertain], outcomes,
  }
}
