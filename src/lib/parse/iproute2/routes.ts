/** `ip [-6] -j route show table all`: every route of every table, normalised for lookups. */
import {defaultCidr, parseCidr, parseIp, type Family} from '../../net/cidr.js'
import {problem, type ParseProblem, type ParseResult} from '../result.js'
import {entryFields, normaliseTable, readJsonArray, safeStringify, type Fields} from './json.js'
import {setIf} from './links.js'

export const ROUTE_TYPES = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve', 'unspec'] as const
export type RouteType = (typeof ROUTE_TYPES)[number]

export interface Nexthop {
  gateway?: string
  dev?: string
  /** iproute2 prints weight (1..256); absent means 1. */
  weight: number
  flags: string[]
}

export interface Route {
  family: Family
  /** "main" | "local" | "default" | a table id as decimal string | an rt_tables name. */
  table: string
  type: RouteType
  /** Normalised CIDR; "default" becomes 0.0.0.0/0 or ::/0, a bare address a /32 or /128. */
  dst: string
  prefixLength: number
  gateway?: string
  dev?: string
  /** onlink, linkdown, dead, pervasive, offload… */
  flags: string[]
  prefsrc?: string
  /** 0 when iproute2 omits it (IPv4 routes with metric 0). */
  metric: number
  protocol?: string
  scope?: string
  nexthops?: Nexthop[]
  nhid?: number
  /** IPv6 router preference (low/medium/high). */
  pref?: string
  /** Position in the input array, so evidence can point at the exact entry. */
  index: number
}

/**
 * `family` is the family the command was run for; it decides what "default" means when the
 * entry itself gives no hint. Without -4/-6, `ip route show table all` prints both families, so
 * each route keeps the family of its own prefix.
 */
export function parseRoutes(text: string, family: Family): ParseResult<Route[]> {
  const problems: ParseProblem[] = []
  const value: Route[] = []
  readJsonArray(text, 'ip route', problems).forEach((entry, i) => {
    const f = entryFields(entry, 'ip route', i, problems)
    if (!f) return
    const route = readRoute(f, i, family, problems)
    if (route) value.push(route)
  })
  return {value, problems}
}

function readRoute(f: Fields, index: number, family: Family, problems: ParseProblem[]): Route | undefined {
  const where = `ip route[${index}]`
  const dstText = f.str('dst')
  const typeText = f.str('type') ?? 'unicast'
  if (!(ROUTE_TYPES as readonly string[]).includes(typeText)) {
    problems.push(problem(0, `${where}: unknown route type "${typeText}"`, safeStringify(f.obj)))
    return undefined
  }
  const gateway = readGateway(f)
  const prefsrc = f.str('prefsrc')
  let dst
  if (dstText === 'default') {
    const hint = parseIp(gateway ?? '')?.family ?? parseIp(prefsrc ?? '')?.family ?? family
    dst = defaultCidr(hint)
  } else if (dstText !== undefined) {
    dst = parseCidr(dstText)
  }
  if (!dst) {
    problems.push(problem(0, `${where}: missing or unreadable dst "${dstText ?? ''}"`, safeStringify(f.obj)))
    return undefined
  }
  const route: Route = {
    family: dst.family,
    table: normaliseTable(f.strOrNum('table')),
    type: typeText as RouteType,
    dst: dst.text,
    prefixLength: dst.prefixLength,
    flags: f.strArray('flags') ?? [],
    metric: f.num('metric') ?? 0,
    index,
  }
  setIf(route, 'gateway', gateway === undefined ? undefined : (parseIp(gateway)?.text ?? gateway))
  setIf(route, 'dev', f.str('dev'))
  setIf(route, 'prefsrc', prefsrc)
  setIf(route, 'protocol', f.strOrNum('protocol'))
  setIf(route, 'scope', f.strOrNum('scope'))
  setIf(route, 'nhid', f.num('nhid'))
  setIf(route, 'pref', f.str('pref'))
  const hops = f.array('nexthops')
  if (hops) {
    route.nexthops = []
    hops.forEach((h, j) => {
      const hf = entryFields(h, `${where}.nexthops`, j, problems)
      if (!hf) return
      const hop: Nexthop = {weight: hf.num('weight') ?? 1, flags: hf.strArray('flags') ?? []}
      const gw = readGateway(hf)
      setIf(hop, 'gateway', gw === undefined ? undefined : (parseIp(gw)?.text ?? gw))
      setIf(hop, 'dev', hf.str('dev'))
      route.nexthops?.push(hop)
    })
  }
  return route
}

/** "gateway", or "via": {family, host} for IPv4 routes with an IPv6 next hop (RFC 5549). */
function readGateway(f: Fields): string | undefined {
  const gw = f.str('gateway')
  if (gw !== undefined) return gw
  return f.record('via')?.str('host')
}

/**
 * The route as `ip route` prints it (multipath joined onto one line), for evidence trails; a live
 * test checks it against the real text output.
 */
export function describeRoute(r: Route): string {
  const parts: string[] = []
  if (r.type !== 'unicast') parts.push(r.type)
  // iproute2 prints host routes without the /32 or /128.
  const host = r.prefixLength === (r.family === 4 ? 32 : 128)
  parts.push(r.prefixLength === 0 ? 'default' : host ? r.dst.slice(0, r.dst.lastIndexOf('/')) : r.dst)
  if (r.nhid !== undefined) parts.push(`nhid ${r.nhid}`)
  if (r.gateway) parts.push(`via ${r.gateway}`)
  if (r.dev) parts.push(`dev ${r.dev}`)
  if (r.table !== 'main') parts.push(`table ${r.table}`)
  if (r.protocol) parts.push(`proto ${r.protocol}`)
  if (r.scope) parts.push(`scope ${r.scope}`)
  if (r.prefsrc) parts.push(`src ${r.prefsrc}`)
  // The kernel always reports an IPv6 route's metric; for IPv4 only a non-zero one.
  if (r.metric || r.family === 6) parts.push(`metric ${r.metric}`)
  parts.push(...r.flags)
  if (r.pref) parts.push('pref', r.pref)
  for (const h of r.nexthops ?? []) {
    parts.push('nexthop', ...(h.gateway ? ['via', h.gateway] : []), ...(h.dev ? ['dev', h.dev] : []), 'weight', String(h.weight), ...h.flags)
  }
  return parts.join(' ')
}
