/**
 * One nftables rule against one packet, statement by statement as the kernel runs them: a match
 * that fails ends the rule (NFT_BREAK), a verdict map without the key ends it too, statements that
 * change the packet (mark set, NAT) change the packet view, and the first verdict ends the rule.
 *
 * Evaluation is exact or it is not done: an expression the evidence cannot decide (a port the caller
 * did not give, a rate limit, an interface index, an iptables-nft `xt` blob, an unknown expression)
 * makes the rule's result `unknown` with the reason, and the walk ends that branch as UNKNOWN with
 * the rule as evidence. `numgen random` is the exception the caller resolves: it evaluates the rule
 * once per value with `numgen` fixed, each with probability 1/mod.
 */
import type {NftRule} from '../../parse/nft.js'
import {addressType, toIp} from '../netfilter/addr.js'
import type {PacketView} from '../netfilter/match.js'
import type {Endpoint} from '../netfilter/outcomes.js'
import type {NetfilterContext} from '../netfilter/packet.js'
import type {NftIndex, NftTableIx} from './ruleset.js'
import {compileAnonymous, inInterval, lookup, norm, type CompiledSet, type Member, type Scalar} from './sets.js'

type Obj = Record<string, unknown>

export interface RuleEnv {
  index: NftIndex
  table: NftTableIx
  ctx: NetfilterContext
  /** The value `numgen random` yields on this evaluation. */
  numgen?: number
}

export type RuleResult =
  | {kind: 'nomatch'}
  | {kind: 'next'; effects: string[]}
  | {kind: 'verdict'; verdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'QUEUE'; rejectWith?: string; effects: string[]}
  | {kind: 'flow'; verb: 'jump' | 'goto' | 'return' | 'continue'; target?: string; effects: string[]}
  | {kind: 'unknown'; reason: string; effects: string[]}

/** An expression's value: its parts (one, or several for a concatenation), absent (no such header), flags, or why it is unknown. */
type Val = {parts: Scalar[]} | {absent: string} | {flags: string[]} | {unknown: string}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const L4 = {tcp: 6, udp: 17, icmp: 1, sctp: 132} as const

function l4number(pv: PacketView): number {
  const p = pv.pkt.protocol
  return p === 'icmp' && pv.pkt.family === 6 ? 58 : L4[p]
}

const one = (v: Scalar): Val => ({parts: [v]})

function payload(p: Obj, pv: PacketView): Val {
  const proto = String(p.protocol ?? '')
  const field = String(p.field ?? '')
  const pkt = pv.pkt
  if (proto === 'ip' || proto === 'ip6') {
    if ((proto === 'ip') !== (pkt.family === 4)) return {absent: `not an ${proto} packet`}
    if (field === 'saddr') return one(pkt.src)
    if (field === 'daddr') return one(pkt.dst)
    if (field === 'protocol' || field === 'nexthdr') return one(l4number(pv))
    return {unknown: `${proto} ${field} is not known for the traced packet`}
  }
  if (proto === 'th' || proto === 'tcp' || proto === 'udp' || proto === 'sctp') {
    if (proto !== 'th' && pkt.protocol !== proto) return {absent: `not a ${proto} packet`}
    if (pkt.protocol === 'icmp') return {absent: 'no transport ports in an ICMP packet'}
    if (field === 'dport') return pkt.dport === undefined ? {unknown: "the packet's destination port is not known"} : one(pkt.dport)
    if (field === 'sport') return pkt.sport === undefined ? {unknown: "the packet's source port is not known"} : one(pkt.sport)
    return {unknown: `${proto} ${field} is not known for the traced packet`}
  }
  if (proto === 'icmp' || proto === 'icmpv6') {
    if (pkt.protocol !== 'icmp' || (proto === 'icmp') !== (pkt.family === 4)) return {absent: `not an ${proto} packet`}
    if (field === 'type' && pkt.icmpType !== undefined) return one(pkt.icmpType)
    if (field === 'code' && pkt.icmpCode !== undefined) return one(pkt.icmpCode)
    return {unknown: `${proto} ${field} is not known`}
  }
  return {unknown: `payload ${proto || 'raw'} ${field} is not evaluated`}
}

function meta(key: string, pv: PacketView): Val {
  const pkt = pv.pkt
  switch (key) {
    case 'l4proto': return one(l4number(pv))
    case 'nfproto': return one(pkt.family === 4 ? 'ipv4' : 'ipv6')
    case 'protocol': return one(pkt.family === 4 ? 'ip' : 'ip6')
    case 'mark': return one(pkt.mark)
    case 'iifname': return one(pkt.inIface ?? '')
    case 'oifname': return pkt.outIface === undefined ? {unknown: 'the output interface is not decided yet'} : one(pkt.outIface)
    default: return {unknown: `meta ${key} is not known for the traced packet`}
  }
}

function ctStatus(pv: PacketView): string[] {
  const out: string[] = []
  if (pv.nat.dnat) out.push('dnat')
  if (pv.nat.snat || pv.nat.masquerade) out.push('snat')
  return out
}

function ct(c: Obj, pv: PacketView): Val {
  const key = String(c.key ?? '')
  if (c.dir !== undefined) return {unknown: `ct ${String(c.dir)} ${key} is not evaluated`}
  switch (key) {
    case 'state': return {flags: [pv.pkt.ctstate.toLowerCase()]}
    case 'status': return {flags: ctStatus(pv)}
    case 'direction': return one('original')
    case 'mark': return pv.pkt.connmark === undefined ? {unknown: 'the connection mark is not known'} : one(pv.pkt.connmark)
    default: return {unknown: `ct ${key} is not known for the traced packet`}
  }
}

function fib(f: Obj, pv: PacketView, env: RuleEnv): Val {
  const flags = (Array.isArray(f.flags) ? f.flags : [f.flags]).map(String)
  if (f.result !== 'type' || flags.length !== 1) return {unknown: `fib ${flags.join(' . ')} ${String(f.result)} needs a route lookup the evaluator does not make`}
  const which = flags[0] === 'saddr' ? 'src' : flags[0] === 'daddr' ? 'dst' : undefined
  if (!which) return {unknown: `fib ${flags.join(' . ')} type is not evaluated`}
  const text = pv.pkt[which]
  const ip = pv[which] ?? toIp(text)
  if (!ip) return {unknown: `address "${text}" is not readable`}
  return one(addressType(ip, text, env.ctx.localAddresses, env.ctx.broadcastAddresses ?? new Set()).toLowerCase())
}

const anonymous = new WeakMap<unknown[], CompiledSet>()

function setOf(ref: unknown, env: RuleEnv, isMap: boolean): CompiledSet | string {
  if (typeof ref === 'string' && ref.startsWith('@')) {
    const s = env.index.set(env.table, ref.slice(1))
    return s ?? `set ${ref} is not in table ${env.table.family} ${env.table.name}`
  }
  if (isObj(ref) && Array.isArray(ref.set)) {
    let c = anonymous.get(ref.set)
    if (!c) anonymous.set(ref.set, (c = compileAnonymous(ref.set, isMap)))
    return c
  }
  return `${JSON.stringify(ref)} is not a set`
}

function find(set: CompiledSet, parts: Scalar[]): Member | undefined | string {
  const m = lookup(set, parts)
  if (m === undefined && set.unreadable > 0) return `${set.unreadable} element(s) of ${set.name} could not be read`
  return m
}

/** A constant as written in a rule or a map's data: scalar, concatenation. */
function constant(e: unknown): Val {
  if (typeof e === 'number' || typeof e === 'string') return one(norm(e))
  if (isObj(e) && Array.isArray(e.concat)) {
    const parts: Scalar[] = []
    for (const x of e.concat) {
      if (typeof x !== 'number' && typeof x !== 'string') return {unknown: `map value ${JSON.stringify(e)} is not a constant`}
      parts.push(norm(x))
    }
    return {parts}
  }
  return {unknown: `${JSON.stringify(e)} is not evaluated`}
}

export function evalExpr(e: unknown, pv: PacketView, env: RuleEnv): Val {
  if (typeof e === 'number' || typeof e === 'string') return one(norm(e))
  if (!isObj(e)) return {unknown: `expression ${JSON.stringify(e)} is not evaluated`}
  if (isObj(e.payload)) return payload(e.payload, pv)
  if (isObj(e.meta)) return meta(String(e.meta.key), pv)
  if (isObj(e.ct)) return ct(e.ct, pv)
  if (isObj(e.fib)) return fib(e.fib, pv, env)
  if (isObj(e.numgen)) {
    if (e.numgen.mode !== 'random') return {unknown: `numgen ${String(e.numgen.mode)} depends on how many packets came before`}
    return env.numgen === undefined ? {unknown: 'numgen outside a split'} : one(env.numgen + (typeof e.numgen.offset === 'number' ? e.numgen.offset : 0))
  }
  if (Array.isArray(e.concat)) {
    const parts: Scalar[] = []
    for (const x of e.concat) {
      const v = evalExpr(x, pv, env)
      if (!('parts' in v)) return 'flags' in v ? {unknown: 'flags inside a concatenation'} : v
      parts.push(...v.parts)
    }
    return {parts}
  }
  for (const op of ['&', '|', '^', '<<', '>>'] as const) {
    const args = e[op]
    if (!Array.isArray(args) || args.length !== 2) continue
    const a = evalExpr(args[0], pv, env)
    const b = evalExpr(args[1], pv, env)
    if (!('parts' in a)) return a
    if (!('parts' in b)) return b
    const x = a.parts[0]
    const y = b.parts[0]
    if (typeof x !== 'number' || typeof y !== 'number') return {unknown: `${op} on a non-integer`}
    const r = op === '&' ? x & y : op === '|' ? x | y : op === '^' ? x ^ y : op === '<<' ? x << y : x >>> y
    return one(r >>> 0)
  }
  if (isObj(e.map)) {
    const key = evalExpr(e.map.key, pv, env)
    if (!('parts' in key)) return 'flags' in key ? {unknown: 'map keyed by flags'} : key
    const set = setOf(e.map.data, env, true)
    if (typeof set === 'string') return {unknown: set}
    const m = find(set, key.parts)
    if (typeof m === 'string') return {unknown: m}
    if (!m) return {absent: `no element ${key.parts.join(' . ')} in the map`}
    return constant(m.value)
  }
  return {unknown: `expression ${JSON.stringify(e)} is not evaluated`}
}

/** Does a match statement hold? true/false, or the reason it cannot be told. */
function match(m: Obj, pv: PacketView, env: RuleEnv): boolean | string {
  const op = String(m.op ?? '==')
  const left = evalExpr(m.left, pv, env)
  if ('unknown' in left) return left.unknown
  if ('absent' in left) return false
  const right = m.right
  const negate = op === '!='
  if ('flags' in left) {
    const want = Array.isArray(right) ? right.map(String) : isObj(right) && Array.isArray(right.set) ? right.set.map(String) : [String(right)]
    const hit = want.some((w) => left.flags.includes(w))
    return op === '!=' ? !hit : hit
  }
  if ((typeof right === 'string' && right.startsWith('@')) || (isObj(right) && Array.isArray(right.set))) {
    const set = setOf(right, env, false)
    if (typeof set === 'string') return set
    const m2 = find(set, left.parts)
    if (typeof m2 === 'string') return m2
    return (m2 !== undefined) !== negate
  }
  if (isObj(right) && (isObj(right.prefix) || Array.isArray(right.range))) {
    if (left.parts.length !== 1) return 'an interval compared with a concatenation'
    const hit = inInterval(right, left.parts[0] as Scalar)
    if (hit === undefined) return `interval ${JSON.stringify(right)} is not readable`
    return hit !== negate
  }
  const r = evalExpr(right, pv, env)
  if (!('parts' in r)) return 'unknown' in r ? r.unknown : `right side of ${op} is not a value`
  if (op === '==' || op === '!=' || op === 'in') {
    const eq = r.parts.length === left.parts.length && r.parts.every((x, i) => x === left.parts[i])
    return eq !== negate
  }
  const x = left.parts[0]
  const y = r.parts[0]
  if (typeof x !== 'number' || typeof y !== 'number') return `${op} on a non-integer`
  switch (op) {
    case '<': return x < y
    case '>': return x > y
    case '<=': return x <= y
    case '>=': return x >= y
    default: return `operator ${op} is not evaluated`
  }
}

function verdictOf(v: unknown): {verb: string; target?: string} | undefined {
  if (!isObj(v)) return undefined
  for (const k of ['jump', 'goto'] as const) {
    const t = v[k]
    if (isObj(t) && typeof t.target === 'string') return {verb: k, target: t.target}
  }
  for (const k of ['accept', 'drop', 'return', 'continue', 'queue']) if (k in v) return {verb: k}
  return undefined
}

function verdictResult(v: {verb: string; target?: string}, effects: string[]): RuleResult {
  switch (v.verb) {
    case 'accept': return {kind: 'verdict', verdict: 'ACCEPT', effects}
    case 'drop': return {kind: 'verdict', verdict: 'DROP', effects}
    case 'queue': return {kind: 'verdict', verdict: 'QUEUE', effects}
    case 'jump': case 'goto': return {kind: 'flow', verb: v.verb, ...(v.target ? {target: v.target} : {}), effects}
    default: return {kind: 'flow', verb: v.verb === 'return' ? 'return' : 'continue', effects}
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`

function endpointText(e: Endpoint, family: 4 | 6): string {
  if (e.port === undefined) return e.ip
  return family === 6 ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`
}

function portOf(e: unknown, pv: PacketView, env: RuleEnv): number | string | undefined {
  if (e === undefined) return undefined
  if (isObj(e) && Array.isArray(e.range)) return typeof e.range[0] === 'number' ? e.range[0] : 'unreadable port range'
  const v = evalExpr(e, pv, env)
  if (!('parts' in v) || typeof v.parts[0] !== 'number') return 'unknown' in v ? v.unknown : 'no port value'
  return v.parts[0]
}

/** dnat / snat: the new address (and port) from `to`, a map, or an `addr . port` concatenation. */
function nat(kind: 'dnat' | 'snat', s: Obj, rule: NftRule, pv: PacketView, env: RuleEnv): RuleResult | string {
  const pkt = pv.pkt
  const which = kind === 'dnat' ? 'dst' : 'src'
  const portKey = kind === 'dnat' ? 'dport' : 'sport'
  let ip: string | undefined
  let port: number | undefined
  if (s.addr !== undefined) {
    if (isObj(s.addr) && isObj(s.addr.range)) return 'an address range: the kernel picks by a hash the evidence cannot reproduce'
    const v = evalExpr(s.addr, pv, env)
    if ('unknown' in v) return v.unknown
    if ('absent' in v) return `${kind}: ${v.absent} (the kernel drops such a packet)`
    if (!('parts' in v) || typeof v.parts[0] !== 'string') return `${kind} to a non-address`
    ip = v.parts[0]
    if (v.parts.length === 2 && typeof v.parts[1] === 'number') port = v.parts[1]
  }
  const p = portOf(s.port, pv, env)
  if (typeof p === 'string') return p
  if (p !== undefined) port = p
  const original: Endpoint = pkt[portKey] === undefined ? {ip: pkt[which]} : {ip: pkt[which], port: pkt[portKey] as number}
  const toIpText = ip ?? pkt[which]
  pkt[which] = toIpText
  pv[which] = toIp(toIpText)
  if (port !== undefined) pkt[portKey] = port
  const to: Endpoint = pkt[portKey] === undefined ? {ip: toIpText} : {ip: toIpText, port: pkt[portKey] as number}
  if (kind === 'dnat') pv.nat = {...pv.nat, dnat: {...to, original, table: rule.table, chain: rule.chain, line: rule.handle}}
  else pv.nat = {...pv.nat, snat: {...to, original, chain: rule.chain, line: rule.handle}}
  return {kind: 'verdict', verdict: 'ACCEPT', effects: [`${kind.toUpperCase()} → ${endpointText(to, pkt.family)}`]}
}

function rejectWith(b: unknown, family: 4 | 6): string {
  if (!isObj(b) || b.type === undefined) return family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'
  if (b.type === 'tcp reset') return 'tcp-reset'
  const code = typeof b.expr === 'string' ? b.expr : 'port-unreachable'
  return `${family === 4 ? 'icmp' : 'icmp6'}-${code}`
}

/** Runs one rule; the packet view is changed in place (the caller clones when it splits). */
export function runRule(rule: NftRule, pv: PacketView, env: RuleEnv): RuleResult {
  const effects: string[] = []
  const unknown = (reason: string): RuleResult => ({kind: 'unknown', reason, effects})
  for (const st of rule.expr) {
    if (!isObj(st)) return unknown(`statement ${JSON.stringify(st)} is not evaluated`)
    const [kind] = Object.keys(st)
    const body = kind === undefined ? undefined : st[kind]
    switch (kind) {
      case 'match': {
        const r = match(body as Obj, pv, env)
        if (typeof r === 'string') return unknown(r)
        if (!r) return {kind: 'nomatch'}
        continue
      }
      case 'counter': case 'log': case 'comment':
        continue
      case 'set':
        // update/add @set { … }: a dynamic set (session affinity) learns the flow; the walk goes on.
        effects.push(`${String((body as Obj).op)} ${String((body as Obj).set)}`)
        continue
      case 'mangle': {
        const b = body as Obj
        const v = evalExpr(b.value, pv, env)
        if (!('parts' in v) || typeof v.parts[0] !== 'number') return unknown('unknown' in v ? v.unknown : 'mangle value is not an integer')
        const key = b.key
        if (isObj(key) && isObj(key.meta) && key.meta.key === 'mark') {
          const before = pv.pkt.mark
          pv.pkt.mark = v.parts[0] >>> 0
          effects.push(`mark ${hex(before)} → ${hex(pv.pkt.mark)}`)
          continue
        }
        if (isObj(key) && isObj(key.ct) && key.ct.key === 'mark') {
          pv.pkt.connmark = v.parts[0] >>> 0
          effects.push(`ct mark → ${hex(pv.pkt.connmark)}`)
          continue
        }
        return unknown(`setting ${JSON.stringify(key)} is not modelled`)
      }
      case 'accept': case 'drop': case 'return': case 'continue': case 'jump': case 'goto': case 'queue': {
        const v = verdictOf(st) ?? {verb: kind}
        return verdictResult(v, [...effects, v.target ? `${v.verb} ${v.target}` : v.verb.toUpperCase()])
      }
      case 'reject': {
        const w = rejectWith(body, pv.pkt.family)
        return {kind: 'verdict', verdict: 'REJECT', rejectWith: w, effects: [...effects, `REJECT (${w})`]}
      }
      case 'vmap': {
        const b = body as Obj
        const key = evalExpr(b.key, pv, env)
        if ('unknown' in key) return unknown(key.unknown)
        if ('absent' in key) return {kind: 'nomatch'}
        if (!('parts' in key)) return unknown('a verdict map keyed by flags')
        const set = setOf(b.data, env, true)
        if (typeof set === 'string') return unknown(set)
        const m = find(set, key.parts)
        if (typeof m === 'string') return unknown(m)
        if (!m) return {kind: 'nomatch'}
        const v = verdictOf(m.value)
        if (!v) return unknown(`element ${m.text} of ${set.name} maps to ${JSON.stringify(m.value)}, not a verdict`)
        const name = typeof b.data === 'string' ? b.data : 'vmap'
        return verdictResult(v, [...effects, `${name} → ${v.target ? `${v.verb} ${v.target}` : v.verb}${m.comment ? ` (${m.comment})` : ''}`])
      }
      case 'dnat': case 'snat': {
        const r = nat(kind, isObj(body) ? body : {}, rule, pv, env)
        if (typeof r === 'string') return unknown(r)
        if (r.kind === 'verdict') r.effects = [...effects, ...r.effects]
        return r
      }
      case 'masquerade': {
        const pkt = pv.pkt
        const address = pkt.outIface === undefined ? undefined : env.ctx.interfaceAddresses?.get(pkt.outIface)?.find((a) => toIp(a)?.family === pkt.family)
        if (address !== undefined) {
          pkt.src = address
          pv.src = toIp(address)
        }
        pv.nat = {...pv.nat, masquerade: {chain: rule.chain, line: rule.handle, ...(address === undefined ? {} : {address})}}
        return {kind: 'verdict', verdict: 'ACCEPT', effects: [...effects, `MASQUERADE${address === undefined ? '' : ` → ${address}`}`]}
      }
      case 'redirect': {
        const pkt = pv.pkt
        const ip = pkt.inIface === undefined ? (pkt.family === 4 ? '127.0.0.1' : '::1') : env.ctx.interfaceAddresses?.get(pkt.inIface)?.find((a) => toIp(a)?.family === pkt.family)
        if (ip === undefined) return unknown(`redirect: the addresses of ${pkt.inIface ?? '?'} are not known`)
        const p = portOf(isObj(body) ? body.port : undefined, pv, env)
        if (typeof p === 'string') return unknown(p)
        const original: Endpoint = pkt.dport === undefined ? {ip: pkt.dst} : {ip: pkt.dst, port: pkt.dport}
        pkt.dst = ip
        pv.dst = toIp(ip)
        if (p !== undefined) pkt.dport = p
        const to: Endpoint = pkt.dport === undefined ? {ip} : {ip, port: pkt.dport}
        pv.nat = {...pv.nat, dnat: {...to, original, table: rule.table, chain: rule.chain, line: rule.handle}}
        return {kind: 'verdict', verdict: 'ACCEPT', effects: [...effects, `REDIRECT → ${endpointText(to, pkt.family)}`]}
      }
      case 'notrack':
        pv.pkt.ctstate = 'UNTRACKED'
        effects.push('notrack (nat skipped)')
        continue
      case 'xt':
        return unknown(`an iptables-nft compat ${String((body as Obj)?.type ?? '')} "${String((body as Obj)?.name ?? '')}": only iptables-save shows what it does`)
      default:
        return unknown(`statement "${kind ?? ''}" is not evaluated`)
    }
  }
  return {kind: 'next', effects}
}

const numgens = new WeakMap<NftRule, number | null>()

/** `mod` of the rule's `numgen random` (the rule is split into that many equal branches), or null. */
export function numgenMod(rule: NftRule): number | null {
  let n = numgens.get(rule)
  if (n !== undefined) return n
  n = null
  const stack: unknown[] = [rule.expr]
  let guard = 0
  while (stack.length && guard++ < 10_000) {
    const x = stack.pop()
    if (Array.isArray(x)) stack.push(...x)
    else if (isObj(x)) {
      if (isObj(x.numgen) && x.numgen.mode === 'random' && typeof x.numgen.mod === 'number' && x.numgen.mod > 0) {
        n = x.numgen.mod
        break
      }
      for (const v of Object.values(x)) if (typeof v === 'object' && v !== null) stack.push(v)
    }
  }
  numgens.set(rule, n)
  return n
}
