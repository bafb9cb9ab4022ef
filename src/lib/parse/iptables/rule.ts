/** Reads one `[pkts:bytes] -A CHAIN …` line of an iptables-save dump into an IptablesRule. */
import {tokenize} from '../tokenize.js'
import {fastMatch} from './fast-matches.js'
import {ifaceOf, readMatch} from './matches.js'
import {scanRule} from './scan-rule.js'
import {readTarget} from './targets.js'
import type {Counters, IptablesMatch, IptablesRule, IptablesTarget, MatchOption} from './types.js'
import {readAddr, readCounters, readProto} from './values.js'

export {readCounters}

/** Protocols whose port options may follow -p without an explicit -m (iptables loads them implicitly). */
const IMPLICIT_MODULES: Record<string, string> = {tcp: 'tcp', udp: 'udp', sctp: 'sctp', icmp: 'icmp', 'ipv6-icmp': 'icmp6', icmpv6: 'icmp6', udplite: 'udplite', dccp: 'dccp'}


interface Group {
  module: string
  options: MatchOption[]
}

/**
 * `knownChain` answers whether a -j name is a user chain of this table. Returns the rule or a
 * message saying what could not be read.
 */
export function readRule(raw: string, line: number, knownChain: (name: string) => boolean): IptablesRule | string {
  return scanRule(raw, line, knownChain) ?? readRuleGeneral(raw, line, knownChain)
}

/** The reader for every line, including the ones scanRule leaves to it; exported so tests can compare the two. */
export function readRuleGeneral(raw: string, line: number, knownChain: (name: string) => boolean): IptablesRule | string {
  const tk = tokenize(raw)
  if (tk.error !== undefined) return tk.error
  const words = tk.words
  const quoted = tk.quoted
  // An option word: "!" or "-x"/"--xyz", unless it was quoted (then it is an argument).
  const isOption = (k: number): boolean => {
    const w = words[k] as string
    return (w === '!' || (w.length > 1 && w.charCodeAt(0) === 45)) && !(quoted !== null && quoted.has(k))
  }
  let i = 0
  let counters: Counters | null = null
  const w0 = words[0]
  if (w0 !== undefined && w0.charCodeAt(0) === 91) {
    counters = readCounters(w0)
    if (!counters) return `bad counters "${w0}"`
    i = 1
  }
  if (words[i] !== '-A' && words[i] !== '--append') return 'expected -A CHAIN'
  const chainName = words[i + 1]
  if (chainName === undefined || chainName.length === 0) return 'missing chain name after -A'
  i += 2

  const rule: IptablesRule = {
    line, raw, chain: chainName, counters, src: null, dst: null, protocol: null,
    inIface: null, outIface: null, fragment: null, matches: [], target: null,
  }
  // Matches in rule order: already typed by the fast path, or option groups typed at the end.
  const groups: (Group | IptablesMatch)[] = []
  let current: Group | null = null
  let target: {verb: 'jump' | 'goto'; name: string; options: MatchOption[]} | null = null
  let negate = false
  const n = words.length

  // The argument after the flag at words[i]; advances past both.
  const argOf = (): string | null => {
    const t = words[i + 1]
    if (t === undefined || t.length === 0) return null
    i += 2
    return t
  }

  while (i < n) {
    const text = words[i] as string
    if (!isOption(i)) return `unexpected word "${text}"`
    if (text === '!') {
      if (negate) return 'double "!"'
      negate = true
      i++
      continue
    }
    const neg = negate
    negate = false
    switch (text) {
      case '-s': case '--source': case '-d': case '--destination': {
        const v = argOf()
        const a = v === null ? null : readAddr(v, neg)
        if (!a) return `bad address for ${text} "${v ?? ''}"`
        if (text === '-s' || text === '--source') rule.src = a
        else rule.dst = a
        continue
      }
      case '-p': case '--protocol': {
        const v = argOf()
        if (v === null) return `missing protocol after ${text}`
        rule.protocol = readProto(v, neg)
        continue
      }
      case '-i': case '--in-interface': case '-o': case '--out-interface': {
        const v = argOf()
        if (v === null) return `missing interface after ${text}`
        if (text === '-i' || text === '--in-interface') rule.inIface = ifaceOf(v, neg)
        else rule.outIface = ifaceOf(v, neg)
        continue
      }
      case '-f': case '--fragment':
        rule.fragment = {negated: neg}
        i++
        continue
      case '-c': case '--set-counters': {
        const p = words[i + 1]
        const b = words[i + 2]
        if (p === undefined || b === undefined || !/^[0-9]{1,20}$/.test(p) || !/^[0-9]{1,20}$/.test(b)) return 'bad -c counters'
        rule.counters = {packets: Number(p), bytes: Number(b)}
        i += 3
        continue
      }
      case '-m': case '--match': {
        if (target) return '-m after the target'
        const v = argOf()
        if (v === null) return `missing module after ${text}`
        const fast = fastMatch(v, words, i, quoted)
        if (fast) {
          groups.push(fast.match)
          i = fast.next
          current = null
          continue
        }
        current = {module: v, options: []}
        groups.push(current)
        continue
      }
      case '-j': case '--jump': case '-g': case '--goto': {
        if (target) return 'more than one target'
        const v = argOf()
        if (v === null) return `missing target after ${text}`
        target = {verb: text === '-g' || text === '--goto' ? 'goto' : 'jump', name: v, options: []}
        continue
      }
    }
    if (!text.startsWith('--')) return `unknown option "${text}"`
    const option: MatchOption = {name: text, args: [], negated: neg}
    i++
    while (i < n && !isOption(i)) {
      option.args.push(words[i] as string)
      i++
    }
    if (target) target.options.push(option)
    else {
      if (!current) {
        // Options before any -m belong to the protocol's implicit match (e.g. "-p tcp --dport 80").
        const proto = rule.protocol?.name ?? ''
        current = {module: Object.hasOwn(IMPLICIT_MODULES, proto) ? (IMPLICIT_MODULES[proto] as string) : proto, options: []}
        groups.push(current)
      }
      current.options.push(option)
    }
  }
  if (negate) return 'dangling "!" at end of rule'

  const matches: IptablesMatch[] = []
  for (const g of groups) {
    if (!('options' in g)) {
      matches.push(g)
      continue
    }
    const m = readMatch(g.module, g.options)
    if (typeof m === 'string') return `-m ${g.module}: ${m}`
    matches.push(m)
  }
  rule.matches = matches
  if (target) {
    const tr: IptablesTarget | string = readTarget(target.verb, target.name, target.options, knownChain)
    if (typeof tr === 'string') return `-j ${target.name}: ${tr}`
    rule.target = tr
  }
  return rule
}
