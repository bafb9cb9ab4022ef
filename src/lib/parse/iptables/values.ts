/** Small value readers shared by the iptables match and target readers; each returns null when unreadable. */
import type {AddrMatch, Counters, PortMatch, PortRange, ProtoMatch} from './types.js'

const DECIMAL = /^[0-9]+$/
const HEX = /^0[xX][0-9a-fA-F]+$/

/** Decimal or 0x-hex unsigned integer, as iptables prints marks and masks. */
export function readUint(text: string | undefined): number | null {
  if (text === undefined || text.length === 0 || text.length > 20) return null
  if (DECIMAL.test(text)) return Number(text)
  if (HEX.test(text)) return Number.parseInt(text.slice(2), 16)
  return null
}

export function readPort(text: string): number | null {
  if (!DECIMAL.test(text) || text.length > 5) return null
  const n = Number(text)
  return n <= 65535 ? n : null
}

/** "80", "80:90", ":90" and "80:" as iptables accepts them; "-" is also accepted for NAT ranges. */
export function readPortRange(text: string, sep = ':'): PortRange | null {
  const at = text.indexOf(sep)
  if (at < 0) {
    const p = readPort(text)
    return p === null ? null : {from: p, to: p}
  }
  const a = at === 0 ? 0 : readPort(text.slice(0, at))
  const b = at === text.length - 1 ? 65535 : readPort(text.slice(at + 1))
  if (a === null || b === null) return null
  return {from: a, to: b}
}

/** A comma-separated list of ports and ranges (multiport). */
export function readPortList(text: string, negated: boolean): PortMatch | null {
  const ranges: PortRange[] = []
  for (const part of text.split(',')) {
    const r = readPortRange(part)
    if (!r) return null
    ranges.push(r)
  }
  return {ranges, negated}
}

/** "V" or "V/M"; the mask defaults to all ones. */
export function readMarkMask(text: string | undefined): {value: number; mask: number} | null {
  if (text === undefined) return null
  const slash = text.indexOf('/')
  if (slash < 0) {
    const v = readUint(text)
    return v === null ? null : {value: v, mask: 0xffffffff}
  }
  const value = readUint(text.slice(0, slash))
  const mask = readUint(text.slice(slash + 1))
  return value === null || mask === null ? null : {value, mask}
}

const IPV4 = /^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/
const IPV6 = /^[0-9a-fA-F:.]+$/

/** Cheap shape check (not full validation): the evaluator does real CIDR math later. */
export function addressFamily(text: string): 4 | 6 | null {
  if (IPV4.test(text)) return 4
  if (text.includes(':') && text.length <= 45 && IPV6.test(text)) return 6
  return null
}

const PROTOCOL_NUMBERS: Record<string, number> = {
  all: 0, icmp: 1, igmp: 2, ipip: 4, tcp: 6, udp: 17, ipv6: 41, gre: 47, esp: 50, ah: 51,
  'ipv6-icmp': 58, icmpv6: 58, ospf: 89, sctp: 132, udplite: 136, dccp: 33, mh: 135,
}

const COUNTERS = /^\[([0-9]{1,20}):([0-9]{1,20})\]$/

export function readCounters(text: string): Counters | null {
  const m = COUNTERS.exec(text)
  return m ? {packets: Number(m[1]), bytes: Number(m[2])} : null
}

export function readAddr(text: string, negated: boolean): AddrMatch | null {
  const slash = text.indexOf('/')
  const host = slash < 0 ? text : text.slice(0, slash)
  const family = addressFamily(host)
  if (family === null) return null
  if (slash < 0) return {cidr: `${text}/${family === 4 ? 32 : 128}`, family, negated}
  const len = text.slice(slash + 1)
  const bits = Number(len)
  const okLen = /^[0-9]{1,3}$/.test(len) && bits <= (family === 4 ? 32 : 128)
  // Non-contiguous masks are printed dotted (10.0.0.0/255.0.255.0); keep them as written.
  if (!okLen && addressFamily(len) !== family) return null
  return {cidr: text, family, negated}
}

export function readProto(text: string, negated: boolean): ProtoMatch {
  const name = text.toLowerCase()
  const known = Object.hasOwn(PROTOCOL_NUMBERS, name) ? PROTOCOL_NUMBERS[name] : undefined
  const number = known ?? (/^[0-9]{1,3}$/.test(name) ? Number(name) : null)
  return {name, number, negated}
}
