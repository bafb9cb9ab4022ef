/**
 * A single-pass reader for the rule shapes that make up nearly all of a kube-proxy or CNI dump:
 * it walks the line word by word with indexOf and types each match as it meets it, with no word
 * array, option objects or per-line Set. On a 400k-line dump that is most of the parse time.
 *
 * It only accepts what it fully understands — plain or whole-word-quoted words, the common
 * modules (comment, tcp/udp/sctp ports, statistic random, mark, addrtype, conntrack state/status,
 * multiport) in the shape iptables-save prints them — and returns null for anything else, which
 * then goes through the general reader in rule.ts. Both produce identical rules (tests compare
 * them on every fixture and on fuzzed lines), so this is purely a shortcut.
 *
 * Values that repeat across thousands of rules (protocols, port matches, probabilities, masquerade
 * marks, jumps to a chain, verdicts) are shared objects within one dump: most of a large dump's
 * parse time is the garbage collector copying objects that all survive, so fewer objects is faster.
 * The parsed dump is read-only data; nothing mutates these objects. parseIptablesSave calls
 * clearScanCache() when it is done, so no cache outlives the dump it was built from.
 */
import {NO_OPTIONS, ifaceOf} from './matches.js'
import {readNatRange, readTarget} from './targets.js'
import type {AddrMatch, Counters, IfaceMatch, IptablesMatch, IptablesRule, IptablesTarget, MatchOption, Negatable, PortMatch, ProtoMatch} from './types.js'
import {readAddr, readCounters, readMarkMask, readPortList, readPortRange, readProto} from './values.js'

/** The scanner's state: one line at a time, so module-level fields instead of an object per line. */
let line = ''
let pos = 0
/** Index of the next `"` at or after pos (line.length when none): a quote inside a word is not ours. */
let nextQuote = 0
/** Whether the last word read was quoted (then it is always an argument). */
let quoted = false
/** Set when the line has a shape this reader leaves to the general one. */
let bail = false

/** The next word, or undefined at the end of the line (or when bailing). */
function word(): string | undefined {
  const s = line
  const n = s.length
  let i = pos
  while (i < n && s.charCodeAt(i) === 32) i++
  if (i >= n) {
    pos = n
    return undefined
  }
  if (s.charCodeAt(i) === 34) {
    const close = s.indexOf('"', i + 1)
    if (close < 0 || (close + 1 < n && s.charCodeAt(close + 1) !== 32)) {
      bail = true
      return undefined
    }
    quoted = true
    pos = close + 1
    nextQuote = s.indexOf('"', pos)
    if (nextQuote < 0) nextQuote = n
    return s.slice(i + 1, close)
  }
  let end = s.indexOf(' ', i)
  if (end < 0) end = n
  if (nextQuote < end) {
    bail = true
    return undefined
  }
  quoted = false
  pos = end
  return s.slice(i, end)
}

/** An argument: any quoted word, or an unquoted one that is not "!" or "-x". */
function arg(): string | undefined {
  const w = word()
  if (w === undefined) return undefined
  if (!quoted && isOptionText(w)) {
    bail = true
    return undefined
  }
  return w
}

function isOptionText(w: string): boolean {
  return w === '!' || (w.length > 1 && w.charCodeAt(0) === 45)
}

/**
 * Shared values, one map per kind keyed by the word as printed (no key building per lookup); see
 * the header. Each map is bounded in case readRule is used without a parse around it.
 */
const caches = {
  addr: new Map<string, AddrMatch | null>(),
  notAddr: new Map<string, AddrMatch | null>(),
  proto: new Map<string, ProtoMatch>(),
  notProto: new Map<string, ProtoMatch>(),
  ports: new Map<string, PortMatch | null>(),
  portMatch: new Map<string, IptablesMatch>(),
  bareMatch: new Map<string, IptablesMatch>(),
  statistic: new Map<string, IptablesMatch>(),
  mark: new Map<string, IptablesMatch>(),
  jump: new Map<string, IptablesTarget | null>(),
}
const CACHE_MAX = 20_000

function cached<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key)
  if (v === undefined) {
    v = make()
    if (map.size >= CACHE_MAX) map.clear()
    map.set(key, v)
  }
  return v
}

/** Stores a value made without a closure (the hot lookups); returns it. */
function remember<T>(map: Map<string, T>, key: string, value: T): T {
  if (map.size >= CACHE_MAX) map.clear()
  map.set(key, value)
  return value
}

export function clearScanCache(): void {
  for (const m of Object.values(caches)) m.clear()
}

/** Targets are short (0–2 options): collect them as the general reader does and type them there. */
const NO_TARGET_OPTIONS: MatchOption[] = []

const VERDICT_NAMES = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE', 'NFQUEUE', 'NOTRACK'])

/*
 * The shared values, as the scanner reads them; rule-pattern.ts builds rules from the same ones, so
 * both shortcuts give the same objects for the same words.
 */

/** An -s/-d argument; null when it is not an address. */
export function sharedAddr(v: string, negated: boolean): AddrMatch | null {
  if (v.length === 0) return null
  const addrs = negated ? caches.notAddr : caches.addr
  const a = addrs.get(v)
  return a !== undefined ? a : remember(addrs, v, readAddr(v, negated))
}

/** A -p argument (never empty). */
export function sharedProto(v: string, negated: boolean): ProtoMatch {
  const protos = negated ? caches.notProto : caches.proto
  return protos.get(v) ?? remember(protos, v, readProto(v, negated))
}

/** `-m tcp` (or udp, sctp…) without options. */
export function bareMatch(kind: 'tcp' | 'udp' | 'sctp' | 'udplite' | 'dccp'): IptablesMatch {
  return cached(caches.bareMatch, kind, () => ({kind, module: kind, extra: NO_OPTIONS, sport: null, dport: null, tcpFlags: null}))
}

/** `-m tcp --dport V` (or udp, sctp…); null when V is not a port or port range. */
export function dportMatch(kind: 'tcp' | 'udp' | 'sctp' | 'udplite' | 'dccp', v: string): IptablesMatch | null {
  const dport = caches.ports.get(v) ?? remember(caches.ports, v, readPorts(v, false))
  if (!dport) return null
  if (kind !== 'tcp') return {kind, module: kind, extra: NO_OPTIONS, sport: null, dport, tcpFlags: null}
  return caches.portMatch.get(v) ?? remember(caches.portMatch, v, {kind, module: kind, extra: NO_OPTIONS, sport: null, dport, tcpFlags: null})
}

/** `-m statistic --mode random --probability V`; null when V is not a probability. */
export function randomMatch(v: string): IptablesMatch | null {
  const probability = Number(v)
  if (!Number.isFinite(probability) || probability < 0 || probability > 1) return null
  return caches.statistic.get(v) ?? remember(caches.statistic, v, {kind: 'statistic', module: 'statistic', extra: NO_OPTIONS, mode: 'random', probability, negated: false})
}

/** `-j NAME` without options: a jump to a user chain of this table, or a verdict or other target. */
export function plainTarget(name: string, knownChain: (name: string) => boolean): IptablesTarget | null {
  if (!VERDICT_NAMES.has(name) && knownChain(name)) return chainJump(name)
  return typed(readTarget('jump', name, NO_TARGET_OPTIONS, knownChain))
}

/** `-j NAME` without options when the table declares a chain NAME: a jump to it, unless NAME is a verdict. */
export function declaredJump(name: string, knownChain: (name: string) => boolean): IptablesTarget | null {
  return VERDICT_NAMES.has(name) ? typed(readTarget('jump', name, NO_TARGET_OPTIONS, knownChain)) : chainJump(name)
}

function chainJump(name: string): IptablesTarget {
  // Most chain names are jumped to once (each KUBE-SEP-…); only share the ones that repeat.
  if (name.length > 16) return {kind: 'chain', verb: 'jump', name, extra: NO_OPTIONS, chain: name}
  return cached(caches.jump, name, () => ({kind: 'chain', verb: 'jump', name, extra: NO_OPTIONS, chain: name})) as IptablesTarget
}

/** `-j DNAT --to-destination TO` (when DNAT is not a user chain); null when TO is not a NAT range. */
export function dnatTarget(to: string): IptablesTarget | null {
  const range = readNatRange(to)
  return range ? {kind: 'dnat', verb: 'jump', name: 'DNAT', extra: NO_OPTIONS, to: range, random: false, persistent: false} : null
}

/**
 * Looks at the next word as word() would read it, without moving or slicing it (a peek on every
 * option would otherwise copy each word twice): true with peekStart/peekEnd/peekQuoted set, false
 * at the end of the line or when word() would bail (then bail is set, as word() would).
 */
let peekStart = 0
let peekEnd = 0
let peekQuoted = false
function peek(): boolean {
  const s = line
  const n = s.length
  let i = pos
  while (i < n && s.charCodeAt(i) === 32) i++
  if (i >= n) return false
  if (s.charCodeAt(i) === 34) {
    const close = s.indexOf('"', i + 1)
    if (close < 0 || (close + 1 < n && s.charCodeAt(close + 1) !== 32)) {
      bail = true
      return false
    }
    peekQuoted = true
    peekStart = i + 1
    peekEnd = close
    return true
  }
  let end = s.indexOf(' ', i)
  if (end < 0) end = n
  if (nextQuote < end) {
    bail = true
    return false
  }
  peekQuoted = false
  peekStart = i
  peekEnd = end
  return true
}

function peekIs(w: string): boolean {
  return peekEnd - peekStart === w.length && line.startsWith(w, peekStart)
}

/** Whether the rest of the line starts with a word that ends a match's options (or is empty). */
function atGroupEnd(): boolean {
  if (!peek()) return true
  if (peekQuoted) return false
  return peekIs('-m') || peekIs('-j') || peekIs('-g') || peekIs('--match') || peekIs('--jump') || peekIs('--goto')
}

/**
 * Reads one option of a match: optional "!", then "--name". Returns the name (negation in
 * `optionNegated`), or undefined at the end of the match's options.
 */
let optionNegated = false
function option(): string | undefined {
  if (atGroupEnd()) return undefined
  let w = word()
  optionNegated = false
  if (w === '!' && !quoted) {
    optionNegated = true
    w = word()
  }
  if (w === undefined || quoted || w.length < 3 || w.charCodeAt(0) !== 45 || w.charCodeAt(1) !== 45) {
    bail = true
    return undefined
  }
  return w
}

/** An option's single argument, which must be the last word of that option. */
function singleArg(): string | undefined {
  const v = arg()
  if (v === undefined) {
    bail = true
    return undefined
  }
  // A second argument would be kept (or joined) by the general readers; leave that to them.
  if (peek() && (peekQuoted || !(peekIs('!') || (peekEnd - peekStart > 1 && line.charCodeAt(peekStart) === 45)))) {
    bail = true
    return undefined
  }
  return v
}

function readPorts(v: string, negated: boolean): PortMatch | null {
  const r = readPortRange(v)
  return r ? {ranges: [r], negated} : null
}

function csv(v: string, negated: boolean): Negatable<string[]> {
  return {value: v.split(','), negated}
}

function scanMatch(module: string): IptablesMatch | null {
  switch (module) {
    case 'comment': {
      if (option() !== '--comment' || optionNegated) return null
      const comment = singleArg()
      if (comment === undefined || !atGroupEnd()) return null
      return {kind: 'comment', module, extra: NO_OPTIONS, comment}
    }
    case 'tcp': case 'udp': case 'sctp': case 'udplite': case 'dccp': {
      let sport: PortMatch | null = null
      let dport: PortMatch | null = null
      let count = 0
      let lastArg = ''
      for (let o = option(); o !== undefined; o = option()) {
        const negated = optionNegated
        const isD = o === '--dport' || o === '--destination-port'
        if (!isD && o !== '--sport' && o !== '--source-port') return null
        const v = singleArg()
        if (v === undefined) return null
        const ports = negated ? readPorts(v, true) : caches.ports.get(v) ?? remember(caches.ports, v, readPorts(v, false))
        if (!ports) return null
        if (isD) dport = ports
        else sport = ports
        count++
        lastArg = v
      }
      if (bail) return null
      const kind = module
      // The common shapes, "-m tcp" and "-m tcp --dport N", are shared.
      if (count === 0) return cached(caches.bareMatch, kind, () => ({kind, module: kind, extra: NO_OPTIONS, sport: null, dport: null, tcpFlags: null}))
      if (count === 1 && sport === null && dport?.negated === false && kind === 'tcp') {
        const d = dport
        return caches.portMatch.get(lastArg) ?? remember(caches.portMatch, lastArg, {kind, module: kind, extra: NO_OPTIONS, sport: null, dport: d, tcpFlags: null})
      }
      return {kind, module: kind, extra: NO_OPTIONS, sport, dport, tcpFlags: null}
    }
    case 'statistic': {
      if (option() !== '--mode' || optionNegated || singleArg() !== 'random') return null
      if (option() !== '--probability' || optionNegated) return null
      const v = singleArg()
      if (v === undefined || !atGroupEnd()) return null
      return randomMatch(v)
    }
    case 'mark': {
      if (option() !== '--mark') return null
      const negated = optionNegated
      const v = singleArg()
      const mm = readMarkMask(v)
      if (!mm || !atGroupEnd()) return null
      const make = (): IptablesMatch => ({kind: 'mark', module, extra: NO_OPTIONS, value: mm.value, mask: mm.mask, negated})
      return negated ? make() : cached(caches.mark, v as string, make)
    }
    case 'addrtype': {
      const m: IptablesMatch = {kind: 'addrtype', module, extra: NO_OPTIONS, srcType: null, dstType: null, limitIfaceIn: false, limitIfaceOut: false}
      for (let o = option(); o !== undefined; o = option()) {
        if (o === '--src-type' || o === '--dst-type') {
          const negated = optionNegated
          const v = singleArg()
          if (v === undefined) return null
          if (o === '--src-type') m.srcType = csv(v, negated)
          else m.dstType = csv(v, negated)
        } else if ((o === '--limit-iface-in' || o === '--limit-iface-out') && !atGroupEnd()) {
          return null // an option without arguments must be followed by another option
        } else if (o === '--limit-iface-in') m.limitIfaceIn = true
        else if (o === '--limit-iface-out') m.limitIfaceOut = true
        else return null
      }
      return bail ? null : m
    }
    case 'conntrack': {
      const m: IptablesMatch = {kind: 'conntrack', module, extra: NO_OPTIONS, ctstate: null, ctstatus: null}
      for (let o = option(); o !== undefined; o = option()) {
        if (o !== '--ctstate' && o !== '--ctstatus') return null
        const negated = optionNegated
        const v = singleArg()
        if (v === undefined) return null
        if (o === '--ctstate') m.ctstate = csv(v, negated)
        else m.ctstatus = csv(v, negated)
      }
      return bail ? null : m
    }
    case 'multiport': {
      let found: {direction: 'dports' | 'sports' | 'ports'; ports: PortMatch} | null = null
      for (let o = option(); o !== undefined; o = option()) {
        const direction = o === '--dports' || o === '--destination-ports' ? 'dports' : o === '--sports' || o === '--source-ports' ? 'sports' : o === '--ports' ? 'ports' : null
        if (!direction) return null
        const negated = optionNegated
        const v = singleArg()
        const ports = v === undefined ? null : readPortList(v, negated)
        if (!ports) return null
        found = {direction, ports}
      }
      if (bail || !found) return null
      return {kind: 'multiport', module, extra: NO_OPTIONS, ...found}
    }
    default:
      return null
  }
}

function scanTarget(name: string, knownChain: (name: string) => boolean): IptablesTarget | null {
  const save = pos
  const first = word()
  if (first === undefined && !bail) {
    // No options: a jump to a user chain, or a verdict. Shared per name; a chain jump only when this
    // table declares the chain (the general reader's rule), so the cache key says which it is.
    return plainTarget(name, knownChain)
  }
  if (name === 'DNAT' && first === '--to-destination' && !quoted && !knownChain(name)) {
    // kube-proxy's one DNAT shape, read directly: one per endpoint, so the most common target with options.
    const to = arg()
    if (to !== undefined && word() === undefined && !bail) return dnatTarget(to)
    bail = false
  }
  pos = save
  nextQuote = line.indexOf('"', pos)
  if (nextQuote < 0) nextQuote = line.length
  let options = NO_TARGET_OPTIONS
  let current: MatchOption | null = null
  let negate = false
  for (let w = word(); w !== undefined; w = word()) {
    if (!quoted && w === '!') {
      if (negate) return null
      negate = true
      continue
    }
    if (!quoted && w.length > 2 && w.charCodeAt(0) === 45 && w.charCodeAt(1) === 45) {
      current = {name: w, args: [], negated: negate}
      negate = false
      if (options === NO_TARGET_OPTIONS) options = []
      options.push(current)
      continue
    }
    // A single-dash word or a word before any option: the general reader decides what it is.
    if (current === null || negate || (!quoted && isOptionText(w))) return null
    current.args.push(w)
  }
  if (bail || negate) return null
  return typed(readTarget('jump', name, options, knownChain))
}

function typed(t: IptablesTarget | string): IptablesTarget | null {
  return typeof t === 'string' ? null : t
}

/** The rule, or null when the general reader must handle this line (including every error). */
export function scanRule(raw: string, lineNo: number, knownChain: (name: string) => boolean): IptablesRule | null {
  if (raw.indexOf('\\') >= 0 || raw.indexOf('\t') >= 0) return null
  line = raw
  pos = 0
  bail = false
  quoted = false
  nextQuote = raw.indexOf('"')
  if (nextQuote < 0) nextQuote = raw.length
  let counters: Counters | null = null
  let w = word()
  if (w !== undefined && !quoted && w.charCodeAt(0) === 91) {
    counters = readCounters(w)
    if (!counters) return null
    w = word()
  }
  if (w !== '-A' || quoted) return null
  const chain = arg()
  if (chain === undefined || chain.length === 0) return null

  let src: AddrMatch | null = null
  let dst: AddrMatch | null = null
  let protocol: ProtoMatch | null = null
  let inIface: IfaceMatch | null = null
  let outIface: IfaceMatch | null = null
  let fragment: {negated: boolean} | null = null
  // Up to three matches in locals, then an exact-size array: an array grown by push reserves room
  // for 17 elements, which on a 400k-line dump is tens of megabytes the collector has to copy.
  let m0: IptablesMatch | null = null
  let m1: IptablesMatch | null = null
  let m2: IptablesMatch | null = null
  let more: IptablesMatch[] | null = null
  let target: IptablesTarget | null = null
  let negate = false

  for (w = word(); w !== undefined && target === null; w = word()) {
    if (quoted) return null
    if (w === '!') {
      if (negate) return null
      negate = true
      continue
    }
    const neg = negate
    negate = false
    switch (w) {
      case '-s': case '-d': {
        const v = word()
        const a = v === undefined ? null : sharedAddr(v, neg)
        if (!a) return null
        if (w === '-s') src = a
        else dst = a
        continue
      }
      case '-p': {
        const v = word()
        if (v === undefined || v.length === 0) return null
        protocol = sharedProto(v, neg)
        continue
      }
      case '-i': case '-o': {
        const v = word()
        if (v === undefined || v.length === 0) return null
        if (w === '-i') inIface = ifaceOf(v, neg)
        else outIface = ifaceOf(v, neg)
        continue
      }
      case '-f':
        fragment = {negated: neg}
        continue
      case '-m': {
        const module = word()
        if (neg || module === undefined || module.length === 0) return null
        const m = scanMatch(module)
        if (!m || bail) return null
        if (m0 === null) m0 = m
        else if (m1 === null) m1 = m
        else if (m2 === null) m2 = m
        else (more ??= []).push(m)
        continue
      }
      case '-j': {
        const name = word()
        if (neg || name === undefined || name.length === 0) return null
        target = scanTarget(name, knownChain)
        if (!target) return null
        continue
      }
      default:
        return null
    }
  }
  if (bail || negate) return null
  const matches = m0 === null ? [] : m1 === null ? [m0] : m2 === null ? [m0, m1] : more === null ? [m0, m1, m2] : [m0, m1, m2, ...more]
  return {line: lineNo, raw, chain, counters, src, dst, protocol, inIface, outIface, fragment, matches, target}
}
