/**
 * From the walk's leaves to the result: hops shared by every leaf, one branch per DNAT endpoint,
 * and the verdict — delivered, dropped (with the reason and the hop), partial (a Service some of
 * whose endpoints are reached and some not), or unknown.
 */
import type {DnatChoice, Hop, TraceBranch, TraceReason, TraceResult, Verdict} from './types.js'
import {podByIp, type HopDraft, type Leaf, type Walk} from './walk.js'

function commonPrefix(lists: HopDraft[][]): number {
  const [first, ...rest] = lists
  if (!first) return 0
  let n = first.length
  for (const l of rest) {
    let k = 0
    while (k < n && k < l.length && l[k] === first[k]) k++
    n = k
  }
  return n
}

function number(hops: HopDraft[], from: number): Hop[] {
  return hops.map((h, i) => ({index: from + i, node: h.node, device: h.device, action: h.action, status: h.status, ...(h.code ? {code: h.code} : {}), evidence: h.evidence, label: h.label}))
}

function reasonOf(leaf: Leaf, numbered: Hop[], drafts: HopDraft[]): TraceReason | null {
  if (!leaf.failure) return null
  const i = drafts.indexOf(leaf.failure.hop)
  return {code: leaf.failure.code, message: leaf.failure.message, hop: i >= 0 ? (numbered[i]?.index ?? null) : null}
}

const round = (p: number) => Math.round(p * 10_000) / 10_000

export function composeResult(leaves: Leaf[], w: Walk): Pick<TraceResult, 'verdict' | 'reason' | 'hops' | 'nat' | 'branches'> {
  const masquerade = leaves.some((l) => l.masquerade)
  const split = leaves.some((l) => l.dnat)
  if (!split) {
    // No Service translation: one way through, the hops are the path.
    const leaf = leaves[0] as Leaf
    const hops = number(leaf.hops, 1)
    return {verdict: leaf.verdict, reason: reasonOf(leaf, hops, leaf.hops), hops, nat: {dnat: [], masquerade}, branches: []}
  }
  const ordered = [...leaves].sort((a, b) => (a.dnat?.ip ?? '~').localeCompare(b.dnat?.ip ?? '~', 'en', {numeric: true}))
  // Shared: the hops before the one where DNAT chose an endpoint (the same node for every branch).
  const k = Math.min(commonPrefix(ordered.map((l) => l.hops)), ...ordered.map((l) => l.dnat?.at ?? l.hops.length))
  const shared = number((ordered[0] as Leaf).hops.slice(0, k), 1)
  const branches: TraceBranch[] = ordered.map((leaf) => {
    const drafts = leaf.hops.slice(k)
    const hops = number(drafts, k + 1)
    return {endpoint: leaf.dnat ? (dnatChoice(leaf, w).endpoint ?? leaf.dnat.ip) : 'no DNAT', verdict: leaf.verdict, reason: reasonOf(leaf, hops, drafts), hops}
  })
  const verdicts = new Set<Verdict>(branches.map((b) => b.verdict))
  const verdict: Verdict = verdicts.size === 1 ? (branches[0] as TraceBranch).verdict : verdicts.has('unknown') ? 'unknown' : 'partial'
  const firstBad = branches.find((b) => b.verdict === (verdict === 'unknown' ? 'unknown' : 'dropped'))
  const reason: TraceReason | null = verdict === 'delivered' || !firstBad?.reason
    ? null
    : {...firstBad.reason, message: verdict === 'partial' ? `${branches.filter((b) => b.verdict !== 'delivered').length} of ${branches.length} endpoints not reached; ${firstBad.endpoint}: ${firstBad.reason.message}` : firstBad.reason.message}
  return {verdict, reason, hops: shared, nat: {dnat: ordered.filter((l) => l.dnat).map((l) => dnatChoice(l, w)), masquerade}, branches}
}

function dnatChoice(leaf: Leaf, w: Walk): DnatChoice {
  const d = leaf.dnat as NonNullable<Leaf['dnat']>
  const pod = podByIp(w.cluster, d.ip)
  return {ip: d.ip, port: d.port, probability: round(d.probability), endpoint: pod ? `pod/${pod.namespace}/${pod.name}` : null}
}
