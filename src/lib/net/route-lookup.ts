/**
 * The routing decision the Linux kernel makes for one packet, computed from parsed `ip rule` and
 * `ip route show table all`: rules in priority order (fib_rules_lookup), then longest-prefix match
 * and lowest metric within a table (fib_table_lookup). A test compares it with `ip route get` in a
 * real namespace, so the semantics below are the kernel's, quirks included.
 */
import type {Nexthop, Route} from '../parse/iproute2/routes.js'
import {describeRoute} from '../parse/iproute2/routes.js'
import type {Rule} from '../parse/iproute2/rules.js'
import {describeRule} from '../parse/iproute2/rules.js'
import {parseCidr, parseIp, type Cidr, type Family, type IpAddr} from './cidr.js'

export interface RoutingTables {
  /** Empty or absent: the kernel's default rules (0 local, 32766 main, 32767 default for IPv4). */
  rules?: readonly Rule[]
  routes: readonly Route[]
}

export interface RouteQuery {
  dst: string
  src?: string
  /** Incoming interface for forwarded traffic; absent means locally generated (the kernel uses lo). */
  iif?: string
  /** Bound output interface (SO_BINDTODEVICE / `ip route get … oif`). */
  oif?: string
  fwmark?: number
  family?: Family
  uid?: number
  ipproto?: string
  sport?: number
  dport?: number
}

export type LookupKind = 'unicast' | 'local' | 'broadcast' | 'multicast' | 'anycast' | 'blackhole' | 'unreachable' | 'prohibit' | 'no-route' | 'invalid'

export interface LookupResult {
  kind: LookupKind
  /** The route that decided, absent when a rule decided (blackhole/unreachable/prohibit action) or nothing matched. */
  route?: Route
  rule?: Rule
  table?: string
  gateway?: string
  dev?: string
  prefsrc?: string
  /** All nexthops of a multipath route; the kernel hashes a flow onto one of them. */
  nexthops?: Nexthop[]
  /** Which rules and routes were consulted, in order, as `ip rule`/`ip route` lines. */
  trail: string[]
}

const MAX_STEPS = 10_000

// Parsed prefixes per route/rule object: a trace runs many lookups over the same tables, and
// re-parsing thousands of route prefixes per lookup would dominate.
const cidrCache = new WeakMap<object, Map<string, Cidr | undefined>>()

function cachedCidr(owner: object, text: string): Cidr | undefined {
  let m = cidrCache.get(owner)
  if (!m) {
    m = new Map()
    cidrCache.set(owner, m)
  }
  if (!m.has(text)) m.set(text, parseCidr(text))
  return m.get(text)
}

export function defaultRules(family: Family): Rule[] {
  const mk = (priority: number, table: string, index: number): Rule => ({family, priority, not: false, action: 'lookup', table, l3mdev: false, index})
  // IPv6 has no "default" table rule.
  return family === 4 ? [mk(0, 'local', 0), mk(32766, 'main', 1), mk(32767, 'default', 2)] : [mk(0, 'local', 0), mk(32766, 'main', 1)]
}

export function lookupRoute(tables: RoutingTables, query: RouteQuery): LookupResult {
  const trail: string[] = []
  const dst = parseIp(query.dst)
  if (!dst || (query.family !== undefined && query.family !== dst.family)) return {kind: 'invalid', trail: [`invalid destination "${query.dst}"`]}
  const family = dst.family
  let src: IpAddr | undefined
  if (query.src !== undefined) {
    src = parseIp(query.src)
    if (!src || src.family !== family) return {kind: 'invalid', trail: [`invalid source "${query.src}"`]}
  }
  const given = (tables.rules ?? []).filter((r) => r.family === family)
  const rules = (given.length > 0 ? [...given] : defaultRules(family)).map((r, i) => ({r, i})).sort((a, b) => a.r.priority - b.r.priority || a.i - b.i).map(({r}) => r)
  if (given.length === 0) trail.push('no rules in evidence: using the kernel default rules')
  const routes = tables.routes.filter((r) => r.family === family)

  let steps = 0
  for (let i = 0; i < rules.length && steps < MAX_STEPS; i++, steps++) {
    const rule = rules[i] as Rule
    // "not" inverts the whole selector, as FIB_RULE_INVERT does.
    if (ruleSelects(rule, query, dst, src) === rule.not) continue
    const line = describeRule(rule)
    switch (rule.action) {
      case 'goto': {
        // The kernel resolves goto to the first rule with exactly that priority; if none exists
        // the rule is "unresolved" and behaves like nop.
        const target = rules.findIndex((r) => r.priority === rule.goto)
        if (target <= i) {
          trail.push(`${line}: goto target missing, continuing`)
          continue
        }
        trail.push(`${line}: jumping`)
        i = target - 1
        continue
      }
      case 'nop':
        trail.push(`${line}: nop`)
        continue
      case 'blackhole':
      case 'unreachable':
      case 'prohibit':
        trail.push(`${line}: ${rule.action}`)
        return {kind: rule.action, rule, trail}
      case 'nat':
        trail.push(`${line}: nat rules are obsolete, skipped`)
        continue
      case 'lookup':
        break
    }
    if (rule.l3mdev || rule.table === undefined) {
      trail.push(`${line}: l3mdev lookups need VRF state not in evidence, skipped`)
      continue
    }
    const hit = lookupTable(routes, rule.table, dst, query.oif)
    if (!hit) {
      trail.push(`${line}: no matching route in table ${rule.table}`)
      continue
    }
    const routeLine = describeRoute(hit)
    if (hit.type === 'throw') {
      trail.push(`${line}: ${routeLine}: throw, continuing with the next rule`)
      continue
    }
    const kind = routeKind(hit)
    // Suppression applies only to successful lookups (fib_rules_lookup checks it after action() == 0).
    if (!isError(kind) && rule.suppressPrefixLength !== undefined && hit.prefixLength <= rule.suppressPrefixLength) {
      trail.push(`${line}: ${routeLine}: suppressed (prefix length ${hit.prefixLength} <= ${rule.suppressPrefixLength})`)
      continue
    }
    trail.push(`${line}: ${routeLine}`)
    const result: LookupResult = {kind, route: hit, rule, table: rule.table, trail}
    if (hit.gateway !== undefined) result.gateway = hit.gateway
    if (hit.dev !== undefined) result.dev = hit.dev
    if (hit.prefsrc !== undefined) result.prefsrc = hit.prefsrc
    if (hit.nexthops && hit.nexthops.length > 0) result.nexthops = hit.nexthops
    return result
  }
  trail.push('no rule produced a route: network is unreachable')
  return {kind: 'no-route', trail}
}

function isError(kind: LookupKind): boolean {
  return kind === 'blackhole' || kind === 'unreachable' || kind === 'prohibit'
}

function routeKind(r: Route): LookupKind {
  switch (r.type) {
    case 'unicast':
    case 'unspec':
      return 'unicast'
    case 'local':
    case 'broadcast':
    case 'multicast':
    case 'anycast':
    case 'blackhole':
    case 'unreachable':
    case 'prohibit':
      return r.type
    default:
      // nat and xresolve are rejected by the kernel with EINVAL, exactly like blackhole.
      return 'blackhole'
  }
}

function ruleSelects(rule: Rule, q: RouteQuery, dst: IpAddr, src: IpAddr | undefined): boolean {
  if (rule.src !== undefined && !prefixMatches(cachedCidr(rule, rule.src), src, dst.family)) return false
  if (rule.dst !== undefined && !prefixMatches(cachedCidr(rule, rule.dst), dst, dst.family)) return false
  // Locally generated packets are looked up with iif = loopback, so "iif lo" selects them.
  if (rule.iif !== undefined && (rule.iifDetached || rule.iif !== (q.iif ?? 'lo'))) return false
  if (rule.oif !== undefined && (rule.oifDetached || rule.oif !== q.oif)) return false
  if (rule.fwmark !== undefined && ((((q.fwmark ?? 0) ^ rule.fwmark) & (rule.fwmask ?? 0xffffffff)) >>> 0) !== 0) return false
  if (rule.tos !== undefined && rule.tos !== '0' && rule.tos !== 'default') return false
  if (rule.uidRange) {
    const uid = q.uid ?? 0
    if (uid < rule.uidRange.start || uid > rule.uidRange.end) return false
  }
  if (rule.ipproto !== undefined && protoNumber(rule.ipproto) !== protoNumber(q.ipproto ?? '0')) return false
  if (rule.sport && !inRange(rule.sport, q.sport ?? 0)) return false
  if (rule.dport && !inRange(rule.dport, q.dport ?? 0)) return false
  return true
}

function prefixMatches(c: Cidr | undefined, ip: IpAddr | undefined, family: Family): boolean {
  if (!c || c.family !== family) return false
  if (c.prefixLength === 0) return true
  // No source: IPv4 compares 0.0.0.0 against the selector; IPv6 rules with a source never match.
  const value = ip?.value ?? (family === 4 ? 0n : undefined)
  return value !== undefined && value >= c.first && value <= c.last
}

function inRange(r: {start: number; end: number}, n: number): boolean {
  return n >= r.start && n <= r.end
}

const PROTOS: Record<string, number> = {icmp: 1, tcp: 6, udp: 17, ipv6_icmp: 58, 'ipv6-icmp': 58, icmpv6: 58, sctp: 132}

function protoNumber(p: string): number {
  const s = p.toLowerCase().replace(/^ipproto-/, '')
  return PROTOS[s] ?? (/^\d+$/.test(s) ? Number(s) : -1)
}

/**
 * Longest prefix first, then lowest metric, then the order iproute2 printed them. Error-type routes
 * answer before the oif check, as in fib_table_lookup; routes whose nexthops are all dead are skipped
 * and the search backtracks to shorter prefixes.
 */
export function lookupTable(routes: readonly Route[], table: string, dst: IpAddr, oif?: string): Route | undefined {
  const candidates = routes
    .filter((r) => r.table === table && r.family === dst.family)
    .map((r) => ({r, c: cachedCidr(r, r.dst)}))
    .filter(({c}) => c !== undefined && dst.value >= c.first && dst.value <= c.last)
    .sort((a, b) => b.r.prefixLength - a.r.prefixLength || a.r.metric - b.r.metric || a.r.index - b.r.index)
  for (const {r} of candidates) {
    const kind = routeKind(r)
    if (r.type === 'throw' || isError(kind)) return r
    if (r.flags.includes('dead')) continue
    const hops = r.nexthops && r.nexthops.length > 0 ? r.nexthops : [{dev: r.dev, flags: r.flags}]
    const alive = hops.filter((h) => !h.flags.includes('dead'))
    if (alive.length === 0) continue
    if (oif !== undefined && !alive.some((h) => h.dev === oif)) continue
    return r
  }
  return undefined
}
