/**
 * nftables sets and maps as lookup structures. A key is one value or a concatenation; each part is
 * normalised the same way for elements and for packet values (addresses to canonical text,
 * protocol names to numbers), so a verdict map of 10,000 Services is one Map lookup. Elements that
 * are intervals (prefixes, ranges, also inside concatenations) are kept apart and tested in order.
 */
import {compileCidr, cidrHas, toIp, type CompiledCidr, type Ip} from '../netfilter/addr.js'
import {canonicalIp} from '../netfilter/packet.js'
import type {NftSet} from '../../parse/nft.js'

/** A runtime value: an integer, or text (canonical address, interface name, symbolic constant). */
export type Scalar = number | string

type Part = {k: 'v'; v: Scalar} | {k: 'cidr'; c: CompiledCidr} | {k: 'range'; lo: Scalar; hi: Scalar}

export interface Member {
  /** The element's value for maps (a verdict, an address, a concatenation); undefined for sets. */
  value: unknown
  /** The element as nft prints it. */
  text: string
  comment: string | null
}

export interface CompiledSet {
  name: string
  exact: Map<string, Member>
  intervals: {parts: Part[]; member: Member}[]
  /** Elements nft printed that this module cannot read: a miss is then not a proof of absence. */
  unreadable: number
}

const PROTOCOLS: Record<string, number> = {tcp: 6, udp: 17, icmp: 1, sctp: 132, icmpv6: 58, 'ipv6-icmp': 58, dccp: 33, udplite: 136, gre: 47, esp: 50, ah: 51}

const IPISH = /^[0-9a-fA-F:.]+$/

/** One part of a key, normalised. */
export function norm(v: Scalar): Scalar {
  if (typeof v === 'number') return v
  const p = PROTOCOLS[v]
  if (p !== undefined) return p
  if (IPISH.test(v) && (v.includes('.') || v.includes(':'))) return canonicalIp(v)
  if (/^0x[0-9a-f]+$/i.test(v)) return Number(v)
  return v
}

export function keyOf(parts: readonly Scalar[]): string {
  if (parts.length === 1) return String(parts[0])
  let s = ''
  for (let i = 0; i < parts.length; i++) s += (i ? '\u0001' : '') + String(parts[i])
  return s
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** One element key part from nft JSON; undefined when unreadable. */
function readPart(raw: unknown): Part | undefined {
  if (typeof raw === 'number' || typeof raw === 'string') return {k: 'v', v: norm(raw)}
  if (!isObj(raw)) return undefined
  if (isObj(raw.prefix)) {
    const addr = raw.prefix.addr
    const len = raw.prefix.len
    const c = typeof addr === 'string' && typeof len === 'number' ? compileCidr(`${addr}/${len}`) : undefined
    return c ? {k: 'cidr', c} : undefined
  }
  if (Array.isArray(raw.range) && raw.range.length === 2) {
    const [lo, hi] = raw.range
    if ((typeof lo === 'number' || typeof lo === 'string') && (typeof hi === 'number' || typeof hi === 'string')) return {k: 'range', lo: norm(lo), hi: norm(hi)}
  }
  if (isObj(raw.elem)) return readPart(raw.elem.val)
  return undefined
}

/** Element key → parts; undefined when any part is unreadable. */
export function readKey(raw: unknown): Part[] | undefined {
  let key = raw
  if (isObj(key) && isObj(key.elem)) key = key.elem.val
  if (isObj(key) && Array.isArray(key.concat)) {
    const parts: Part[] = []
    for (const k of key.concat) {
      const p = readPart(k)
      if (!p) return undefined
      parts.push(p)
    }
    return parts
  }
  const p = readPart(key)
  return p ? [p] : undefined
}

function commentOf(raw: unknown): string | null {
  return isObj(raw) && isObj(raw.elem) && typeof raw.elem.comment === 'string' ? raw.elem.comment : null
}

export function compileElements(name: string, elements: readonly {key: unknown; value: unknown; text: string; comment: string | null}[]): CompiledSet {
  const out: CompiledSet = {name, exact: new Map(), intervals: [], unreadable: 0}
  for (const e of elements) {
    const parts = readKey(e.key)
    const member: Member = {value: e.value, text: e.text, comment: e.comment}
    if (!parts) {
      out.unreadable++
      continue
    }
    if (parts.every((p) => p.k === 'v')) {
      const key = keyOf(parts.map((p) => (p as {v: Scalar}).v))
      if (!out.exact.has(key)) out.exact.set(key, member)
    } else out.intervals.push({parts, member})
  }
  return out
}

export function compileNamedSet(s: NftSet): CompiledSet {
  return compileElements(s.name, s.elements.map((e) => ({key: e.key, value: e.value, text: e.keyText, comment: e.comment})))
}

/** An anonymous set or map written in a rule: `{ 10.0.0.0/8, 192.168.0.1 }`, `{ 0 : 10.1.1.1 . 80 }`. */
export function compileAnonymous(items: readonly unknown[], isMap: boolean): CompiledSet {
  return compileElements('(anonymous)', items.map((raw) => {
    const pair = isMap && Array.isArray(raw) && raw.length === 2
    const key = pair ? raw[0] : raw
    return {key, value: pair ? raw[1] : undefined, text: '', comment: commentOf(key)}
  }))
}

function cmp(a: Scalar, b: Scalar): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'string' && typeof b === 'string') {
    const x = toIp(a)
    const y = toIp(b)
    if (!x || !y || x.family !== y.family) return undefined
    return x.v < y.v ? -1 : x.v > y.v ? 1 : 0
  }
  return undefined
}

function partHas(p: Part, v: Scalar, ip: () => Ip | undefined): boolean {
  if (p.k === 'v') return p.v === v
  if (p.k === 'cidr') {
    const x = typeof v === 'string' ? ip() : undefined
    return x !== undefined && cidrHas(p.c, x)
  }
  const lo = cmp(v, p.lo)
  const hi = cmp(v, p.hi)
  return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0
}

/** The element holding `parts`, if any. */
export function lookup(set: CompiledSet, parts: readonly Scalar[]): Member | undefined {
  const hit = set.exact.get(keyOf(parts))
  if (hit || set.intervals.length === 0) return hit
  const ips = parts.map((v) => {
    let cached: Ip | undefined | null = null
    return () => (cached === null ? (cached = typeof v === 'string' ? toIp(v) : undefined) : cached)
  })
  for (const e of set.intervals) {
    if (e.parts.length !== parts.length) continue
    let all = true
    for (let i = 0; i < parts.length && all; i++) all = partHas(e.parts[i] as Part, parts[i] as Scalar, ips[i] as () => Ip | undefined)
    if (all) return e.member
  }
  return undefined
}

/** Whether `v` is in a prefix or range written as a match's right side. */
export function inInterval(raw: unknown, v: Scalar): boolean | undefined {
  const p = readPart(raw)
  if (!p || p.k === 'v') return undefined
  return partHas(p, v, () => (typeof v === 'string' ? toIp(v) : undefined))
}
