/**
 * Does a rule match a packet? The answer is a probability (statistic matches make it 0 < p < 1) and,
 * when the evidence cannot decide (an ipset we have no members for, a `recent` list, an unknown
 * module, a port the caller did not know), the reason it is uncertain. Kernel semantics are followed
 * where the evidence allows; each deviation is commented.
 */
import type {
  AddrtypeMatch, ConntrackMatch, IcmpMatch, IfaceMatch, IptablesMatch, IptablesRule, MultiportMatch, PhysdevMatch,
  PortMatch, PortProtoMatch, ProtoMatch, SetMatch,
} from '../../parse/iptables-save.js'
import {addressType, addrMatches, cidrHas, compileCidr, toIp, type CompiledCidr, type Ip} from './addr.js'
import {ipsetHas} from './ipset-match.js'
import type {NatState} from './outcomes.js'
import type {Ipset} from '../../parse/ipset.js'
import type {NetfilterContext, Packet} from './packet.js'

/** The packet plus its addresses parsed once; rebuilt only when NAT rewrites them. */
export interface PacketView {
  pkt: Packet
  src: Ip | undefined
  dst: Ip | undefined
  nat: NatState
}

export interface MatchResult {
  /** Probability that the rule matches, given that every uncertain part does. */
  p: number
  uncertain?: string
}

/** A single match's answer: a probability (1 / 0 for yes / no) or why it cannot be decided. */
type One = number | string

const NO: MatchResult = Object.freeze({p: 0})
const YES: MatchResult = Object.freeze({p: 1})

function bool(hit: boolean, negated: boolean): number {
  return hit !== negated ? 1 : 0
}

function ifaceMatches(m: IfaceMatch, name: string | undefined): boolean {
  // The kernel compares against an empty name when there is no device, so `-i eth0` fails and
  // `! -i eth0` matches on locally generated packets, while a bare "+" matches everything.
  const n = name ?? ''
  const hit = m.wildcard ? n.startsWith(m.name) : n === m.name
  return hit !== m.negated
}

function protocolNumber(pkt: Packet): number {
  switch (pkt.protocol) {
    case 'tcp': return 6
    case 'udp': return 17
    case 'sctp': return 132
    default: return pkt.family === 4 ? 1 : 58
  }
}

function protoMatches(m: ProtoMatch, pkt: Packet): One {
  if (m.number === 0) return bool(true, m.negated)
  if (m.number === null) return `protocol "${m.name}" not known to the evaluator`
  return bool(m.number === protocolNumber(pkt), m.negated)
}

function inRanges(ports: PortMatch, port: number): boolean {
  for (const r of ports.ranges) if (port >= r.from && port <= r.to) return true
  return false
}

function portOne(ports: PortMatch | null, port: number | undefined, what: string): One {
  if (ports === null) return 1
  if (port === undefined) return `the packet's ${what} port is not known`
  return bool(inRanges(ports, port), ports.negated)
}

const ALL_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG']

function flagList(names: string[]): string[] {
  return names.flatMap((n) => (n === 'ALL' ? ALL_FLAGS : n === 'NONE' ? [] : [n]))
}

function tcpFlagsOne(m: PortProtoMatch, pkt: Packet): One {
  if (m.tcpFlags === null) return 1
  // The first packet of a TCP connection is a SYN; anything else must be told.
  const flags = pkt.tcpFlags ?? (pkt.ctstate === 'NEW' ? ['SYN'] : undefined)
  if (flags === undefined) return "the packet's TCP flags are not known"
  const comp = new Set(flagList(m.tcpFlags.value.comp))
  const hit = flagList(m.tcpFlags.value.mask).every((f) => flags.includes(f) === comp.has(f))
  return bool(hit, m.tcpFlags.negated)
}

function portProtoOne(m: PortProtoMatch, pkt: Packet): One {
  if (m.kind !== pkt.protocol) return 0
  const d = portOne(m.dport, pkt.dport, 'destination')
  if (d === 0) return 0
  const s = portOne(m.sport, pkt.sport, 'source')
  if (s === 0) return 0
  const f = m.kind === 'tcp' ? tcpFlagsOne(m, pkt) : 1
  if (f === 0) return 0
  return typeof d === 'string' ? d : typeof s === 'string' ? s : f
}

function multiportOne(m: MultiportMatch, pkt: Packet): One {
  if (pkt.protocol === 'icmp') return 0
  const {ranges, negated} = m.ports
  const plain = {ranges, negated: false}
  if (m.direction === 'dports') return pkt.dport === undefined ? "the packet's destination port is not known" : bool(inRanges(plain, pkt.dport), negated)
  if (m.direction === 'sports') return pkt.sport === undefined ? "the packet's source port is not known" : bool(inRanges(plain, pkt.sport), negated)
  if (pkt.dport !== undefined && inRanges(plain, pkt.dport)) return bool(true, negated)
  if (pkt.sport === undefined) return "the packet's source port is not known"
  return bool(inRanges(plain, pkt.sport), negated)
}

function typeMatches(m: AddrtypeMatch, which: 'src' | 'dst', pv: PacketView, ctx: NetfilterContext): One {
  const want = which === 'src' ? m.srcType : m.dstType
  if (want === null) return 1
  const ip = which === 'src' ? pv.src : pv.dst
  const text = which === 'src' ? pv.pkt.src : pv.pkt.dst
  if (!ip) return `address "${text}" is not readable`
  let local = ctx.localAddresses
  const limitIface = m.limitIfaceIn ? pv.pkt.inIface : m.limitIfaceOut ? pv.pkt.outIface : null
  if (m.limitIfaceIn || m.limitIfaceOut) {
    const addrs = limitIface === undefined || limitIface === null ? undefined : ctx.interfaceAddresses?.get(limitIface)
    if (addrs === undefined) return `addrtype --limit-iface-${m.limitIfaceIn ? 'in' : 'out'} needs the addresses of interface "${limitIface ?? '(none)'}"`
    local = new Set(addrs)
  }
  const type = addressType(ip, text, local, ctx.broadcastAddresses ?? EMPTY)
  return bool(want.value.includes(type), want.negated)
}

const EMPTY: ReadonlySet<string> = new Set()

function addrtypeOne(m: AddrtypeMatch, pv: PacketView, ctx: NetfilterContext): One {
  const s = typeMatches(m, 'src', pv, ctx)
  if (s === 0) return 0
  const d = typeMatches(m, 'dst', pv, ctx)
  if (d === 0) return 0
  return typeof s === 'string' ? s : d
}

/** The conntrack states the packet is in: its state, plus the DNAT/SNAT virtual states. */
function stateOne(states: string[], negated: boolean, pv: PacketView): One {
  const st = pv.pkt.ctstate
  if (states.includes(st)) return bool(true, negated)
  const dnat = states.includes('DNAT')
  const snat = states.includes('SNAT')
  if (!dnat && !snat) return bool(false, negated)
  // For a NEW packet we saw (or did not see) the translation ourselves; later packets inherit it
  // from a conntrack entry we do not have.
  if (st !== 'NEW') return `conntrack --ctstate ${states.join(',')} on a ${st} packet depends on the conntrack entry`
  const hit = (dnat && pv.nat.dnat !== undefined) || (snat && (pv.nat.snat !== undefined || pv.nat.masquerade !== undefined))
  return bool(hit, negated)
}

function conntrackOne(m: ConntrackMatch, pv: PacketView): One {
  let out: One = 1
  if (m.ctstate !== null) {
    out = stateOne(m.ctstate.value, m.ctstate.negated, pv)
    if (out === 0) return 0
  }
  if (m.ctstatus !== null) {
    // A NEW packet's connection is unconfirmed with no status bits; later ones depend on the entry.
    if (pv.pkt.ctstate !== 'NEW') return `conntrack --ctstatus on a ${pv.pkt.ctstate} packet depends on the conntrack entry`
    const s = bool(m.ctstatus.value.includes('NONE'), m.ctstatus.negated)
    if (s === 0) return 0
  }
  return out
}

const ICMP_NAMES: Record<string, [number, number | null]> = {
  'any': [-1, null], 'echo-reply': [0, null], 'pong': [0, null], 'destination-unreachable': [3, null],
  'port-unreachable': [3, 3], 'fragmentation-needed': [3, 4], 'echo-request': [8, null], 'ping': [8, null],
  'time-exceeded': [11, null], 'ttl-exceeded': [11, null],
  'echo-request6': [128, null], 'echo-reply6': [129, null],
}

function icmpOne(m: IcmpMatch, pkt: Packet): One {
  if (pkt.protocol !== 'icmp' || (m.kind === 'icmp') !== (pkt.family === 4)) return 0
  let type = m.type
  let code = m.code
  if (type === null && m.typeName !== 'any') {
    const named = ICMP_NAMES[m.kind === 'icmp6' ? `${m.typeName}6` : m.typeName] ?? ICMP_NAMES[m.typeName]
    if (!named) return `ICMP type "${m.typeName}" not known to the evaluator`
    ;[type, code] = named[0] < 0 ? [null, null] : named
  }
  if (type === null) return bool(true, m.negated)
  if (pkt.icmpType === undefined) return "the packet's ICMP type is not known"
  if (type !== pkt.icmpType) return bool(false, m.negated)
  if (code === null) return bool(true, m.negated)
  if (pkt.icmpCode === undefined) return "the packet's ICMP code is not known"
  return bool(code === pkt.icmpCode, m.negated)
}

function physdevOne(m: PhysdevMatch, pkt: Packet): One {
  const phys = pkt.physdev
  if (phys === undefined) {
    // xt_physdev on a packet that did not cross a bridge: every non-negated option fails.
    const opts = [m.physdevIn, m.physdevOut, m.isIn, m.isOut, m.isBridged]
    return opts.every((o) => o === null || o.negated) ? 1 : 0
  }
  if (m.isBridged !== null && bool(phys.out !== undefined, m.isBridged.negated) === 0) return 0
  if (m.isIn !== null && bool(phys.in !== undefined, m.isIn.negated) === 0) return 0
  if (m.isOut !== null && bool(phys.out !== undefined, m.isOut.negated) === 0) return 0
  if (m.physdevIn !== null && !ifaceMatches(m.physdevIn, phys.in)) return 0
  if (m.physdevOut !== null && !ifaceMatches(m.physdevOut, phys.out)) return 0
  return 1
}

/** How an undecided match says the evidence it needed was not gathered (as opposed to not being evaluated). */
const NOT_IN_EVIDENCE = 'are not in the evidence'

/** Whether a branch's assumption (HookOutcome.uncertain) stands in for evidence that was not gathered. */
export function restsOnMissingEvidence(uncertain: string): boolean {
  return uncertain.endsWith(NOT_IN_EVIDENCE)
}

const setCache = new WeakMap<readonly string[], CompiledCidr[]>()

function setOne(m: SetMatch, pv: PacketView, ctx: NetfilterContext): One {
  const members = ctx.ipsets?.get(m.setName)
  if (members === undefined) return `ipset "${m.setName}" members ${NOT_IN_EVIDENCE}`
  if (!Array.isArray(members)) {
    // A set read from `ipset save`, matched dimension by dimension (kube-proxy's IPVS mode).
    const hit = ipsetHas(members as Ipset, m.flags, pv.pkt, pv.src, pv.dst)
    return typeof hit === 'string' ? hit : bool(hit === 1, m.negated)
  }
  if (m.flags.length !== 1) return `ipset "${m.setName}" is matched on ${m.flags.join(',')}; only single-address sets are evaluated`
  let compiled = setCache.get(members)
  if (!compiled) {
    compiled = members.map((s) => compileCidr(s)).filter((c): c is CompiledCidr => c !== undefined)
    setCache.set(members, compiled)
  }
  const ip = m.flags[0] === 'src' ? pv.src : pv.dst
  if (!ip) return 'packet address is not readable'
  return bool(compiled.some((c) => cidrHas(c, ip)), m.negated)
}

function rangeOne(text: string, ip: Ip | undefined, negated: boolean): One {
  const [from, to] = text.split('-')
  const a = from === undefined ? undefined : toIp(from)
  const b = to === undefined ? a : toIp(to)
  if (!a || !b || !ip) return `iprange "${text}" is not readable`
  if (a.family !== ip.family) return bool(false, negated)
  return bool(ip.v >= a.v && ip.v <= b.v, negated)
}

function genericOne(m: IptablesMatch, pv: PacketView): One {
  if (m.module === 'iprange') {
    let out: One = 1
    for (const o of m.extra) {
      const r = o.name === '--src-range' ? rangeOne(o.args[0] ?? '', pv.src, o.negated)
        : o.name === '--dst-range' ? rangeOne(o.args[0] ?? '', pv.dst, o.negated) : `iprange option ${o.name} not evaluated`
      if (r === 0) return 0
      if (typeof r === 'string') out = r
    }
    return out
  }
  if (m.module === 'connmark' && m.extra.length === 1 && m.extra[0]?.name === '--mark') {
    const o = m.extra[0]
    const [v, k] = (o.args[0] ?? '').split('/')
    const value = Number(v)
    const mask = k === undefined ? 0xffffffff : Number(k)
    if (!Number.isFinite(value) || !Number.isFinite(mask)) return `connmark "${o.args.join(' ')}" is not readable`
    if (pv.pkt.connmark === undefined) return 'the connection mark is not known'
    return bool(((pv.pkt.connmark & mask) >>> 0) === value >>> 0, o.negated)
  }
  return `-m ${m.module}${m.extra.length ? ' ' + m.extra.map((o) => (o.negated ? '! ' : '') + [o.name, ...o.args].join(' ')).join(' ') : ''} is not evaluated`
}

export function matchOne(m: IptablesMatch, pv: PacketView, ctx: NetfilterContext): One {
  if (m.kind === 'generic') return genericOne(m, pv)
  if (m.extra.length > 0) return `-m ${m.module} option ${m.extra.map((o) => o.name).join(' ')} is not evaluated`
  switch (m.kind) {
    case 'comment': return 1
    case 'mark': return bool(((pv.pkt.mark & m.mask) >>> 0) === m.value >>> 0, m.negated)
    // Kernel: the random mode matches with the given probability; the nth mode matches every Nth
    // packet of a counter we cannot see, so it is taken as a 1/N chance.
    case 'statistic': return m.mode === 'random' ? (m.negated ? 1 - m.probability : m.probability) : (m.negated ? 1 - 1 / m.every : 1 / m.every)
    case 'addrtype': return addrtypeOne(m, pv, ctx)
    case 'conntrack': return conntrackOne(m, pv)
    case 'state': return stateOne(m.states, m.negated, pv)
    // --set always succeeds (it records the source); the checks depend on the list's history.
    case 'recent': return m.action === 'set' ? bool(true, m.negated) : `-m recent --${m.action ?? '?'} --name ${m.name} depends on the list's history`
    case 'multiport': return multiportOne(m, pv.pkt)
    case 'tcp': case 'udp': case 'sctp': case 'udplite': case 'dccp': return portProtoOne(m, pv.pkt)
    case 'icmp': case 'icmp6': return icmpOne(m, pv.pkt)
    case 'physdev': return physdevOne(m, pv.pkt)
    case 'set': return setOne(m, pv, ctx)
  }
}

function addrOne(m: IptablesRule['src'], ip: Ip | undefined, text: string): One {
  if (m === null) return 1
  if (!ip) return `packet address "${text}" is not readable`
  const hit = addrMatches(m, ip)
  if (hit === undefined) return `address "${m.cidr}" is not readable`
  return bool(hit, m.negated)
}

/** Folds one match's answer into the running result; null = the rule does not match. */
function fold(acc: MatchResult, one: One): MatchResult | null {
  if (one === 0) return null
  if (typeof one === 'string') return {p: acc.p, uncertain: acc.uncertain === undefined ? one : `${acc.uncertain}; ${one}`}
  return one === 1 ? acc : {p: acc.p * one, ...(acc.uncertain === undefined ? {} : {uncertain: acc.uncertain})}
}

/** Cheap checks first: in a kube-proxy dump almost every rule fails on -d. No closures: this runs per rule. */
export function matchRule(rule: IptablesRule, pv: PacketView, ctx: NetfilterContext): MatchResult {
  const pkt = pv.pkt
  let acc: MatchResult | null = YES
  if (rule.dst !== null) {
    acc = fold(acc, addrOne(rule.dst, pv.dst, pkt.dst))
    if (acc === null) return NO
  }
  if (rule.src !== null) {
    acc = fold(acc, addrOne(rule.src, pv.src, pkt.src))
    if (acc === null) return NO
  }
  if (rule.protocol !== null) {
    acc = fold(acc, protoMatches(rule.protocol, pkt))
    if (acc === null) return NO
  }
  if (rule.inIface !== null && !ifaceMatches(rule.inIface, pkt.inIface)) return NO
  if (rule.outIface !== null && !ifaceMatches(rule.outIface, pkt.outIface)) return NO
  if (rule.fragment !== null && bool(pkt.fragment === true, rule.fragment.negated) === 0) return NO
  for (const m of rule.matches) {
    acc = fold(acc, matchOne(m, pv, ctx))
    if (acc === null) return NO
  }
  return acc
}
