/**
 * Walks one table's chain for one hook the way the kernel does: rule by rule, `-j` pushes a chain,
 * `-g` replaces the current one, RETURN (or the end of a user chain) pops, and RETURN or the end of
 * the built-in chain applies its policy — also after a `-g` from the built-in chain, since a goto
 * pushes nothing to come back to.
 *
 * A statistic match splits the packet into a branch that matched and one that did not, each
 * continuing from that rule, so a Service's endpoints cost one walk of KUBE-SERVICES in total, not
 * one per endpoint. A match the evidence cannot decide is followed both ways too, each branch given
 * half the weight and marked uncertain: the probabilities then still sum to 1, but an uncertain
 * branch's probability is nominal, not a prediction. A matched rule whose target changes nothing
 * (LOG, no target) is never split on.
 *
 * Conntrack: nat chains see only the first packet of a connection (ctstate NEW); later packets
 * reuse the translation conntrack stored. So the nat table is evaluated only for NEW packets and
 * skipped otherwise, with the reason in the outcome.
 *
 * The walk never throws: loops (a chain reached again while it is still on the jump stack), jumps to
 * missing chains, and the evaluator's limits end a branch with verdict UNKNOWN.
 */
import {iptablesTable, type IptablesChain, type IptablesDump, type IptablesRule, type IptablesTable} from '../../parse/iptables-save.js'
import {toIp} from './addr.js'
import {matchRule, type PacketView} from './match.js'
import type {DecidedBy, Hook, HookOutcome, NatState, TrailEntry, Verdict} from './outcomes.js'
import {canonicalIp, type NetfilterContext, type Packet} from './packet.js'
import {applyTarget} from './target.js'

export interface EvaluateOptions {
  /** Translations already applied to the flow by earlier hooks (for --ctstate DNAT/SNAT). */
  nat?: NatState
  /** Cap on live branches; when reached, further splits end as UNKNOWN. Default 4096. */
  maxBranches?: number
  /** Cap on rule visits per evaluation (all branches). Default 2,000,000. */
  maxSteps?: number
}

/** iptables refuses loops when loading, so real dumps are shallow (kube-proxy: 4 levels); this only bounds bad input. */
const MAX_DEPTH = 256

interface Frame {
  chain: IptablesChain
  index: number
  /** Chains entered at this stack level by -g, for loop detection. */
  gone: readonly string[]
}

interface TrailNode {
  entry: TrailEntry
  prev: TrailNode | null
}

interface Branch {
  frames: Frame[]
  pv: PacketView
  probability: number
  trail: TrailNode | null
  uncertain: readonly string[]
}

function commentOf(rule: IptablesRule): {comment?: string} {
  for (const m of rule.matches) if (m.kind === 'comment') return {comment: m.comment}
  return {}
}

function trailArray(node: TrailNode | null): TrailEntry[] {
  const out: TrailEntry[] = []
  for (let n = node; n !== null; n = n.prev) out.push(n.entry)
  return out.reverse()
}

export function packetView(packet: Packet, nat: NatState = {}): PacketView {
  const pkt: Packet = {...packet}
  if (pkt.physdev) pkt.physdev = {...pkt.physdev}
  if (pkt.family === 6) {
    pkt.src = canonicalIp(pkt.src)
    pkt.dst = canonicalIp(pkt.dst)
  }
  return {pkt, src: toIp(pkt.src), dst: toIp(pkt.dst), nat}
}

function cloneView(pv: PacketView): PacketView {
  const pkt: Packet = {...pv.pkt}
  if (pkt.physdev) pkt.physdev = {...pkt.physdev}
  return {pkt, src: pv.src, dst: pv.dst, nat: pv.nat}
}

function passThrough(packet: Packet, nat: NatState, decidedBy: DecidedBy, reason: string): HookOutcome[] {
  return [{probability: 1, verdict: 'ACCEPT', decidedBy, packet: {...packet}, nat, trail: [], uncertain: [], reason}]
}

/**
 * Every way `packet` can leave `hook` of `table`. Outcomes are in walk order (the matched branch of a
 * split before the unmatched one), so a Service's endpoints come out in the order of its rules.
 */
export function evaluateHook(dump: IptablesDump, table: string, hook: Hook, packet: Packet, ctx: NetfilterContext, options: EvaluateOptions = {}): HookOutcome[] {
  const nat = options.nat ?? {}
  const t = iptablesTable(dump, table)
  if (!t) return passThrough(packet, nat, 'absent', `no ${table} table in the dump`)
  const base = t.chainIndex.get(hook)
  if (!base) return passThrough(packet, nat, 'absent', `no ${hook} chain in the ${table} table`)
  if (table === 'nat' && packet.ctstate !== 'NEW') {
    return passThrough(packet, nat, 'skipped', `nat ${hook} is consulted only for the first packet of a connection (this one is ${packet.ctstate})`)
  }
  return walk(t, base, packetView(packet, nat), ctx, options)
}

function walk(table: IptablesTable, base: IptablesChain, pv: PacketView, ctx: NetfilterContext, options: EvaluateOptions): HookOutcome[] {
  const maxBranches = options.maxBranches ?? 4096
  let stepsLeft = options.maxSteps ?? 2_000_000
  let branches = 1
  const outcomes: HookOutcome[] = []
  // A stack, not a queue: the matched side of a split is finished first, keeping outcomes in rule order.
  const work: Branch[] = [{frames: [{chain: base, index: 0, gone: [base.name]}], pv, probability: 1, trail: null, uncertain: []}]

  const finish = (b: Branch, verdict: Verdict, decidedBy: DecidedBy, extra: Partial<HookOutcome> = {}): void => {
    outcomes.push({
      probability: b.probability, verdict, decidedBy, packet: b.pv.pkt, nat: b.pv.nat,
      trail: trailArray(b.trail), uncertain: [...b.uncertain], ...extra,
    })
  }
  const record = (b: Branch, entry: TrailEntry): void => {
    b.trail = {entry, prev: b.trail}
  }
  const policy = (b: Branch): void => {
    const p = base.policy
    record(b, {table: table.name, chain: base.name, line: base.line, raw: `:${base.name} ${p ?? '-'}`, kind: 'policy', effect: `policy ${p ?? '(none)'}`})
    if (p === 'ACCEPT' || p === 'DROP') finish(b, p, 'policy')
    else finish(b, 'UNKNOWN', 'policy', {reason: `built-in chain ${base.name} has policy "${p ?? '-'}"`})
  }
  const onStack = (frames: Frame[], name: string): boolean => frames.some((f) => f.gone.includes(name))

  branchLoop: while (work.length > 0) {
    const b = work.pop() as Branch
    for (;;) {
      const frame = b.frames[b.frames.length - 1] as Frame
      const rules = frame.chain.rules
      if (frame.index >= rules.length) {
        if (b.frames.length === 1) {
          policy(b)
          continue branchLoop
        }
        b.frames.pop()
        continue
      }
      const rule = rules[frame.index++] as (typeof rules)[number]
      if (--stepsLeft < 0) {
        finish(b, 'UNKNOWN', 'limit', {reason: `evaluation stopped after ${options.maxSteps ?? 2_000_000} rule visits at ${frame.chain.name} line ${rule.line}`})
        continue branchLoop
      }
      if (rule.unreadable !== undefined) {
        // A line iptables-save printed but that cannot be read (issue 15): what it does is unknown.
        record(b, {table: table.name, chain: frame.chain.name, line: rule.line, raw: rule.raw, kind: 'rule', effect: 'unreadable'})
        finish(b, 'UNKNOWN', 'rule', {reason: `${table.name} line ${rule.line} cannot be read (${rule.unreadable}): ${rule.raw}`})
        continue branchLoop
      }
      const m = matchRule(rule, b.pv, ctx)
      if (m.p === 0) continue
      let taken = 1
      if (m.p < 1 || m.uncertain !== undefined) {
        const pMatch = m.uncertain === undefined ? m.p : m.p / 2
        const inert = rule.target === null || rule.target.kind === 'log'
        if (inert) {
          // Matching or not changes nothing; note it without splitting.
          record(b, {table: table.name, chain: frame.chain.name, line: rule.line, raw: rule.raw, kind: 'rule', effect: rule.target ? 'LOG' : 'matched (no target)', ...commentOf(rule), branch: pMatch, ...(m.uncertain ? {uncertain: m.uncertain} : {})})
          continue
        }
        const other: Branch = {
          frames: b.frames.map((f) => ({...f})), pv: cloneView(b.pv), probability: b.probability * (1 - pMatch), trail: b.trail,
          uncertain: m.uncertain === undefined ? b.uncertain : [...b.uncertain, `line ${rule.line} assumed not to match: ${m.uncertain}`],
        }
        if (branches >= maxBranches) {
          finish(other, 'UNKNOWN', 'limit', {reason: `more than ${maxBranches} branches; stopped splitting at ${frame.chain.name} line ${rule.line}`})
        } else {
          branches++
          work.push(other)
        }
        b.probability *= pMatch
        if (m.uncertain !== undefined) b.uncertain = [...b.uncertain, `line ${rule.line} assumed to match: ${m.uncertain}`]
        taken = pMatch
      }
      const action = applyTarget(rule, table.name, b.pv, ctx)
      record(b, {
        table: table.name, chain: frame.chain.name, line: rule.line, raw: rule.raw, kind: 'rule', effect: action.effect, ...commentOf(rule),
        ...(taken < 1 ? {branch: taken} : {}), ...(m.uncertain ? {uncertain: m.uncertain} : {}),
      })
      if ('uncertain' in action && action.uncertain !== undefined) b.uncertain = [...b.uncertain, `line ${rule.line}: ${action.uncertain}`]
      switch (action.kind) {
        case 'continue':
          continue
        case 'verdict':
          finish(b, action.verdict, 'rule', action.rejectWith === undefined ? {} : {rejectWith: action.rejectWith})
          continue branchLoop
        case 'return':
          if (b.frames.length === 1) {
            policy(b)
            continue branchLoop
          }
          b.frames.pop()
          continue
        case 'jump':
        case 'goto': {
          const target = table.chainIndex.get(action.chain)
          if (!target) {
            finish(b, 'UNKNOWN', 'rule', {reason: `line ${rule.line}: chain ${action.chain} does not exist in the ${table.name} table`})
            continue branchLoop
          }
          if (onStack(b.frames, target.name)) {
            const path = [...b.frames.flatMap((f) => f.gone), target.name].join(' → ')
            finish(b, 'UNKNOWN', 'limit', {reason: `chain loop: ${path} (line ${rule.line})`})
            continue branchLoop
          }
          if (action.kind === 'goto') {
            b.frames[b.frames.length - 1] = {chain: target, index: 0, gone: [...frame.gone, target.name]}
          } else if (b.frames.length >= MAX_DEPTH) {
            finish(b, 'UNKNOWN', 'limit', {reason: `jump depth over ${MAX_DEPTH} at line ${rule.line}`})
            continue branchLoop
          } else {
            b.frames.push({chain: target, index: 0, gone: [target.name]})
          }
          continue
        }
      }
    }
  }
  return outcomes
}
