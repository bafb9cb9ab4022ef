/**
 * Parser for `ipset save`: one `create NAME TYPE OPTIONS…` line per set, then one `add NAME MEMBER`
 * line per member (ipset(8), "SAVE" format — the same lines `ipset restore` reads). kube-proxy's IPVS
 * mode keeps its Service addresses here (pkg/proxy/ipvs: KUBE-CLUSTER-IP hash:ip,port,
 * KUBE-LOOP-BACK hash:ip,port,ip, KUBE-NODE-PORT-TCP bitmap:port…) and matches them from iptables
 * with `-m set --match-set`. Members are kept as structured parts so the evaluator can match them
 * dimension by dimension; a member that does not fit its set's type is reported, not guessed.
 */
import {tokenize} from './tokenize.js'
import {problem, type ParseProblem, type ParseResult} from './result.js'

/** One dimension of a member: an address or CIDR, a (protocol, port), or a port alone (bitmap:port). */
export type IpsetPart =
  | {kind: 'ip'; text: string}
  | {kind: 'net'; text: string}
  | {kind: 'port'; protocol: string; port: number}

export interface IpsetMember {
  text: string
  parts: IpsetPart[]
  line: number
}

export interface Ipset {
  name: string
  /** "hash:ip,port", "bitmap:port", "hash:net"… */
  type: string
  /** What each dimension holds, from the type: ip, net, port (hash:ip,port → ['ip', 'port']). */
  dims: ('ip' | 'net' | 'port')[]
  family: 'inet' | 'inet6' | null
  /** bitmap:port's "range FROM-TO". */
  range: {from: number; to: number} | null
  members: IpsetMember[]
  line: number
}

export interface IpsetDump {
  sets: Ipset[]
}

const DIM: Record<string, 'ip' | 'net' | 'port'> = {ip: 'ip', net: 'net', port: 'port', mac: 'port', iface: 'port', mark: 'port'}
/** The types whose members this parser reads; others (hash:mac, list:set…) are kept with no members read. */
const READABLE = /^(hash|bitmap):(ip|net|port)(,(ip|net|port))*$/

function dimsOf(type: string): ('ip' | 'net' | 'port')[] {
  const colon = type.indexOf(':')
  return type.slice(colon + 1).split(',').map((d) => DIM[d] ?? 'port')
}

const PORT = /^[0-9]{1,5}$/
const IP_OR_NET = /^[0-9A-Fa-f:.]+(\/[0-9]{1,3})?$/

function readPort(text: string): {protocol: string; port: number} | null {
  // "tcp:80", "udp:53", "80" (tcp is ipset's default protocol), "icmp:ping" is not a port.
  const colon = text.lastIndexOf(':')
  const protocol = colon < 0 ? 'tcp' : text.slice(0, colon).toLowerCase()
  const port = colon < 0 ? text : text.slice(colon + 1)
  if (!PORT.test(port) || Number(port) > 65535 || !/^[a-z0-9]+$/.test(protocol)) return null
  return {protocol, port: Number(port)}
}

function readMember(set: Ipset, text: string): IpsetPart[] | string {
  const raw = text.split(',')
  if (set.type === 'bitmap:port') {
    const p = raw.length === 1 ? readPort(raw[0] as string) : null
    return p ? [{kind: 'port', ...p}] : `"${text}" is not a port`
  }
  if (raw.length !== set.dims.length) return `"${text}" has ${raw.length} part(s), ${set.type} has ${set.dims.length}`
  const parts: IpsetPart[] = []
  for (let i = 0; i < raw.length; i++) {
    const value = raw[i] as string
    const dim = set.dims[i]
    if (dim === 'port') {
      const p = readPort(value)
      if (!p) return `"${value}" is not a protocol:port`
      parts.push({kind: 'port', ...p})
    } else if (IP_OR_NET.test(value)) {
      // hash:ip members are addresses, hash:net members are CIDRs (a bare address is a /32 or /128).
      parts.push(dim === 'net' || value.includes('/') ? {kind: 'net', text: value} : {kind: 'ip', text: value})
    } else {
      return `"${value}" is not an address`
    }
  }
  return parts
}

function readCreate(words: string[], lineNo: number): Ipset | string {
  const name = words[1]
  const type = words[2]
  if (name === undefined || type === undefined) return 'create without a name and type'
  let family: Ipset['family'] = null
  let range: Ipset['range'] = null
  for (let i = 3; i < words.length; i++) {
    const w = words[i] as string
    const next = words[i + 1]
    if (w === 'family' && (next === 'inet' || next === 'inet6')) {
      family = next
      i++
    } else if (w === 'range' && next !== undefined) {
      const m = /^([0-9]{1,5})-([0-9]{1,5})$/.exec(next)
      if (m) range = {from: Number(m[1]), to: Number(m[2])}
      i++
    }
    // hashsize, maxelem, bucketsize, initval, timeout, counters, comment…: sizing and bookkeeping, not membership.
  }
  return {name, type, dims: dimsOf(type), family, range, members: [], line: lineNo}
}

export function parseIpsetSave(text: string): ParseResult<IpsetDump> {
  const problems: ParseProblem[] = []
  const sets: Ipset[] = []
  const byName = new Map<string, Ipset>()
  if (typeof text !== 'string') return {value: {sets}, problems: [problem(0, 'ipset: input is not text')]}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim()
    const lineNo = i + 1
    if (raw.length === 0 || raw.startsWith('#')) continue
    const tk = tokenize(raw)
    if (tk.error !== undefined) {
      problems.push(problem(lineNo, tk.error, raw))
      continue
    }
    const words = tk.words
    if (words[0] === 'create' || words[0] === '-N') {
      const set = readCreate(words, lineNo)
      if (typeof set === 'string') problems.push(problem(lineNo, set, raw))
      else if (byName.has(set.name)) problems.push(problem(lineNo, `set ${set.name} is created twice`, raw))
      else {
        sets.push(set)
        byName.set(set.name, set)
      }
      continue
    }
    if (words[0] === 'add' || words[0] === '-A') {
      const set = byName.get(words[1] ?? '')
      const member = words[2]
      if (!set || member === undefined) {
        problems.push(problem(lineNo, set ? 'add without a member' : `add to set "${words[1] ?? ''}" that was not created`, raw))
        continue
      }
      if (!READABLE.test(set.type)) continue
      const parts = readMember(set, member)
      if (typeof parts === 'string') problems.push(problem(lineNo, `${set.name} (${set.type}): ${parts}`, raw))
      else set.members.push({text: member, parts, line: lineNo})
      continue
    }
    problems.push(problem(lineNo, `unknown command "${words[0] ?? ''}"`, raw))
  }
  return {value: {sets}, problems}
}
