/**
 * IP and CIDR math on ip-address. Everything here returns undefined for bad input instead of
 * throwing, because the inputs come straight from parsed evidence.
 */
import {Address4, Address6} from 'ip-address'

export type Family = 4 | 6

export interface IpAddr {
  family: Family
  /** The address as an unsigned integer (32 or 128 bits). */
  value: bigint
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6 (IPv4-mapped as ::ffff:a.b.c.d). */
  text: string
}

export interface Cidr {
  family: Family
  /** Normalised network, host bits cleared: "10.244.1.0/24". */
  text: string
  /** The address as written, canonicalised but with host bits kept ("10.244.1.5" for "10.244.1.5/24"). */
  address: string
  prefixLength: number
  first: bigint
  last: bigint
}

const V4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

export function bits(family: Family): number {
  return family === 4 ? 32 : 128
}

export function parseIp(s: string): IpAddr | undefined {
  if (typeof s !== 'string') return undefined
  const t = s.trim()
  if (V4_RE.test(t)) {
    const value = new Address4(t).bigInt()
    return {family: 4, value, text: formatIp(4, value)}
  }
  // Zones (fe80::1%eth0) and embedded prefixes are not addresses; iproute2 never prints them here.
  if (!t.includes(':') || t.includes('%') || t.includes('/') || !Address6.isValid(t)) return undefined
  try {
    const value = new Address6(t).bigInt()
    return {family: 6, value, text: formatIp(6, value)}
  } catch {
    return undefined
  }
}

export function formatIp(family: Family, value: bigint): string {
  if (family === 4) return Address4.fromBigInt(value).correctForm()
  // ::ffff:a.b.c.d is how the kernel and iproute2 print IPv4-mapped addresses; keep that form.
  if (value >> 32n === 0xffffn) return `::ffff:${Address4.fromBigInt(value & 0xffffffffn).correctForm()}`
  return Address6.fromBigInt(value).correctForm()
}

/** The IPv4 address inside an IPv4-mapped IPv6 address, or the address itself. */
export function unmapIp(ip: IpAddr): IpAddr {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) {
    const value = ip.value & 0xffffffffn
    return {family: 4, value, text: formatIp(4, value)}
  }
  return ip
}

/** "10.0.0.5/24" → 10.0.0.0/24 (address kept); a bare address is a host prefix (/32 or /128). */
export function parseCidr(s: string): Cidr | undefined {
  if (typeof s !== 'string') return undefined
  const t = s.trim()
  const slash = t.indexOf('/')
  const addrText = slash < 0 ? t : t.slice(0, slash)
  const ip = parseIp(addrText)
  if (!ip) return undefined
  let prefixLength = bits(ip.family)
  if (slash >= 0) {
    const p = t.slice(slash + 1)
    if (!/^\d{1,3}$/.test(p)) return undefined
    prefixLength = Number(p)
    if (prefixLength > bits(ip.family)) return undefined
  }
  return makeCidr(ip, prefixLength)
}

export function makeCidr(ip: IpAddr, prefixLength: number): Cidr {
  const width = BigInt(bits(ip.family))
  const hostBits = width - BigInt(prefixLength)
  const hostMask = (1n << hostBits) - 1n
  const first = ip.value & ~hostMask
  const last = first | hostMask
  return {
    family: ip.family,
    text: `${formatIp(ip.family, first)}/${prefixLength}`,
    address: ip.text,
    prefixLength,
    first,
    last,
  }
}

/** Normalised CIDR text, or undefined: the form parsers store ("10.244.1.0/24"). */
export function normaliseCidr(s: string): string | undefined {
  return parseCidr(s)?.text
}

/** The whole address space of a family, what iproute2 prints as "default". */
export function defaultCidr(family: Family): Cidr {
  return makeCidr({family, value: 0n, text: family === 4 ? '0.0.0.0' : '::'}, 0)
}

export function ipFamily(s: string): Family | undefined {
  return parseIp(s)?.family ?? parseCidr(s)?.family
}

function asCidr(c: Cidr | string): Cidr | undefined {
  return typeof c === 'string' ? parseCidr(c) : c
}

function asIp(i: IpAddr | string): IpAddr | undefined {
  return typeof i === 'string' ? parseIp(i) : i
}

export function cidrContains(cidr: Cidr | string, ip: IpAddr | string): boolean {
  const c = asCidr(cidr)
  const a = asIp(ip)
  if (!c || !a || c.family !== a.family) return false
  return a.value >= c.first && a.value <= c.last
}

/** True when one contains the other (prefixes never partially overlap). */
export function cidrOverlaps(a: Cidr | string, b: Cidr | string): boolean {
  const x = asCidr(a)
  const y = asCidr(b)
  if (!x || !y || x.family !== y.family) return false
  return x.first <= y.last && y.first <= x.last
}

export function cidrContainsCidr(outer: Cidr | string, inner: Cidr | string): boolean {
  const o = asCidr(outer)
  const i = asCidr(inner)
  if (!o || !i || o.family !== i.family) return false
  return o.first <= i.first && i.last <= o.last
}

/** Number of addresses in the prefix. */
export function cidrSize(c: Cidr): bigint {
  return c.last - c.first + 1n
}

/** An address with a port as people write it: "10.0.0.1:80", "[fd00::1]:80"; without a port, the address alone. */
export function hostPort(ip: string, port: number | string | null | undefined): string {
  if (port === null || port === undefined || port === '') return ip
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}
