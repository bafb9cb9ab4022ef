/**
 * What evaluating netfilter produces. A packet can leave a hook in several ways at once, because
 * `statistic` matches split it and rules the evaluator cannot decide are followed both ways; each
 * way is an outcome with a probability, and the probabilities of one evaluation sum to 1.
 */
import type {Packet} from './packet.js'

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING'

/** UNKNOWN: the evaluator gave up on this branch (a chain loop, a missing chain, too many branches). */
export type Verdict = 'ACCEPT' | 'DROP' | 'REJECT' | 'QUEUE' | 'UNKNOWN'

/**
 * How the verdict was reached: a rule's target, a built-in chain's policy, the table or chain not
 * being there (nothing hooked: the packet passes), the nat table being skipped (not the first packet
 * of a connection), the evaluator's limits, or the rules it needed not being in evidence (an nft
 * table whose listing timed out: `missing`, always with verdict UNKNOWN).
 */
export type DecidedBy = 'rule' | 'policy' | 'absent' | 'skipped' | 'limit' | 'missing'

/** One step of evidence: a rule that matched (or the policy that applied), quoted as printed. */
export interface TrailEntry {
  table: string
  chain: string
  /** Line in the iptables-save text (for a policy: the ":CHAIN POLICY" line). */
  line: number
  raw: string
  kind: 'rule' | 'policy'
  /** What the step did: "jump KUBE-SVC-…", "mark 0x0 → 0x4000", "DNAT → 10.244.1.5:8080", "ACCEPT". */
  effect: string
  /** The rule's -m comment, when it has one (kube-proxy names the Service there). */
  comment?: string
  /** The rule matched on this branch with this conditional probability (a statistic or uncertain split). */
  branch?: number
  /** Why the match could not be decided from the evidence. */
  uncertain?: string
  /** An nftables rule (from `nft -j list ruleset`): `line` is then its handle and `raw` its nft text. */
  nft?: {family: string; handle: number}
  /** An IPVS virtual service or real server (from `ipvsadm -S -n`): `line` is its line there, `raw` the line. */
  ipvs?: true
}

export interface Endpoint {
  ip: string
  port?: number
}

/** Address translation decided so far for the flow. Conntrack applies it to every later packet. */
export interface NatState {
  /** Where DNAT (or REDIRECT) sent it; `original` is the address before. */
  dnat?: Endpoint & {original: Endpoint; rangeTo?: Endpoint; table: string; chain: string; line: number}
  snat?: Endpoint & {original: Endpoint; rangeTo?: Endpoint; chain: string; line: number}
  /** MASQUERADE: SNAT to the outgoing interface's address. */
  masquerade?: {chain: string; line: number; address?: string}
}

export interface HookOutcome {
  probability: number
  verdict: Verdict
  decidedBy: DecidedBy
  /** For REJECT: --reject-with, or the kernel default. */
  rejectWith?: string
  /** The packet as it leaves the hook: DNAT'ed destination, SNAT'ed source, marks set. */
  packet: Packet
  nat: NatState
  trail: TrailEntry[]
  /** Why this branch rests on an assumption (uncertain matches followed both ways, TPROXY, QUEUE…). */
  uncertain: string[]
  /** For UNKNOWN / absent / skipped: what happened. */
  reason?: string
}

/** Outcomes whose probabilities sum to 1 (up to rounding); a helper for tests and callers that check. */
export function totalProbability(outcomes: readonly {probability: number}[]): number {
  let sum = 0
  for (const o of outcomes) sum += o.probability
  return sum
}
