/**
 * One nftables base chain, walked as the kernel does (nft_do_chain): rule by rule, `jump` pushes a
 * chain, `goto` replaces the current one, `return` or the end of a regular chain pops, and `return`
 * or the end of the base chain applies its policy. `accept` ends this base chain only: the packet
 * goes on to the next base chain of the hook (the caller's business); `drop` and `reject` end it.
 *
 * `numgen random mod N` splits the packet into N equal branches, grouped by what the rule did, so a
 * Service's N endpoints cost N lookups in the rule's map and one walk of the dispatch map. A rule the
 * evaluator cannot decide ends its branch as UNKNOWN with that rule in the trail: no guess. A base
 * chain of a table whose rules were not gathered (its listing timed out) is UNKNOWN too, decided by
 * `missing`: a chain without rules would otherwise read as one that accepts everything.
 */
import type {NftRule} from '../../parse/nft.js'
import type {PacketView} from '../netfilter/match.js'
import type {DecidedBy, HookOutcome, TrailEntry, Verdict} from '../netfilter/outcomes.js'
import type {NetfilterContext} from '../netfilter/packet.js'
import {numgenMod, runRule, type RuleResult} from './rule.js'
import type {NftBaseChain, NftChainIx, NftIndex} from './ruleset.js'
import {ruleText} from './text.js'

export interface NftWalkOptions {
  maxBranches?: number
  maxSteps?: number
}

const MAX_DEPTH = 64

interface Frame {
  chain: NftChainIx
  index: number
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
  /** A numgen split's other outcome, still to be applied when this branch is taken up. */
  pending?: {r: RuleResult; rule: NftRule}
}

function trailArray(node: TrailNode | null): TrailEntry[] {
  const out: TrailEntry[] = []
  for (let n = node; n !== null; n = n.prev) out.push(n.entry)
  return out.reverse()
}

function clone(pv: PacketView): PacketView {
  const pkt = {...pv.pkt}
  if (pkt.physdev) pkt.physdev = {...pkt.physdev}
  return {pkt, src: pv.src, dst: pv.dst, nat: pv.nat}
}

const ruleTexts = new WeakMap<NftRule, string>()
export function nftRuleText(rule: NftRule): string {
  let t = ruleTexts.get(rule)
  if (t === undefined) ruleTexts.set(rule, (t = ruleText(rule)))
  return t
}

function entry(rule: NftRule, effect: string, branch?: number): TrailEntry {
  return {
    table: rule.table, chain: rule.chain, line: rule.handle, raw: nftRuleText(rule), kind: 'rule', effect,
    ...(rule.comment === null ? {} : {comment: rule.comment}), ...(branch === undefined ? {} : {branch}), nft: {family: rule.family, handle: rule.handle},
  }
}

function signature(r: RuleResult, pv: PacketView): string {
  const p = pv.pkt
  const head = r.kind === 'verdict' ? `v:${r.verdict}` : r.kind === 'flow' ? `f:${r.verb}:${r.target ?? ''}` : r.kind
  return `${head}|${p.src}|${p.dst}|${p.sport ?? ''}|${p.dport ?? ''}|${p.mark}|${p.ctstate}|${r.kind === 'nomatch' ? '' : r.effects.join(';')}`
}

/** Every way `pv` can leave one base chain. */
export function walkBaseChain(index: NftIndex, base: NftBaseChain, pv: PacketView, ctx: NetfilterContext, options: NftWalkOptions = {}): HookOutcome[] {
  const maxBranches = options.maxBranches ?? 4096
  let steps = options.maxSteps ?? 2_000_000
  let branches = 1
  const table = base.table
  if (table.unread !== undefined) {
    return [{probability: 1, verdict: 'UNKNOWN', decidedBy: 'missing', packet: pv.pkt, nat: pv.nat, trail: [], uncertain: [], reason: `the rules of table ${table.family} ${table.name} (base chain ${base.chain.chain.name}, hook ${base.hook.toLowerCase()}) are not in evidence: ${table.unread}`}]
  }
  const env = {index, table, ctx}
  const outcomes: HookOutcome[] = []
  const work: Branch[] = [{frames: [{chain: base.chain, index: 0, gone: [base.chain.chain.name]}], pv, probability: 1, trail: null}]
  const finish = (b: Branch, verdict: Verdict, decidedBy: DecidedBy, extra: Partial<HookOutcome> = {}): void => {
    outcomes.push({probability: b.probability, verdict, decidedBy, packet: b.pv.pkt, nat: b.pv.nat, trail: trailArray(b.trail), uncertain: [], ...extra})
  }
  const record = (b: Branch, e: TrailEntry): void => {
    b.trail = {entry: e, prev: b.trail}
  }
  const policy = (b: Branch): void => {
    const c = base.chain.chain
    record(b, {
      table: table.name, chain: c.name, line: c.handle, kind: 'policy', effect: `policy ${base.policy}`, nft: {family: table.family, handle: c.handle},
      raw: `chain ${c.name} { type ${base.type} hook ${base.hook.toLowerCase()} priority ${base.prio}; policy ${base.policy}; }`,
    })
    finish(b, base.policy === 'drop' ? 'DROP' : 'ACCEPT', 'policy')
  }

  branchLoop: while (work.length > 0) {
    const b = work.pop() as Branch
    if (b.pending) {
      const {r, rule} = b.pending
      delete b.pending
      if (apply(b, r, rule)) continue
    }
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
      const rule = rules[frame.index++] as NftRule
      if (--steps < 0) {
        finish(b, 'UNKNOWN', 'limit', {reason: `evaluation stopped after ${options.maxSteps ?? 2_000_000} rule visits at ${table.family} ${table.name} ${rule.chain} handle ${rule.handle}`})
        continue branchLoop
      }
      const mod = numgenMod(rule)
      let result: RuleResult
      if (mod === null) {
        result = runRule(rule, b.pv, env)
      } else {
        // One trial per numgen value, grouped by what the rule did with it.
        const groups = new Map<string, {r: RuleResult; pv: PacketView; n: number}>()
        for (let i = 0; i < mod; i++) {
          const pv = clone(b.pv)
          const r = runRule(rule, pv, {...env, numgen: i})
          const key = signature(r, pv)
          const g = groups.get(key)
          if (g) g.n++
          else groups.set(key, {r, pv, n: 1})
        }
        const list = [...groups.values()]
        const firstGroup = list[0] as {r: RuleResult; pv: PacketView; n: number}
        // Later groups become their own branches (pushed in reverse so they are finished in order).
        for (let k = list.length - 1; k >= 1; k--) {
          const g = list[k] as {r: RuleResult; pv: PacketView; n: number}
          const other: Branch = {frames: b.frames.map((f) => ({...f})), pv: g.pv, probability: b.probability * (g.n / mod), trail: b.trail}
          if (branches >= maxBranches) {
            finish(other, 'UNKNOWN', 'limit', {reason: `more than ${maxBranches} branches; stopped splitting at ${rule.chain} handle ${rule.handle}`})
            continue
          }
          branches++
          other.trail = g.r.kind === 'nomatch' ? other.trail : {entry: entry(rule, effectOf(g.r), g.n / mod), prev: other.trail}
          other.pending = {r: g.r, rule}
          work.push(other)
        }
        b.pv = firstGroup.pv
        b.probability *= firstGroup.n / mod
        result = firstGroup.r
        if (result.kind !== 'nomatch') record(b, entry(rule, effectOf(result), firstGroup.n / mod))
        if (apply(b, result, rule)) continue branchLoop
        continue
      }
      if (result.kind === 'nomatch') continue
      record(b, entry(rule, effectOf(result)))
      if (apply(b, result, rule)) continue branchLoop
    }
  }
  return outcomes

  /** Applies a matched rule's result to the branch; true when the branch is finished. */
  function apply(b: Branch, r: RuleResult, rule: NftRule): boolean {
    switch (r.kind) {
      case 'nomatch': case 'next': return false
      case 'unknown':
        finish(b, 'UNKNOWN', 'rule', {reason: `${table.family} ${table.name} ${rule.chain} handle ${rule.handle} (${nftRuleText(rule)}): ${r.reason}`})
        return true
      case 'verdict':
        finish(b, r.verdict, 'rule', r.rejectWith === undefined ? {} : {rejectWith: r.rejectWith})
        return true
      case 'flow': {
        if (r.verb === 'continue') return false
        if (r.verb === 'return') {
          if (b.frames.length === 1) {
            policy(b)
            return true
          }
          b.frames.pop()
          return false
        }
        const target = table.chains.get(r.target ?? '')
        if (!target) {
          finish(b, 'UNKNOWN', 'rule', {reason: `handle ${rule.handle}: chain ${r.target ?? '?'} is not in table ${table.family} ${table.name}`})
          return true
        }
        if (b.frames.some((f) => f.gone.includes(target.chain.name))) {
          finish(b, 'UNKNOWN', 'limit', {reason: `chain loop at ${target.chain.name} (handle ${rule.handle})`})
          return true
        }
        const frame = b.frames[b.frames.length - 1] as Frame
        if (r.verb === 'goto') b.frames[b.frames.length - 1] = {chain: target, index: 0, gone: [...frame.gone, target.chain.name]}
        else if (b.frames.length >= MAX_DEPTH) {
          finish(b, 'UNKNOWN', 'limit', {reason: `jump depth over ${MAX_DEPTH} at handle ${rule.handle}`})
          return true
        } else b.frames.push({chain: target, index: 0, gone: [target.chain.name]})
        return false
      }
    }
  }
}

function effectOf(r: RuleResult): string {
  if (r.kind === 'nomatch') return ''
  if (r.kind === 'unknown') return [...r.effects, `unknown: ${r.reason}`].join('; ')
  return r.effects.length ? r.effects.join('; ') : 'matched'
}
