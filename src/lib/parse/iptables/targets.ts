/** Types the `-j TARGET --opt …` part of an iptables rule; unknown targets stay generic. */
import type {IptablesTarget, MatchOption, NatRange, PortRange} from './types.js'
import {NO_OPTIONS} from './matches.js'
import {addressFamily, readMarkMask, readPortRange, readUint} from './values.js'

export type TargetRead = IptablesTarget | string

type Verb = 'jump' | 'goto'

const VERDICTS: Record<string, 'accept' | 'drop' | 'return' | 'queue' | 'notrack'> = {
  ACCEPT: 'accept', DROP: 'drop', RETURN: 'return', QUEUE: 'queue', NFQUEUE: 'queue', NOTRACK: 'notrack',
}

/**
 * "10.0.0.1", "10.0.0.1:80", "10.0.0.1-10.0.0.9:80-90", "[fd00::5]:8080", "fd00::5", ":80" (ports only).
 * IPv6 with a port is always bracketed by iptables-save, so a bare v6 address has no port.
 */
export function readNatRange(text: string): NatRange | null {
  let addr: string
  let portText: string | null = null
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0) return null
    addr = text.slice(1, close)
    const rest = text.slice(close + 1)
    if (rest.length > 0) {
      if (!rest.startsWith(':')) return null
      portText = rest.slice(1)
    }
  } else {
    const at = text.indexOf(':')
    if (at >= 0 && text.indexOf(':', at + 1) < 0) {
      addr = text.slice(0, at)
      portText = text.slice(at + 1)
    } else addr = text
  }
  let ports: PortRange | null = null
  if (portText !== null) {
    ports = readPortRange(portText, '-')
    if (!ports) return null
  }
  if (addr.length === 0) return {addrFrom: null, addrTo: null, ports}
  const dash = addr.indexOf('-')
  const addrFrom = dash < 0 ? addr : addr.slice(0, dash)
  const addrTo = dash < 0 ? addr : addr.slice(dash + 1)
  if (addressFamily(addrFrom) === null || addressFamily(addrTo) === null) return null
  return {addrFrom, addrTo, ports}
}

function readNat(verb: Verb, name: string, kind: 'dnat' | 'snat', options: MatchOption[]): TargetRead {
  const extra: MatchOption[] = []
  const t: IptablesTarget = {kind, verb, name, extra, to: null, random: false, persistent: false}
  const toOpt = kind === 'dnat' ? '--to-destination' : '--to-source'
  // An iptables binary that does not know the kernel's revision of the target prints it garbled:
  // "--to-destination  --random --to-destination 0.0.0.0:0" (empty, then twice). Never read as 0.0.0.0.
  const tos = options.filter((o) => o.name === toOpt)
  if (tos.length > 1 || tos.some((o) => (o.args[0] ?? '') === '')) {
    return `garbled ${name} target: ${toOpt} ${tos.length > 1 ? `given ${tos.length} times` : 'without a value'} (iptables in userspace does not match the kernel's rule)`
  }
  for (const o of options) {
    if (o.name === toOpt) {
      const r = readNatRange(o.args[0] ?? '')
      if (!r) return `bad ${toOpt} "${o.args.join(' ')}"`
      t.to = r
    } else if (o.name === '--random') t.random = true
    else if (o.name === '--persistent') t.persistent = true
    else extra.push(o)
  }
  return t
}

function readMasquerade(verb: Verb, name: string, options: MatchOption[]): TargetRead {
  const extra: MatchOption[] = []
  const t: IptablesTarget = {kind: 'masquerade', verb, name, extra, ports: null, random: false, randomFully: false}
  for (const o of options) {
    if (o.name === '--to-ports') {
      t.ports = readPortRange(o.args[0] ?? '', '-')
      if (!t.ports) return `bad --to-ports "${o.args.join(' ')}"`
    } else if (o.name === '--random') t.random = true
    else if (o.name === '--random-fully') t.randomFully = true
    else extra.push(o)
  }
  return t
}

function readMarkTarget(verb: Verb, name: string, options: MatchOption[]): TargetRead {
  const extra: MatchOption[] = []
  let result: {op: 'set-xmark' | 'set-mark' | 'or-mark' | 'and-mark' | 'xor-mark'; value: number; mask: number} | null = null
  for (const o of options) {
    const op = o.name.slice(2)
    const arg = o.args[0]
    if (op === 'set-xmark' || op === 'set-mark') {
      const mm = readMarkMask(arg)
      if (!mm) return `bad --${op} "${o.args.join(' ')}"`
      // set-mark V/M zeroes M and ORs V, which equals set-xmark V/(M|V).
      result = {op, value: mm.value, mask: op === 'set-mark' ? (mm.mask | mm.value) >>> 0 : mm.mask}
    } else if (op === 'or-mark' || op === 'and-mark' || op === 'xor-mark') {
      const v = readUint(arg)
      if (v === null) return `bad --${op} "${o.args.join(' ')}"`
      // iptables defines these as shorthands of set-xmark; normalising lets an evaluator apply one formula.
      if (op === 'or-mark') result = {op, value: v, mask: v}
      else if (op === 'and-mark') result = {op, value: 0, mask: ~v >>> 0}
      else result = {op, value: v, mask: 0}
    } else extra.push(o)
  }
  if (!result) return 'MARK target without a mark operation'
  return {kind: 'mark', verb, name, extra, ...result}
}

function readSimple(verb: Verb, name: string, options: MatchOption[]): TargetRead {
  const opt = (n: string): string | null => options.find((o) => o.name === n)?.args.join(' ') ?? null
  const known = (names: string[]): MatchOption[] => options.filter((o) => !names.includes(o.name))
  switch (name) {
    case 'REJECT':
      return {kind: 'reject', verb, name, extra: known(['--reject-with']), rejectWith: opt('--reject-with')}
    case 'LOG':
      return {kind: 'log', verb, name, extra: known(['--log-prefix', '--log-level']), prefix: opt('--log-prefix'), level: opt('--log-level')}
    case 'CT': {
      const zone = opt('--zone')
      return {kind: 'ct', verb, name, extra: known(['--notrack', '--zone']), notrack: options.some((o) => o.name === '--notrack'), zone: zone === null ? null : readUint(zone)}
    }
    case 'TPROXY': {
      const mm = readMarkMask(opt('--tproxy-mark') ?? undefined)
      const port = opt('--on-port')
      return {
        kind: 'tproxy', verb, name, extra: known(['--on-port', '--on-ip', '--tproxy-mark']),
        onPort: port === null ? null : readUint(port), onIp: opt('--on-ip'), mark: mm?.value ?? null, mask: mm?.mask ?? null,
      }
    }
    default:
      return {kind: 'other', verb, name, extra: options}
  }
}

/** `isChain` says whether the table declared a user chain of this name (asked only for non-verdict names). */
export function readTarget(verb: Verb, name: string, options: MatchOption[], isChain: (name: string) => boolean): TargetRead {
  const t = readAnyTarget(verb, name, options, isChain)
  if (typeof t !== 'string' && t.extra.length === 0) t.extra = NO_OPTIONS
  return t
}

function readAnyTarget(verb: Verb, name: string, options: MatchOption[], isChain: (name: string) => boolean): TargetRead {
  const verdict = Object.hasOwn(VERDICTS, name) ? VERDICTS[name] : undefined
  if (verb === 'goto' || (verdict === undefined && isChain(name))) {
    return {kind: 'chain', verb, name, extra: options, chain: name}
  }
  if (verdict) return {kind: verdict, verb, name, extra: options}
  switch (name) {
    case 'DNAT':
      return readNat(verb, name, 'dnat', options)
    case 'SNAT':
      return readNat(verb, name, 'snat', options)
    case 'MASQUERADE':
      return readMasquerade(verb, name, options)
    case 'MARK':
      return readMarkTarget(verb, name, options)
    default:
      return readSimple(verb, name, options)
  }
}
