/**
 * `-m set --match-set NAME FLAGS` against a set read from `ipset save`, as xt_set does it: each
 * direction flag picks the packet's source or destination for one dimension of the set, in order
 * (KUBE-CLUSTER-IP hash:ip,port with `dst,dst` is "destination address and destination port";
 * KUBE-LOOP-BACK hash:ip,port,ip with `dst,dst,src` adds the source address). A port dimension holds
 * a protocol too (tcp:80 is not udp:80), except in bitmap:port, which stores port numbers only.
 *
 * kube-proxy's sets hold thousands of members and its KUBE-SERVICES rules test them for every
 * packet, so sets without CIDR dimensions are indexed by their exact member key once per set.
 */
import type {Ipset, IpsetPart} from '../../parse/ipset.js'
import {cidrHas, compileCidr, toIp, type CompiledCidr, type Ip} from './addr.js'
import type {Packet} from './packet.js'

/** 1 / 0 for a member / no member; a string says why it cannot be decided. */
export type SetAnswer = 0 | 1 | string

interface Compiled {
  /** Exact member keys, for sets whose every dimension is an address or a port. */
  exact?: Set<string>
  /** Otherwise each member with its CIDRs compiled. */
  members?: ({kind: 'net'; cidr: CompiledCidr | undefined} | {kind: 'ip'; ip: Ip | undefined} | {kind: 'port'; protocol: string; port: number})[][]
}

const compiled = new WeakMap<Ipset, Compiled>()

function ipKey(ip: Ip): string {
  return `${ip.family}:${ip.v.toString(16)}`
}

function partKey(p: IpsetPart, bitmap: boolean): string | undefined {
  if (p.kind === 'port') return bitmap ? `p:${p.port}` : `p:${p.protocol}:${p.port}`
  const ip = toIp(p.text)
  return ip ? ipKey(ip) : undefined
}

function compile(set: Ipset): Compiled {
  let c = compiled.get(set)
  if (c) return c
  const bitmap = set.type.startsWith('bitmap:')
  if (set.members.every((m) => m.parts.every((p) => p.kind !== 'net'))) {
    const exact = new Set<string>()
    for (const m of set.members) {
      const keys = m.parts.map((p) => partKey(p, bitmap))
      if (keys.every((k) => k !== undefined)) exact.add(keys.join('|'))
    }
    c = {exact}
  } else {
    c = {members: set.members.map((m) => m.parts.map((p) => (p.kind === 'net' ? {kind: 'net' as const, cidr: compileCidr(p.text)} : p.kind === 'ip' ? {kind: 'ip' as const, ip: toIp(p.text)} : p)))}
  }
  compiled.set(set, c)
  return c
}

interface PacketSide {
  ip: Ip | undefined
  port: number | undefined
}

function side(pkt: Packet, src: Ip | undefined, dst: Ip | undefined, flag: 'src' | 'dst'): PacketSide {
  return flag === 'src' ? {ip: src, port: pkt.sport} : {ip: dst, port: pkt.dport}
}

/** Whether the packet, seen through `flags`, is a member of `set`. */
export function ipsetHas(set: Ipset, flags: readonly ('src' | 'dst')[], pkt: Packet, src: Ip | undefined, dst: Ip | undefined): SetAnswer {
  const bitmap = set.type.startsWith('bitmap:')
  const dims = bitmap ? (['port'] as const) : set.dims
  if (flags.length !== dims.length) return `ipset "${set.name}" (${set.type}) is matched on ${flags.join(',')}: ${dims.length} dimension(s) expected`
  if (set.members.length === 0) return 0
  const hasPort = dims.includes('port')
  // Ports exist for TCP, UDP and SCTP only: an ICMP packet is never a member of a port set.
  if (hasPort && pkt.protocol === 'icmp') return 0
  const sides = flags.map((f) => side(pkt, src, dst, f))
  for (let i = 0; i < dims.length; i++) {
    const s = sides[i] as PacketSide
    if (dims[i] === 'port' && s.port === undefined) return `the packet's ${flags[i] === 'src' ? 'source' : 'destination'} port is not known (ipset "${set.name}")`
    if (dims[i] !== 'port' && s.ip === undefined) return 'packet address is not readable'
  }
  const c = compile(set)
  if (c.exact) {
    const key = dims.map((d, i) => {
      const s = sides[i] as PacketSide
      return d === 'port' ? (bitmap ? `p:${s.port ?? ''}` : `p:${pkt.protocol}:${s.port ?? ''}`) : ipKey(s.ip as Ip)
    }).join('|')
    return c.exact.has(key) ? 1 : 0
  }
  for (const member of c.members ?? []) {
    let hit = true
    for (let i = 0; i < member.length && hit; i++) {
      const part = member[i]
      const s = sides[i] as PacketSide
      if (!part) hit = false
      else if (part.kind === 'port') hit = s.port === part.port && pkt.protocol === part.protocol
      else if (part.kind === 'ip') hit = part.ip !== undefined && s.ip !== undefined && part.ip.family === s.ip.family && part.ip.v === s.ip.v
      else hit = part.cidr !== undefined && s.ip !== undefined && cidrHas(part.cidr, s.ip)
    }
    if (hit) return 1
  }
  return 0
}
