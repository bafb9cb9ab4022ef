/**
 * What a matched rule's target does to the packet and to the walk. Terminating targets end the
 * table (ACCEPT, DROP, REJECT, and the NAT targets, which accept after translating); the others
 * change the packet (MARK, NOTRACK) or nothing (LOG) and the walk continues, as in the kernel.
 */
import type {IptablesRule, NatRange} from '../../parse/iptables-save.js'
import {toIp} from './addr.js'
import type {PacketView} from './match.js'
import type {Endpoint, Verdict} from './outcomes.js'
import type {NetfilterContext} from './packet.js'

export type TargetAction =
  | {kind: 'continue'; effect: string; uncertain?: string}
  | {kind: 'verdict'; verdict: Verdict; effect: string; rejectWith?: string; uncertain?: string}
  | {kind: 'jump' | 'goto'; chain: string; effect: string}
  | {kind: 'return'; effect: string}

/** Targets that only look (or touch what no match here reads): the walk continues. */
const NON_TERMINAL = new Set([
  'NFLOG', 'ULOG', 'TRACE', 'AUDIT', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL', 'TCPMSS', 'CHECKSUM', 'SECMARK',
  'CONNSECMARK', 'SET', 'IDLETIMER', 'LED', 'TEE', 'RATEEST', 'ECN', 'TCPOPTSTRIP',
])

const hex = (n: number): string => `0x${n.toString(16)}`

function setAddr(pv: PacketView, which: 'src' | 'dst', ip: string): void {
  pv.pkt[which] = ip
  pv[which] = toIp(ip)
}

function natTo(range: NatRange | null, pv: PacketView, which: 'src' | 'dst'): {to: Endpoint; rangeTo?: Endpoint} {
  const portKey = which === 'src' ? 'sport' : 'dport'
  const ip = range?.addrFrom ?? pv.pkt[which]
  const port = range?.ports?.from ?? pv.pkt[portKey]
  const to: Endpoint = port === undefined ? {ip} : {ip, port}
  // A range is resolved per connection by a hash we cannot reproduce: report its first member and the range.
  const wide = range !== null && ((range.addrTo !== null && range.addrTo !== range.addrFrom) || (range.ports !== null && range.ports.to !== range.ports.from))
  if (!wide) return {to}
  const last: Endpoint = {ip: range.addrTo ?? ip}
  if (range.ports) last.port = range.ports.to
  return {to, rangeTo: last}
}

function endpointText(e: Endpoint, family: 4 | 6): string {
  if (e.port === undefined) return e.ip
  return family === 6 ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`
}

export function applyTarget(rule: IptablesRule, table: string, pv: PacketView, ctx: NetfilterContext): TargetAction {
  const t = rule.target
  const pkt = pv.pkt
  if (t === null) return {kind: 'continue', effect: 'matched (no target)'}
  switch (t.kind) {
    case 'accept': return {kind: 'verdict', verdict: 'ACCEPT', effect: 'ACCEPT'}
    case 'drop': return {kind: 'verdict', verdict: 'DROP', effect: 'DROP'}
    case 'reject': {
      const rejectWith = t.rejectWith ?? (pkt.family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable')
      return {kind: 'verdict', verdict: 'REJECT', rejectWith, effect: `REJECT --reject-with ${rejectWith}`}
    }
    case 'return': return {kind: 'return', effect: 'RETURN'}
    case 'queue': return {kind: 'verdict', verdict: 'QUEUE', effect: t.name, uncertain: `${t.name}: a userspace program decides the verdict`}
    case 'notrack':
      pkt.ctstate = 'UNTRACKED'
      return {kind: 'continue', effect: 'NOTRACK (connection not tracked, nat skipped)'}
    case 'chain': return {kind: t.verb, chain: t.chain, effect: `${t.verb === 'goto' ? 'goto' : 'jump'} ${t.chain}`}
    case 'mark': {
      const before = pkt.mark
      pkt.mark = ((pkt.mark & ~t.mask) ^ t.value) >>> 0
      return {kind: 'continue', effect: `mark ${hex(before)} → ${hex(pkt.mark)}`}
    }
    case 'log': return {kind: 'continue', effect: `LOG${t.prefix === null ? '' : ` ${t.prefix}`}`}
    case 'ct':
      if (t.notrack) pkt.ctstate = 'UNTRACKED'
      return {kind: 'continue', effect: t.notrack ? 'CT --notrack (connection not tracked, nat skipped)' : 'CT'}
    case 'dnat': {
      const original: Endpoint = pkt.dport === undefined ? {ip: pkt.dst} : {ip: pkt.dst, port: pkt.dport}
      const {to, rangeTo} = natTo(t.to, pv, 'dst')
      setAddr(pv, 'dst', to.ip)
      if (to.port !== undefined) pkt.dport = to.port
      pv.nat = {...pv.nat, dnat: {...to, original, ...(rangeTo ? {rangeTo} : {}), table, chain: rule.chain, line: rule.line}}
      return {kind: 'verdict', verdict: 'ACCEPT', effect: `DNAT → ${endpointText(to, pkt.family)}${rangeTo ? ` (range to ${endpointText(rangeTo, pkt.family)})` : ''}`}
    }
    case 'snat': {
      const original: Endpoint = pkt.sport === undefined ? {ip: pkt.src} : {ip: pkt.src, port: pkt.sport}
      const {to, rangeTo} = natTo(t.to, pv, 'src')
      setAddr(pv, 'src', to.ip)
      if (to.port !== undefined) pkt.sport = to.port
      pv.nat = {...pv.nat, snat: {...to, original, ...(rangeTo ? {rangeTo} : {}), chain: rule.chain, line: rule.line}}
      return {kind: 'verdict', verdict: 'ACCEPT', effect: `SNAT → ${endpointText(to, pkt.family)}`}
    }
    case 'masquerade': {
      const address = pkt.outIface === undefined ? undefined : ctx.interfaceAddresses?.get(pkt.outIface)?.find((a) => toIp(a)?.family === pkt.family)
      if (address !== undefined) setAddr(pv, 'src', address)
      pv.nat = {...pv.nat, masquerade: {chain: rule.chain, line: rule.line, ...(address === undefined ? {} : {address})}}
      return {kind: 'verdict', verdict: 'ACCEPT', effect: `MASQUERADE${address === undefined ? '' : ` → ${address}`}`}
    }
    case 'tproxy': {
      if (t.mark !== null) pkt.mark = ((pkt.mark & ~(t.mask ?? 0xffffffff)) ^ t.mark) >>> 0
      return {
        kind: 'verdict', verdict: 'ACCEPT', effect: `TPROXY → ${t.onIp ?? '(local)'}:${t.onPort ?? '?'}`,
        uncertain: 'TPROXY accepts only if a transparent socket listens on the port, else it drops',
      }
    }
    case 'other': return otherTarget(rule, t.name, table, pv, ctx)
  }
}

function option(rule: IptablesRule, name: string): string | undefined {
  return rule.target?.extra.find((o) => o.name === name)?.args[0]
}

function otherTarget(rule: IptablesRule, name: string, table: string, pv: PacketView, ctx: NetfilterContext): TargetAction {
  const pkt = pv.pkt
  if (name === 'REDIRECT') {
    // DNAT to the primary address of the input interface, or to loopback for locally generated packets.
    const ip = pkt.inIface === undefined
      ? (pkt.family === 4 ? '127.0.0.1' : '::1')
      : ctx.interfaceAddresses?.get(pkt.inIface)?.find((a) => toIp(a)?.family === pkt.family)
    const ports = option(rule, '--to-ports')
    const port = ports === undefined ? pkt.dport : Number(ports.split('-')[0])
    const original: Endpoint = pkt.dport === undefined ? {ip: pkt.dst} : {ip: pkt.dst, port: pkt.dport}
    if (ip === undefined) {
      return {kind: 'verdict', verdict: 'ACCEPT', effect: 'REDIRECT', uncertain: `REDIRECT: the addresses of ${pkt.inIface ?? '?'} are not known`}
    }
    setAddr(pv, 'dst', ip)
    if (port !== undefined && Number.isFinite(port)) pkt.dport = port
    const to: Endpoint = pkt.dport === undefined ? {ip} : {ip, port: pkt.dport}
    pv.nat = {...pv.nat, dnat: {...to, original, table, chain: rule.chain, line: rule.line}}
    return {kind: 'verdict', verdict: 'ACCEPT', effect: `REDIRECT → ${endpointText(to, pkt.family)}`}
  }
  if (name === 'CONNMARK') {
    if (rule.target?.extra.some((o) => o.name === '--restore-mark')) {
      if (pkt.connmark === undefined) return {kind: 'continue', effect: 'CONNMARK --restore-mark', uncertain: 'CONNMARK --restore-mark: the connection mark is not known'}
      const maskText = option(rule, '--mask') ?? option(rule, '--ctmask')
      const mask = maskText === undefined ? 0xffffffff : Number(maskText)
      const before = pkt.mark
      pkt.mark = ((pkt.mark & ~mask) | (pkt.connmark & mask)) >>> 0
      return {kind: 'continue', effect: `CONNMARK restore: mark ${hex(before)} → ${hex(pkt.mark)}`}
    }
    return {kind: 'continue', effect: 'CONNMARK (connection mark only)'}
  }
  if (NON_TERMINAL.has(name)) return {kind: 'continue', effect: name}
  if (name === 'NETMAP' || name === 'SYNPROXY') {
    return {kind: 'verdict', verdict: 'ACCEPT', effect: name, uncertain: `${name} is not modelled; taken as accepting`}
  }
  // An unknown extension: most are non-terminal, so the walk continues, flagged.
  return {kind: 'continue', effect: name, uncertain: `target ${name} is not modelled; taken as non-terminal`}
}
