/**
 * Parser for `ipvsadm -S -n` (the save format: one `-A` line per virtual service, then one `-a`
 * line per real server). kube-proxy's IPVS mode writes rr services with masquerading (-m) real
 * servers of weight 1; the parser also reads the other schedulers, persistence and forwarding methods.
 */
import {tokenize} from './tokenize.js'
import {problem, type ParseProblem, type ParseResult} from './result.js'

export type IpvsProtocol = 'tcp' | 'udp' | 'sctp' | 'fwmark'

/** "10.96.0.1:443", "[fd00::1]:443", or a firewall mark number. */
export interface IpvsServiceKey {
  protocol: IpvsProtocol
  /** Null for fwmark services. */
  address: string | null
  port: number | null
  fwmark: number | null
}

export interface IpvsRealServer {
  address: string
  port: number
  /** -m masquerading (NAT), -g gatewaying (direct routing, the ipvsadm default), -i ipip tunnelling. */
  forwarding: 'masq' | 'route' | 'tunnel'
  weight: number
  upperThreshold: number | null
  lowerThreshold: number | null
  line: number
}

export interface IpvsVirtualService extends IpvsServiceKey {
  scheduler: string
  /** Persistence timeout in seconds when -p is given (default 300 when -p has no value). */
  persistent: number | null
  netmask: string | null
  flags: string[]
  realServers: IpvsRealServer[]
  line: number
}

export interface IpvsTable {
  services: IpvsVirtualService[]
}

const PROTOCOL_FLAGS: Record<string, IpvsProtocol> = {
  '-t': 'tcp', '--tcp-service': 'tcp', '-u': 'udp', '--udp-service': 'udp',
  '--sctp-service': 'sctp', '-f': 'fwmark', '--fwmark-service': 'fwmark',
}

function hostPort(text: string): {address: string; port: number} | null {
  let address: string
  let portText: string
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0 || text[close + 1] !== ':') return null
    address = text.slice(1, close)
    portText = text.slice(close + 2)
  } else {
    const at = text.lastIndexOf(':')
    if (at <= 0 || text.indexOf(':') !== at) return null
    address = text.slice(0, at)
    portText = text.slice(at + 1)
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535 || address.length === 0) return null
  return {address, port: Number(portText)}
}

function serviceKey(flag: string, value: string): IpvsServiceKey | null {
  const protocol = PROTOCOL_FLAGS[flag]
  if (!protocol) return null
  if (protocol === 'fwmark') {
    if (!/^[0-9]{1,10}$/.test(value)) return null
    return {protocol, address: null, port: null, fwmark: Number(value)}
  }
  const hp = hostPort(value)
  return hp ? {protocol, address: hp.address, port: hp.port, fwmark: null} : null
}

/** Index key so real servers find their service in O(1) on dumps with thousands of services. */
function keyString(k: IpvsServiceKey): string {
  return `${k.protocol}|${k.address ?? ''}|${k.port ?? ''}|${k.fwmark ?? ''}`
}

function readInt(text: string | undefined): number | null {
  return text !== undefined && /^[0-9]{1,10}$/.test(text) ? Number(text) : null
}

/** Returns the parsed line or a message; `services` is consulted to attach real servers. */
function readLine(raw: string, lineNo: number, services: IpvsVirtualService[], index: Map<string, IpvsVirtualService>): string | null {
  const tk = tokenize(raw)
  if (tk.error !== undefined) return tk.error
  const words = tk.words
  const op = words[0]
  if (op !== '-A' && op !== '-a' && op !== '--add-service' && op !== '--add-server') return `unknown command "${op ?? ''}"`
  const isService = op === '-A' || op === '--add-service'
  let key: IpvsServiceKey | null = null
  const svc: Omit<IpvsVirtualService, keyof IpvsServiceKey> = {scheduler: 'wlc', persistent: null, netmask: null, flags: [], realServers: [], line: lineNo}
  const rs: Omit<IpvsRealServer, 'address' | 'port'> & {target: {address: string; port: number} | null} = {
    target: null, forwarding: 'route', weight: 1, upperThreshold: null, lowerThreshold: null, line: lineNo,
  }
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string
    const next = words[i + 1]
    if (Object.hasOwn(PROTOCOL_FLAGS, w)) {
      key = next === undefined ? null : serviceKey(w, next)
      if (!key) return `bad service address "${next ?? ''}"`
      i++
    } else if (isService && (w === '-s' || w === '--scheduler')) {
      if (next === undefined) return 'missing scheduler'
      svc.scheduler = next
      i++
    } else if (isService && (w === '-p' || w === '--persistent')) {
      // -p takes an optional timeout; ipvsadm -S always prints it.
      const t = readInt(next)
      svc.persistent = t ?? 300
      if (t !== null) i++
    } else if (isService && (w === '-M' || w === '--netmask')) {
      svc.netmask = next ?? null
      i++
    } else if (isService && (w === '-b' || w === '--sched-flags')) {
      svc.flags = (next ?? '').split(',').filter((f) => f.length > 0)
      i++
    } else if (!isService && (w === '-r' || w === '--real-server')) {
      rs.target = next === undefined ? null : hostPort(next)
      if (!rs.target) {
        // A real server without a port inherits the virtual port (allowed for -g/-i).
        if (next !== undefined && next.length > 0 && !next.includes(' ')) rs.target = {address: next.replace(/^\[|\]$/g, ''), port: -1}
        else return `bad real server "${next ?? ''}"`
      }
      i++
    } else if (!isService && (w === '-m' || w === '--masquerading')) rs.forwarding = 'masq'
    else if (!isService && (w === '-g' || w === '--gatewaying')) rs.forwarding = 'route'
    else if (!isService && (w === '-i' || w === '--ipip')) rs.forwarding = 'tunnel'
    else if (!isService && (w === '-w' || w === '--weight' || w === '-x' || w === '--u-threshold' || w === '-y' || w === '--l-threshold')) {
      const n = readInt(next)
      if (n === null) return `bad ${w} value "${next ?? ''}"`
      if (w === '-w' || w === '--weight') rs.weight = n
      else if (w === '-x' || w === '--u-threshold') rs.upperThreshold = n
      else rs.lowerThreshold = n
      i++
    } else return `unknown option "${w}"`
  }
  if (!key) return 'no -t/-u/-f service given'
  if (isService) {
    const service = {...key, ...svc}
    services.push(service)
    if (!index.has(keyString(key))) index.set(keyString(key), service)
    return null
  }
  if (!rs.target) return 'real server line without -r'
  const owner = index.get(keyString(key))
  if (!owner) return 'real server for a virtual service that was not declared'
  const {target, ...rest} = rs
  owner.realServers.push({address: target.address, port: target.port === -1 ? (key.port ?? 0) : target.port, ...rest})
  return null
}

export function parseIpvsadmSave(text: string): ParseResult<IpvsTable> {
  const problems: ParseProblem[] = []
  const services: IpvsVirtualService[] = []
  const index = new Map<string, IpvsVirtualService>()
  const lines = typeof text === 'string' ? text.split('\n') : []
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim()
    if (raw.length === 0 || raw.startsWith('#')) continue
    const err = readLine(raw, i + 1, services, index)
    if (err !== null) problems.push(problem(i + 1, err, raw))
  }
  return {value: {services}, problems}
}
