/**
 * Address tests for the evaluator. A 10,000-Service KUBE-SERVICES chain is 10,000 `-d IP/32` checks
 * per packet, so CIDRs are compiled once per rule (cached on the parsed AddrMatch) into integer
 * network/mask pairs: IPv4 as 32-bit numbers, IPv6 as bigints.
 */
import {parseIp} from '../../net/cidr.js'
import type {AddrMatch} from '../../parse/iptables-save.js'

export type Ip = {family: 4; v: number} | {family: 6; v: bigint}

export type CompiledCidr = {family: 4; net: number; mask: number} | {family: 6; net: bigint; mask: bigint}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

function v4(text: string): number | undefined {
  const m = V4.exec(text)
  if (!m) return undefined
  let n = 0
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i])
    if (octet > 255) return undefined
    n = n * 256 + octet
  }
  return n
}

export function toIp(text: string): Ip | undefined {
  const n = v4(text)
  if (n !== undefined) return {family: 4, v: n}
  const ip = parseIp(text)
  return ip?.family === 6 ? {family: 6, v: ip.value} : undefined
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
}

/** "10.0.0.0/8", "10.0.0.0/255.0.0.0" (iptables keeps non-prefix masks as dotted quads), "fd00::/64". */
export function compileCidr(text: string): CompiledCidr | undefined {
  const slash = text.indexOf('/')
  const addrText = slash < 0 ? text : text.slice(0, slash)
  const maskText = slash < 0 ? undefined : text.slice(slash + 1)
  const addr = toIp(addrText)
  if (!addr) return undefined
  if (addr.family === 4) {
    let mask = 0xffffffff
    if (maskText !== undefined) {
      const dotted = v4(maskText)
      if (dotted !== undefined) mask = dotted
      else if (/^\d{1,2}$/.test(maskText) && Number(maskText) <= 32) mask = v4Mask(Number(maskText))
      else return undefined
    }
    return {family: 4, net: (addr.v & mask) >>> 0, mask}
  }
  let mask = (1n << 128n) - 1n
  if (maskText !== undefined) {
    if (!/^\d{1,3}$/.test(maskText) || Number(maskText) > 128) return undefined
    const prefix = BigInt(Number(maskText))
    mask = prefix === 0n ? 0n : (((1n << prefix) - 1n) << (128n - prefix))
  }
  return {family: 6, net: addr.v & mask, mask}
}

const compiled = new WeakMap<AddrMatch, CompiledCidr | null>()

/** Whether ip is inside the rule's -s/-d (ignoring negation); undefined when the CIDR is unreadable. */
export function addrMatches(m: AddrMatch, ip: Ip): boolean | undefined {
  let c = compiled.get(m)
  if (c === undefined) {
    c = compileCidr(m.cidr) ?? null
    compiled.set(m, c)
  }
  if (c === null) return undefined
  if (c.family !== ip.family) return false
  return c.family === 4 ? ((ip.v as number) & c.mask) >>> 0 === c.net : ((ip.v as bigint) & c.mask) === c.net
}

export function cidrHas(c: CompiledCidr, ip: Ip): boolean {
  if (c.family !== ip.family) return false
  return c.family === 4 ? ((ip.v as number) & c.mask) >>> 0 === c.net : ((ip.v as bigint) & c.mask) === c.net
}

const LOOPBACK4 = compileCidr('127.0.0.0/8') as CompiledCidr
const ZERONET4 = compileCidr('0.0.0.0/8') as CompiledCidr
const MULTICAST4 = compileCidr('224.0.0.0/4') as CompiledCidr
const MULTICAST6 = compileCidr('ff00::/8') as CompiledCidr

/**
 * The kernel's address type for `-m addrtype`: IPv4 follows inet_addr_type (0.0.0.0/8 and
 * 255.255.255.255 are BROADCAST, 224/4 MULTICAST, then the local table decides LOCAL or BROADCAST,
 * anything else is UNICAST). The local table is what `ip addr` implies: each address is LOCAL (and
 * all of 127/8, which `lo` owns), each v4 broadcast address is BROADCAST.
 */
export function addressType(ip: Ip, text: string, local: ReadonlySet<string>, broadcast: ReadonlySet<string>): string {
  if (ip.family === 4) {
    if (ip.v === 0xffffffff || cidrHas(ZERONET4, ip)) return 'BROADCAST'
    if (cidrHas(MULTICAST4, ip)) return 'MULTICAST'
    if (local.has(text) || cidrHas(LOOPBACK4, ip)) return 'LOCAL'
    if (broadcast.has(text)) return 'BROADCAST'
    return 'UNICAST'
  }
  if (cidrHas(MULTICAST6, ip)) return 'MULTICAST'
  if (ip.v === 1n || local.has(text)) return 'LOCAL'
  return 'UNICAST'
}
