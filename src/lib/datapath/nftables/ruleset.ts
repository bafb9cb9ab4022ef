/**
 * A parsed `nft -j list ruleset` indexed for evaluation: chains by table, the rules of each chain in
 * order, named sets and maps compiled once (lazily: a 10,000-Service ruleset compiles only the maps a
 * packet consults), and the base chains of each hook. Tables that iptables-nft owns are marked: their
 * rules are `xt` blobs in JSON, and the evaluator reads them from iptables-save instead.
 */
import type {NftChain, NftRule, NftRuleset, NftSet} from '../../parse/nft.js'
import type {Hook} from '../netfilter/outcomes.js'
import {compileNamedSet, type CompiledSet} from './sets.js'

export interface NftChainIx {
  chain: NftChain
  rules: NftRule[]
}

export interface NftTableIx {
  family: string
  name: string
  chains: Map<string, NftChainIx>
  setDefs: Map<string, NftSet>
  /** Written by iptables-nft (xtables): a built-in table name in ip/ip6 with upper-case built-in chains. */
  xtables: boolean
  /** Its rules are not in evidence (its listing failed): a packet reaching its base chains meets rules unknown. */
  unread?: string
}

export interface NftBaseChain {
  table: NftTableIx
  chain: NftChainIx
  hook: Hook
  prio: number
  type: string
  policy: string
}

export interface NftIndex {
  tables: NftTableIx[]
  byKey: Map<string, NftTableIx>
  /** Base chains per hook, every family, in priority order. */
  hooks: Map<Hook, NftBaseChain[]>
  set(table: NftTableIx, name: string): CompiledSet | undefined
}

const XT_TABLES = new Set(['raw', 'mangle', 'nat', 'filter', 'security'])
const XT_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'])
const HOOKS: Record<string, Hook> = {prerouting: 'PREROUTING', input: 'INPUT', forward: 'FORWARD', output: 'OUTPUT', postrouting: 'POSTROUTING'}

const built = new WeakMap<NftRuleset, NftIndex>()

export function nftIndex(rs: NftRuleset): NftIndex {
  const cached = built.get(rs)
  if (cached) return cached
  const byKey = new Map<string, NftTableIx>()
  const tables: NftTableIx[] = []
  const table = (family: string, name: string): NftTableIx => {
    const key = `${family} ${name}`
    let t = byKey.get(key)
    if (!t) {
      t = {family, name, chains: new Map(), setDefs: new Map(), xtables: false}
      byKey.set(key, t)
      tables.push(t)
    }
    return t
  }
  for (const t of rs.tables) {
    const ix = table(t.family, t.name)
    if (t.unread !== undefined) ix.unread = t.unread
  }
  for (const c of rs.chains) table(c.family, c.table).chains.set(c.name, {chain: c, rules: []})
  for (const r of rs.rules) {
    const t = table(r.family, r.table)
    let c = t.chains.get(r.chain)
    if (!c) {
      // A rule listed without its chain (a partial listing): keep it, the chain is regular.
      c = {chain: {family: r.family, table: r.table, name: r.chain, handle: -1, type: null, hook: null, prio: null, policy: null, comment: null}, rules: []}
      t.chains.set(r.chain, c)
    }
    c.rules.push(r)
  }
  for (const s of rs.sets) table(s.family, s.table).setDefs.set(s.name, s)
  const owned = new Set(rs.tables.filter((t) => t.owner === 'iptables-nft').map((t) => `${t.family} ${t.name}`))
  for (const t of tables) {
    t.xtables = owned.has(`${t.family} ${t.name}`) ||
      ((t.family === 'ip' || t.family === 'ip6') && XT_TABLES.has(t.name) && [...t.chains.keys()].some((n) => XT_CHAINS.has(n)))
  }
  const hooks = new Map<Hook, NftBaseChain[]>()
  for (const t of tables) {
    for (const c of t.chains.values()) {
      const hook = c.chain.hook === null ? undefined : HOOKS[c.chain.hook]
      if (!hook) continue
      const list = hooks.get(hook) ?? []
      list.push({table: t, chain: c, hook, prio: c.chain.prio ?? 0, type: c.chain.type ?? 'filter', policy: c.chain.policy ?? 'accept'})
      hooks.set(hook, list)
    }
  }
  for (const list of hooks.values()) list.sort((a, b) => a.prio - b.prio)
  const compiled = new Map<NftSet, CompiledSet>()
  const index: NftIndex = {
    tables, byKey, hooks,
    set(t, name) {
      const def = t.setDefs.get(name)
      if (!def) return undefined
      let c = compiled.get(def)
      if (!c) compiled.set(def, (c = compileNamedSet(def)))
      return c
    },
  }
  built.set(rs, index)
  return index
}

/** Tables whose base chains see a packet of this IP family. */
export function familySees(tableFamily: string, packetFamily: 4 | 6): boolean {
  return tableFamily === 'inet' || tableFamily === (packetFamily === 4 ? 'ip' : 'ip6')
}
