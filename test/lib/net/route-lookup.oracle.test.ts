/**
 * The kernel is the oracle: build a namespace with many tables, routes and rules, parse its own
 * `ip -j route show table all` / `ip -j rule show` with our parsers, and for a few hundred seeded
 * random queries compare lookupRoute with `ip -j route get`. Root only.
 */
import {breathe} from '../../helpers/breathe.js'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {buildRoutingLab, type FlannelNodeLab} from '../../fixtures/iproute2/build.js'
import {describeNetns, TestNetns} from '../../helpers/netns.js'
import {formatIp, parseCidr, type Family} from '../../../src/lib/net/cidr.js'
import {lookupRoute, type LookupResult, type RouteQuery, type RoutingTables} from '../../../src/lib/net/route-lookup.js'
import {parseRoutes} from '../../../src/lib/parse/iproute2/routes.js'
import {parseRules} from '../../../src/lib/parse/iproute2/rules.js'
import {prng} from '../../../src/lib/apiserver/generate.js'

const SEED = Number(process.env.ORACLE_SEED ?? 20261121)

// mulberry32 (seeded, so a failing query is reproducible from the seed): the generator's own.
const rng = prng

interface KernelAnswer {
  ok: boolean
  errno?: string
  type?: string
  table?: string
  gateway?: string
  dev?: string
}

const ERRNO: Record<string, string> = {
  'Invalid argument': 'EINVAL',
  'No route to host': 'EHOSTUNREACH',
  'Permission denied': 'EACCES',
  'Network is unreachable': 'ENETUNREACH',
}

function kernelRouteGet(ns: TestNetns, family: Family, q: RouteQuery): KernelAnswer {
  const argv = ['ip', `-${family}`, '-j', 'route', 'get', q.dst]
  if (q.src) argv.push('from', q.src)
  if (q.iif) argv.push('iif', q.iif)
  if (q.fwmark !== undefined) argv.push('mark', `0x${q.fwmark.toString(16)}`)
  const r = ns.tryRun(argv)
  if (r.status !== 0) {
    const msg = /RTNETLINK answers: (.*)/.exec(r.stderr)?.[1]?.trim() ?? r.stderr.trim()
    return {ok: false, errno: ERRNO[msg] ?? msg}
  }
  const [entry] = JSON.parse(r.stdout) as Record<string, string>[]
  return {ok: true, type: entry?.type ?? 'unicast', table: entry?.table ?? 'main', gateway: entry?.gateway, dev: entry?.dev}
}

/** What `ip route get` would say, given our decision. */
function expected(res: LookupResult): KernelAnswer {
  switch (res.kind) {
    case 'blackhole':
      return {ok: false, errno: 'EINVAL'}
    case 'prohibit':
      return {ok: false, errno: 'EACCES'}
    case 'unreachable':
      // A route of type unreachable is EHOSTUNREACH; the rule action is ENETUNREACH.
      return {ok: false, errno: res.route ? 'EHOSTUNREACH' : 'ENETUNREACH'}
    case 'no-route':
      return {ok: false, errno: 'ENETUNREACH'}
    default:
      return {ok: true, type: res.kind, table: res.table, gateway: res.gateway, dev: res.dev}
  }
}

function agrees(k: KernelAnswer, res: LookupResult, q: RouteQuery): boolean {
  const e = expected(res)
  if (!k.ok || !e.ok) return k.ok === e.ok && k.errno === e.errno
  if (k.type !== e.type || k.table !== e.table) return false
  // Delivered locally, the kernel reports dev lo; lookupRoute reports the route's device (where
  // the address lives), which is what checks need. Received broadcasts are delivered locally too.
  if (res.kind === 'local' || res.kind === 'anycast' || (res.kind === 'broadcast' && q.iif)) return k.dev === 'lo'
  if (res.nexthops) return res.nexthops.some((h) => h.gateway === k.gateway && h.dev === k.dev)
  return k.gateway === e.gateway && k.dev === e.dev
}

function interestingPoints(prefixes: string[], family: Family, rand: () => number): string[] {
  const out: string[] = []
  const max = (1n << (family === 4 ? 32n : 128n)) - 1n
  for (const p of prefixes) {
    const c = parseCidr(p)
    if (!c || c.family !== family || c.prefixLength === 0) continue
    const span = c.last - c.first
    const mid = c.first + (span * BigInt(Math.floor(rand() * 1000))) / 1000n
    for (const v of [c.first - 1n, c.first, mid, c.last, c.last + 1n]) if (v >= 0n && v <= max) out.push(formatIp(family, v))
  }
  return out
}

function martian4(ip: string): boolean {
  const first = Number(ip.split('.')[0])
  return first === 0 || first === 127 || first >= 224
}

describeNetns('lookupRoute agrees with the kernel (ip route get)', () => {
  let lab: FlannelNodeLab | undefined
  let tables4: RoutingTables
  let tables6: RoutingTables
  beforeAll(() => {
    lab = buildRoutingLab(TestNetns.create, 'or')
    const node = lab.node
    const routes4 = parseRoutes(node.run(['ip', '-4', '-j', 'route', 'show', 'table', 'all']), 4)
    const rules4 = parseRules(node.run(['ip', '-4', '-j', 'rule', 'show']), 4)
    const routes6 = parseRoutes(node.run(['ip', '-6', '-j', 'route', 'show', 'table', 'all']), 6)
    const rules6 = parseRules(node.run(['ip', '-6', '-j', 'rule', 'show']), 6)
    for (const r of [routes4, rules4, routes6, rules6]) expect(r.problems).toEqual([])
    tables4 = {routes: routes4.value, rules: rules4.value}
    tables6 = {routes: routes6.value, rules: rules6.value}
  })
  afterAll(() => lab?.destroy())

  async function compare(family: Family, queries: RouteQuery[]): Promise<{total: number; agreed: number; mismatches: string[]; kinds: string}> {
    const ns = lab?.node as TestNetns
    const mismatches: string[] = []
    const kinds = new Map<string, number>()
    for (const q of queries) {
      const res = lookupRoute(family === 4 ? tables4 : tables6, q)
      const label = `${res.kind}${res.nexthops ? '(multipath)' : ''}@${res.table ?? (res.rule ? 'rule' : '-')}`
      kinds.set(label, (kinds.get(label) ?? 0) + 1)
      const k = kernelRouteGet(ns, family, q)
      // 400 synchronous `ip route get` runs: the worker's event loop must turn between them (helpers/breathe.ts).
      await breathe()
      if (!agrees(k, res, q)) mismatches.push(`${JSON.stringify(q)}\n  kernel: ${JSON.stringify(k)}\n  model:  ${JSON.stringify(expected(res))}\n  trail:  ${res.trail.join(' | ')}`)
    }
    const summary = [...kinds].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k}=${n}`).join(' ')
    return {total: queries.length, agreed: queries.length - mismatches.length, mismatches, kinds: summary}
  }

  it('IPv4: 400 seeded queries (prefix edges, random, marks, sources, input interfaces)', async () => {
    const rand = rng(SEED)
    const prefixes = [...tables4.routes.map((r) => r.dst), ...(tables4.rules ?? []).flatMap((r) => [r.src, r.dst]).filter((p): p is string => p !== undefined)]
    const dsts = [...new Set(interestingPoints(prefixes, 4, rand))].filter((d) => !martian4(d))
    while (dsts.length < 400) {
      const second = [0, 1, 2, 50, 51, 54, 55, 56, 77, 98, 99, 200, 244, 250]
      const pool = [() => `10.${second[Math.floor(rand() * second.length)] ?? 0}.${Math.floor(rand() * 12)}.${Math.floor(rand() * 256)}`, () => `192.168.${Math.floor(rand() * 10)}.${Math.floor(rand() * 256)}`, () => formatIp(4, BigInt(Math.floor(rand() * 2 ** 32)))]
      const d = (pool[Math.floor(rand() * pool.length)] as () => string)()
      if (!martian4(d)) dsts.push(d)
    }
    const variants: ((dst: string) => RouteQuery)[] = [
      (dst) => ({dst}),
      (dst) => ({dst, src: '10.244.1.1'}),
      (dst) => ({dst, fwmark: 0x4000}),
      (dst) => ({dst, fwmark: 0x10}),
      (dst) => ({dst, fwmark: 0x200}),
      (dst) => ({dst, fwmark: 0x40}),
      (dst) => ({dst, iif: 'cbr0', src: '10.244.1.2'}),
      (dst) => ({dst, iif: 'cbr0', src: '10.244.1.77'}),
      (dst) => ({dst, iif: 'cbr0', src: '10.244.1.77', fwmark: 0x4000}),
      (dst) => ({dst, iif: 'eth0', src: '10.100.0.99'}),
    ]
    const queries = dsts.slice(0, 400).map((dst) => (variants[Math.floor(rand() * variants.length)] as (d: string) => RouteQuery)(dst))
    const {total, agreed, mismatches, kinds} = await compare(4, queries)
    console.log(`route-lookup oracle IPv4 (seed ${SEED}): ${agreed}/${total} agree; decisions: ${kinds}`)
    expect(mismatches).toEqual([])
  })

  it('IPv6: 120 seeded queries', async () => {
    const rand = rng(SEED + 6)
    const prefixes = [...tables6.routes.map((r) => r.dst), ...(tables6.rules ?? []).flatMap((r) => [r.src, r.dst]).filter((p): p is string => p !== undefined)]
    const ok6 = (d: string): boolean => !d.startsWith('fe80') && !d.startsWith('ff') && d !== '::' && d !== '::1'
    const dsts = [...new Set(interestingPoints(prefixes, 6, rand))].filter(ok6)
    while (dsts.length < 120) {
      const hex = () => Math.floor(rand() * 8).toString(16)
      const d = rand() < 0.7 ? `2001:db8:${hex()}:${hex()}::${Math.floor(rand() * 65536).toString(16)}` : `fd00:${rand() < 0.5 ? '100' : '244'}:${hex()}::${hex()}`
      if (ok6(d)) dsts.push(d)
    }
    const variants: ((dst: string) => RouteQuery)[] = [
      (dst) => ({dst}),
      (dst) => ({dst, src: 'fd00:244:1::1'}),
      (dst) => ({dst, fwmark: 0x8}),
      (dst) => ({dst, fwmark: 0x40}),
      (dst) => ({dst, iif: 'cbr0', src: 'fd00:244:1::2'}),
      (dst) => ({dst, iif: 'eth0', src: 'fd00:100::99'}),
    ]
    const queries = dsts.slice(0, 120).map((dst) => (variants[Math.floor(rand() * variants.length)] as (d: string) => RouteQuery)(dst))
    const {total, agreed, mismatches, kinds} = await compare(6, queries)
    console.log(`route-lookup oracle IPv6 (seed ${SEED}): ${agreed}/${total} agree; decisions: ${kinds}`)
    expect(mismatches).toEqual([])
  })
})
