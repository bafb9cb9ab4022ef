/**
 * Types the `-m MODULE --opt …` groups of an iptables rule. Unknown modules, and unknown options of
 * known modules, are kept as plain option lists: new kernels and CNIs add matches all the time and a
 * diagnosis tool must not call them errors.
 */
import type {IfaceMatch, IptablesMatch, MatchOption, Negatable, PortMatch} from './types.js'
import {readMarkMask, readPortList, readPortRange, readUint} from './values.js'

/** A typed match, or a message saying why the options could not be read. */
export type MatchRead = IptablesMatch | string

type Reader = (module: string, options: MatchOption[]) => MatchRead

function first(o: MatchOption): string | undefined {
  return o.args[0]
}

function csv(o: MatchOption): Negatable<string[]> {
  return {value: (o.args[0] ?? '').split(','), negated: o.negated}
}

export function ifaceOf(text: string, negated: boolean): IfaceMatch {
  return text.endsWith('+') ? {name: text.slice(0, -1), wildcard: true, negated} : {name: text, wildcard: false, negated}
}

const readComment: Reader = (module, options) => {
  const extra: MatchOption[] = []
  let comment: string | null = null
  for (const o of options) {
    if (o.name === '--comment' && comment === null) comment = o.args.length === 1 ? (o.args[0] as string) : o.args.join(' ')
    else extra.push(o)
  }
  if (comment === null) return 'comment match without --comment'
  return {kind: 'comment', module, extra, comment}
}

const readMark: Reader = (module, options) => {
  const extra: MatchOption[] = []
  let mark: {value: number; mask: number; negated: boolean} | null = null
  for (const o of options) {
    if (o.name === '--mark') {
      const mm = readMarkMask(first(o))
      if (!mm) return `bad --mark value "${o.args.join(' ')}"`
      mark = {...mm, negated: o.negated}
    } else extra.push(o)
  }
  if (!mark) return 'mark match without --mark'
  return {kind: 'mark', module, extra, ...mark}
}

const readStatistic: Reader = (module, options) => {
  const extra: MatchOption[] = []
  let mode: string | undefined
  let probability: number | null = null
  let every: number | null = null
  let packet = 0
  let negated = false
  for (const o of options) {
    if (o.name === '--mode') mode = first(o)
    else if (o.name === '--probability') {
      probability = Number(first(o))
      negated ||= o.negated
      if (!Number.isFinite(probability) || probability < 0 || probability > 1) return `bad --probability "${o.args.join(' ')}"`
    } else if (o.name === '--every') {
      every = readUint(first(o))
      negated ||= o.negated
      if (every === null || every === 0) return `bad --every "${o.args.join(' ')}"`
    } else if (o.name === '--packet') {
      const p = readUint(first(o))
      if (p === null) return `bad --packet "${o.args.join(' ')}"`
      packet = p
    } else extra.push(o)
  }
  if (mode === 'random' && probability !== null) return {kind: 'statistic', module, extra, mode, probability, negated}
  if (mode === 'nth' && every !== null) return {kind: 'statistic', module, extra, mode, every, packet, negated}
  return `statistic match with unreadable mode "${mode ?? ''}"`
}

const readAddrtype: Reader = (module, options) => {
  const extra: MatchOption[] = []
  const m: IptablesMatch = {kind: 'addrtype', module, extra, srcType: null, dstType: null, limitIfaceIn: false, limitIfaceOut: false}
  for (const o of options) {
    if (o.name === '--src-type') m.srcType = csv(o)
    else if (o.name === '--dst-type') m.dstType = csv(o)
    else if (o.name === '--limit-iface-in') m.limitIfaceIn = true
    else if (o.name === '--limit-iface-out') m.limitIfaceOut = true
    else extra.push(o)
  }
  return m
}

const readConntrack: Reader = (module, options) => {
  const extra: MatchOption[] = []
  const m: IptablesMatch = {kind: 'conntrack', module, extra, ctstate: null, ctstatus: null}
  for (const o of options) {
    if (o.name === '--ctstate') m.ctstate = csv(o)
    else if (o.name === '--ctstatus') m.ctstatus = csv(o)
    else extra.push(o)
  }
  return m
}

const readState: Reader = (module, options) => {
  const extra: MatchOption[] = []
  let states: Negatable<string[]> | null = null
  for (const o of options) {
    if (o.name === '--state') states = csv(o)
    else extra.push(o)
  }
  if (!states) return 'state match without --state'
  return {kind: 'state', module, extra, states: states.value, negated: states.negated}
}

const RECENT_ACTIONS = new Set(['--set', '--rcheck', '--update', '--remove'])

const readRecent: Reader = (module, options) => {
  const extra: MatchOption[] = []
  const m: IptablesMatch = {
    kind: 'recent', module, extra, name: 'DEFAULT', action: null, negated: false,
    seconds: null, hitcount: null, reap: false, rttl: false, side: 'source', mask: null,
  }
  for (const o of options) {
    if (RECENT_ACTIONS.has(o.name)) {
      m.action = o.name.slice(2) as 'set' | 'rcheck' | 'update' | 'remove'
      m.negated = o.negated
    } else if (o.name === '--name') m.name = first(o) ?? ''
    else if (o.name === '--seconds' || o.name === '--hitcount') {
      const v = readUint(first(o))
      if (v === null) return `bad ${o.name} "${o.args.join(' ')}"`
      if (o.name === '--seconds') m.seconds = v
      else m.hitcount = v
    } else if (o.name === '--reap') m.reap = true
    else if (o.name === '--rttl') m.rttl = true
    else if (o.name === '--rsource') m.side = 'source'
    else if (o.name === '--rdest') m.side = 'dest'
    else if (o.name === '--mask') m.mask = first(o) ?? null
    else extra.push(o)
  }
  return m
}

const readMultiport: Reader = (module, options) => {
  const extra: MatchOption[] = []
  let found: {direction: 'dports' | 'sports' | 'ports'; ports: PortMatch} | null = null
  for (const o of options) {
    const dir = o.name === '--dports' || o.name === '--destination-ports' ? 'dports'
      : o.name === '--sports' || o.name === '--source-ports' ? 'sports'
        : o.name === '--ports' ? 'ports' : null
    if (dir) {
      const ports = readPortList(first(o) ?? '', o.negated)
      if (!ports) return `bad multiport list "${o.args.join(' ')}"`
      found = {direction: dir, ports}
    } else extra.push(o)
  }
  if (!found) return 'multiport match without a port list'
  return {kind: 'multiport', module, extra, ...found}
}

const readPortProto: Reader = (module, options) => {
  const extra: MatchOption[] = []
  const m: IptablesMatch = {kind: module as 'tcp', module, extra, sport: null, dport: null, tcpFlags: null}
  for (const o of options) {
    const which = o.name === '--dport' || o.name === '--destination-port' ? 'dport'
      : o.name === '--sport' || o.name === '--source-port' ? 'sport' : null
    if (which) {
      const r = readPortRange(first(o) ?? '')
      if (!r) return `bad ${o.name} "${o.args.join(' ')}"`
      m[which] = {ranges: [r], negated: o.negated}
    } else if (o.name === '--tcp-flags' && o.args.length === 2) {
      m.tcpFlags = {value: {mask: (o.args[0] ?? '').split(','), comp: (o.args[1] ?? '').split(',')}, negated: o.negated}
    } else if (o.name === '--syn') {
      m.tcpFlags = {value: {mask: ['FIN', 'SYN', 'RST', 'ACK'], comp: ['SYN']}, negated: o.negated}
    } else extra.push(o)
  }
  return m
}

const readIcmp: Reader = (module, options) => {
  const extra: MatchOption[] = []
  let found: {typeName: string; negated: boolean} | null = null
  for (const o of options) {
    if (o.name === '--icmp-type' || o.name === '--icmpv6-type') found = {typeName: first(o) ?? '', negated: o.negated}
    else extra.push(o)
  }
  if (!found) return {kind: module === 'icmp' ? 'icmp' : 'icmp6', module, extra, type: null, code: null, typeName: 'any', negated: false}
  // iptables-save prints "8" or "3/4"; hand-written rules may use names, which stay in typeName.
  const slash = found.typeName.indexOf('/')
  const type = readUint(slash < 0 ? found.typeName : found.typeName.slice(0, slash))
  const code = slash < 0 ? null : readUint(found.typeName.slice(slash + 1))
  return {kind: module === 'icmp' ? 'icmp' : 'icmp6', module, extra, type, code, typeName: found.typeName, negated: found.negated}
}

const readPhysdev: Reader = (module, options) => {
  const extra: MatchOption[] = []
  const m: IptablesMatch = {kind: 'physdev', module, extra, physdevIn: null, physdevOut: null, isIn: null, isOut: null, isBridged: null}
  for (const o of options) {
    if (o.name === '--physdev-in') m.physdevIn = ifaceOf(first(o) ?? '', o.negated)
    else if (o.name === '--physdev-out') m.physdevOut = ifaceOf(first(o) ?? '', o.negated)
    else if (o.name === '--physdev-is-in') m.isIn = {value: true, negated: o.negated}
    else if (o.name === '--physdev-is-out') m.isOut = {value: true, negated: o.negated}
    else if (o.name === '--physdev-is-bridged') m.isBridged = {value: true, negated: o.negated}
    else extra.push(o)
  }
  return m
}

const readSet: Reader = (module, options) => {
  const extra: MatchOption[] = []
  let found: {setName: string; flags: ('src' | 'dst')[]; negated: boolean} | null = null
  for (const o of options) {
    if ((o.name === '--match-set' || o.name === '--set') && o.args.length === 2) {
      const flags = (o.args[1] ?? '').split(',')
      if (!flags.every((f) => f === 'src' || f === 'dst')) return `bad set flags "${o.args[1] ?? ''}"`
      found = {setName: o.args[0] ?? '', flags: flags as ('src' | 'dst')[], negated: o.negated}
    } else extra.push(o)
  }
  if (!found) return 'set match without --match-set NAME FLAGS'
  return {kind: 'set', module, extra, ...found}
}

const READERS = new Map<string, Reader>(Object.entries({
  comment: readComment,
  mark: readMark,
  statistic: readStatistic,
  addrtype: readAddrtype,
  conntrack: readConntrack,
  state: readState,
  recent: readRecent,
  multiport: readMultiport,
  tcp: readPortProto,
  udp: readPortProto,
  sctp: readPortProto,
  udplite: readPortProto,
  dccp: readPortProto,
  icmp: readIcmp,
  icmp6: readIcmp,
  physdev: readPhysdev,
  set: readSet,
}))

/** Shared by every match and target without untyped options, so a big dump keeps no empty arrays alive. */
export const NO_OPTIONS: readonly MatchOption[] = Object.freeze([])

export function readMatch(module: string, options: MatchOption[]): MatchRead {
  const reader = READERS.get(module)
  const m: MatchRead = reader ? reader(module, options) : {kind: 'generic', module, extra: options}
  if (typeof m !== 'string' && m.extra.length === 0) m.extra = NO_OPTIONS
  return m
}
