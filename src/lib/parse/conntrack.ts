/**
 * Parser for `conntrack -L` in its default and `-o extended` formats (IPv4 and IPv6). Each entry is
 * "proto num timeout [STATE] original-tuple [FLAGS] reply-tuple [FLAGS] key=value…"; the reply
 * tuple starts at the second "src=". conntrack prints its "N flow entries have been shown." summary
 * on stderr, but captured evidence sometimes merges the streams, so that line is skipped too.
 */
import {tokenize} from './tokenize.js'
import {problem, type ParseProblem, type ParseResult} from './result.js'

export interface ConntrackTuple {
  src: string
  dst: string
  sport: number | null
  dport: number | null
  /** ICMP / ICMPv6 only. */
  icmpType: number | null
  icmpCode: number | null
  icmpId: number | null
  /** Present when accounting (nf_conntrack_acct) is on. */
  packets: number | null
  bytes: number | null
}

export interface ConntrackEntry {
  line: number
  family: 4 | 6
  /** "tcp", "udp", "icmp", "icmpv6", "sctp", "unknown"… */
  protocol: string
  protocolNumber: number
  /** Seconds left; null when not printed. */
  timeout: number | null
  /** TCP/SCTP/DCCP state such as ESTABLISHED or TIME_WAIT; null for stateless protocols. */
  state: string | null
  original: ConntrackTuple
  reply: ConntrackTuple | null
  /** ASSURED, UNREPLIED, OFFLOAD, HW_OFFLOAD … without brackets. */
  flags: string[]
  mark: number | null
  zone: number | null
  use: number | null
  /** Other key=value fields (secctx, labels, id, delta-time, zone-orig…). */
  extra: Record<string, string>
}

const SUMMARY = /^conntrack v[0-9.]+ \(conntrack-tools\): [0-9]+ flow entries have been shown\.$/
const INT = /^[0-9]{1,20}$/
const TUPLE_NUMBERS = new Set(['sport', 'dport', 'type', 'code', 'id', 'packets', 'bytes'])

function newTuple(src: string): ConntrackTuple {
  return {src, dst: '', sport: null, dport: null, icmpType: null, icmpCode: null, icmpId: null, packets: null, bytes: null}
}

function readEntry(raw: string, lineNo: number): ConntrackEntry | string {
  const tk = tokenize(raw)
  if (tk.error !== undefined) return tk.error
  const words = tk.words
  let i = 0
  // -o extended prefixes "ipv4 2" / "ipv6 10".
  if ((words[0] === 'ipv4' || words[0] === 'ipv6') && INT.test(words[1] ?? '')) i = 2
  const protocol = words[i]
  const protoNum = words[i + 1]
  if (protocol === undefined || protocol.includes('=') || protoNum === undefined || !INT.test(protoNum)) return 'expected "PROTOCOL NUMBER" at the start of the entry'
  i += 2
  let timeout: number | null = null
  if (INT.test(words[i] ?? '')) timeout = Number(words[i++])
  let state: string | null = null
  const maybeState = words[i]
  if (maybeState !== undefined && !maybeState.includes('=') && !maybeState.startsWith('[')) {
    state = maybeState
    i++
  }
  const entry: ConntrackEntry = {
    line: lineNo, family: 4, protocol, protocolNumber: Number(protoNum), timeout, state,
    original: newTuple(''), reply: null, flags: [], mark: null, zone: null, use: null, extra: {},
  }
  let tuple: ConntrackTuple | null = null
  let tuples = 0
  for (; i < words.length; i++) {
    const w = words[i] as string
    if (w.startsWith('[') && w.endsWith(']') && w.length > 2) {
      entry.flags.push(w.slice(1, -1))
      continue
    }
    const eq = w.indexOf('=')
    if (eq <= 0) return `unexpected word "${w}"`
    const key = w.slice(0, eq)
    const value = w.slice(eq + 1)
    if (key === 'src') {
      tuples++
      if (tuples > 2) return 'more than two tuples'
      tuple = newTuple(value)
      if (tuples === 1) entry.original = tuple
      else entry.reply = tuple
      continue
    }
    if (tuple && key === 'dst' && tuple.dst === '') {
      tuple.dst = value
      continue
    }
    // "id" is the ICMP id inside a tuple, but the conntrack id (-o id) after the tuples.
    if (tuple && TUPLE_NUMBERS.has(key) && !(key === 'id' && entry.protocol !== 'icmp' && entry.protocol !== 'icmpv6')) {
      if (!INT.test(value)) return `bad ${key}="${value}"`
      const n = Number(value)
      const field = key === 'type' ? 'icmpType' : key === 'code' ? 'icmpCode' : key === 'id' ? 'icmpId' : key
      if ((tuple as unknown as Record<string, unknown>)[field] === null) {
        ;(tuple as unknown as Record<string, number>)[field] = n
        continue
      }
    }
    if (key === 'mark' || key === 'zone' || key === 'use') {
      if (!INT.test(value)) return `bad ${key}="${value}"`
      entry[key] = Number(value)
      tuple = null
      continue
    }
    entry.extra[key] = value
    tuple = null
  }
  if (tuples === 0) return 'entry without an original tuple (no src=)'
  if (entry.original.dst === '') return 'original tuple without dst='
  entry.family = entry.original.src.includes(':') ? 6 : 4
  return entry
}

export function parseConntrack(text: string): ParseResult<ConntrackEntry[]> {
  const problems: ParseProblem[] = []
  const entries: ConntrackEntry[] = []
  const lines = typeof text === 'string' ? text.split('\n') : []
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim()
    if (raw.length === 0 || SUMMARY.test(raw)) continue
    const e = readEntry(raw, i + 1)
    if (typeof e === 'string') problems.push(problem(i + 1, e, raw))
    else entries.push(e)
  }
  return {value: entries, problems}
}
