/**
 * A packet through every netfilter hook of a node that has nftables tables of its own (kube-proxy's
 * nftables mode, CNIs, firewalld), interleaved with the iptables tables as the kernel interleaves
 * them: at each hook every base chain of every table that sees the family (ip or ip6, and inet)
 * runs in priority order, whoever wrote it. iptables-nft's tables (nat, filter… with upper-case
 * built-in chains) are read from iptables-save, whose rules are readable, at their fixed priorities
 * (raw -300, mangle -150, dstnat -100, filter 0, security 50, srcnat 100).
 *
 * An accept ends one base chain, not the hook: the next base chain still runs. A drop or reject ends
 * the packet. NAT chains run only for the first packet of a connection, and once a chain has bound a
 * translation at a hook the hook's later NAT chains are skipped (nf_nat_inet_fn). Chains of equal
 * priority run in the order they were registered, which no evidence shows; iptables' tables are put
 * first (they are usually registered at boot, before kube-proxy starts).
 */
import type {IptablesDump} from '../../parse/iptables-save.js'
import type {NftRuleset} from '../../parse/nft.js'
import {evaluateHook, packetView} from '../netfilter/evaluate.js'
import {summarizeServiceNat, type ServiceNatResult} from '../netfilter/service-nat.js'
import type {Hook, HookOutcome} from '../netfilter/outcomes.js'
import type {NetfilterContext, Packet} from '../netfilter/packet.js'
import {afterHook, decide, type Progress, type RouteFn, type TraversalPath, type TraverseOutcome} from '../netfilter/traverse.js'
import {familySees, nftIndex, type NftBaseChain, type NftIndex} from './ruleset.js'
import {walkBaseChain, type NftWalkOptions} from './walk.js'

export interface NodeRules {
  iptables?: IptablesDump
  nft?: NftRuleset
}

type Stage = {kind: 'iptables'; table: string; prio: number; nat: boolean} | {kind: 'nft'; base: NftBaseChain; prio: number; nat: boolean}

const IPT: Record<Hook, [string, number][]> = {
  PREROUTING: [['raw', -300], ['mangle', -150], ['nat', -100]],
  INPUT: [['mangle', -150], ['filter', 0], ['security', 50], ['nat', 100]],
  FORWARD: [['mangle', -150], ['filter', 0], ['security', 50]],
  OUTPUT: [['raw', -300], ['mangle', -150], ['nat', -100], ['filter', 0], ['security', 50]],
  POSTROUTING: [['mangle', -150], ['nat', 100]],
}

const HOOKS_BY_PATH: Record<TraversalPath, (Hook | 'route')[]> = {
  'forward': ['PREROUTING', 'route', 'FORWARD', 'POSTROUTING'],
  'local-in': ['PREROUTING', 'INPUT'],
  'local-out': ['OUTPUT', 'route', 'POSTROUTING'],
}

function stages(rules: NodeRules, index: NftIndex | undefined, hook: Hook, family: 4 | 6): Stage[] {
  const out: Stage[] = []
  if (rules.iptables) for (const [table, prio] of IPT[hook]) out.push({kind: 'iptables', table, prio, nat: table === 'nat'})
  for (const base of index?.hooks.get(hook) ?? []) {
    if (!familySees(base.table.family, family)) continue
    // iptables-nft's own tables: their rules are read from iptables-save (above) when it was gathered.
    if (base.table.xtables && rules.iptables) continue
    out.push({kind: 'nft', base, prio: base.prio, nat: base.type === 'nat'})
  }
  // Stable: equal priorities keep iptables first.
  return out.sort((a, b) => a.prio - b.prio)
}



const DNAT_HOOKS = new Set<Hook>(['PREROUTING', 'OUTPUT'])

function stageName(s: Stage): string {
  return s.kind === 'iptables' ? s.table : s.base.table.name
}

/** Whether the node has nftables base chains of its own (not only iptables-nft's): then this pipeline is needed. */
export function hasOwnNftChains(rs: NftRuleset | undefined, withIptables: boolean): boolean {
  if (!rs) return false
  const index = nftIndex(rs)
  for (const list of index.hooks.values()) for (const b of list) if (!(b.table.xtables && withIptables)) return true
  return false
}

export function traverseNode(rules: NodeRules, path: TraversalPath, packet: Packet, ctx: NetfilterContext, route?: RouteFn, options: NftWalkOptions = {}): TraverseOutcome[] {
  const index = rules.nft ? nftIndex(rules.nft) : undefined
  const out: TraverseOutcome[] = []
  const hooks = HOOKS_BY_PATH[path]
  const stageCache = new Map<Hook, Stage[]>()
  const stagesOf = (hook: Hook): Stage[] => {
    let s = stageCache.get(hook)
    if (!s) stageCache.set(hook, (s = stages(rules, index, hook, packet.family)))
    return s
  }
  const finalDelivery = (list: (Hook | 'route')[]): 'local' | 'out' => (list.includes('INPUT') ? 'local' : 'out')

  const runHooks = (list: (Hook | 'route')[], h: number, s: Progress): void => {
    if (h >= list.length) {
      out.push({probability: s.probability, verdict: 'ACCEPT', decidedBy: s.decidedBy, packet: s.packet, nat: s.nat, trail: s.trail, uncertain: s.uncertain, notes: s.notes, at: s.at, delivery: finalDelivery(list)})
      return
    }
    const step = list[h] as Hook | 'route'
    if (step === 'route') {
      const d = decide(path, s.packet, ctx, route)
      if (d.local && path === 'forward') {
        runHooks(['INPUT'], 0, s)
        return
      }
      const packet = d.outIface === undefined ? s.packet : {...s.packet, outIface: d.outIface}
      runHooks(list, h + 1, {...s, packet})
      return
    }
    runStages(list, h, step, stagesOf(step), 0, s, false)
  }

  const runStages = (list: (Hook | 'route')[], h: number, hook: Hook, st: Stage[], i: number, s: Progress, natBound: boolean): void => {
    if (i >= st.length) {
      runHooks(list, h + 1, s)
      return
    }
    const stage = st[i] as Stage
    const at = {hook, table: stageName(stage)}
    if (stage.nat) {
      if (natBound) {
        runStages(list, h, hook, st, i + 1, {...s, notes: [...s.notes, `${at.table} ${hook}: skipped, an earlier NAT chain at this hook already bound the translation`]}, natBound)
        return
      }
      if (s.packet.ctstate !== 'NEW') {
        if (stage.kind === 'nft') {
          runStages(list, h, hook, st, i + 1, {...s, notes: [...s.notes, `nat ${hook} (${at.table}) is consulted only for the first packet of a connection (this one is ${s.packet.ctstate})`]}, natBound)
          return
        }
      }
    }
    let results: HookOutcome[]
    if (stage.kind === 'iptables') {
      results = evaluateHook(rules.iptables as IptablesDump, stage.table, hook, s.packet, ctx, {...options, nat: s.nat})
    } else {
      results = walkBaseChain(index as NftIndex, stage.base, packetView(s.packet, s.nat), ctx, options)
    }
    for (const r of results) {
      const next = afterHook(s, r, at)
      if (r.verdict === 'ACCEPT') {
        const bound = natBound || (stage.nat && (DNAT_HOOKS.has(hook) ? r.nat.dnat !== s.nat.dnat : r.nat.snat !== s.nat.snat || r.nat.masquerade !== s.nat.masquerade))
        runStages(list, h, hook, st, i + 1, next, bound)
      } else {
        out.push({...r, probability: next.probability, trail: next.trail, uncertain: next.uncertain, notes: next.notes, at})
      }
    }
  }

  const first = hooks[0] as Hook
  runHooks(hooks, 0, {probability: 1, packet: {...packet}, nat: {}, trail: [], uncertain: [], notes: [], at: {hook: first, table: ''}, decidedBy: 'absent'})
  return out
}

/** serviceNat's answer shape for a node with nftables (and iptables) rules. */
export function serviceNatNode(rules: NodeRules, packet: Packet, ctx: NetfilterContext, options: NftWalkOptions & {path?: TraversalPath; route?: RouteFn} = {}): ServiceNatResult {
  const path = options.path ?? (packet.inIface === undefined ? 'local-out' : 'forward')
  return summarizeServiceNat(path, traverseNode(rules, path, packet, ctx, options.route, options))
}
