import {describe, expect, it} from 'vitest'
import {lookupRoute, type RoutingTables} from '../../../src/lib/net/route-lookup.js'
import {parseRoutes} from '../../../src/lib/parse/iproute2/routes.js'
import {parseRules} from '../../../src/lib/parse/iproute2/rules.js'
import {capturedStdout} from '../parse/iproute2/fixtures.js'

const F = 'flannel-node.json'
const node4: RoutingTables = {routes: parseRoutes(capturedStdout(F, 'node', 'routes4'), 4).value, rules: parseRules(capturedStdout(F, 'node', 'rules4'), 4).value}
const node6: RoutingTables = {routes: parseRoutes(capturedStdout(F, 'node', 'routes6'), 6).value, rules: parseRules(capturedStdout(F, 'node', 'rules6'), 6).value}

describe('lookupRoute on the captured flannel node', () => {
  it('routes a remote pod subnet through flannel.1 onlink, with the evidence trail', () => {
    const r = lookupRoute(node4, {dst: '10.244.2.7'})
    expect({kind: r.kind, table: r.table, gateway: r.gateway, dev: r.dev, rule: r.rule?.priority, route: r.route?.dst}).toEqual({
      kind: 'unicast',
      table: 'main',
      gateway: '10.244.2.0',
      dev: 'flannel.1',
      rule: 400,
      route: '10.244.2.0/24',
    })
    expect(r.trail).toEqual([
      '0: from all lookup local: no matching route in table local',
      '310: not from all fwmark 0xca6c lookup 51820: no matching route in table 51820',
      '400: from all lookup main suppress_prefixlength 0: 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
    ])
  })

  it('suppress_prefixlength 0 skips the default route at 400 and main is consulted again at 32766', () => {
    const r = lookupRoute(node4, {dst: '8.8.8.8'})
    expect([r.kind, r.rule?.priority, r.gateway, r.dev]).toEqual(['unicast', 32766, '10.100.0.1', 'eth0'])
    expect(r.trail[2]).toBe('400: from all lookup main suppress_prefixlength 0: default via 10.100.0.1 dev eth0: suppressed (prefix length 0 <= 0)')
  })

  it('source-based rule (from POD_IP lookup 100) and fwmark rules pick other tables', () => {
    const fromPod = lookupRoute(node4, {dst: '10.250.1.1', iif: 'cbr0', src: '10.244.1.2'})
    expect([fromPod.kind, fromPod.table, fromPod.gateway]).toEqual(['unicast', '100', '10.100.0.9'])
    expect(lookupRoute(node4, {dst: '10.98.0.1', iif: 'cbr0', src: '10.244.1.2'}).kind).toBe('prohibit')
    const marked = lookupRoute(node4, {dst: '8.8.8.8', fwmark: 0x4000})
    expect([marked.table, marked.gateway]).toEqual(['2', '10.100.0.10'])
    // wg-quick style "not fwmark": the tunnel's own packets skip table 51820.
    expect(lookupRoute(node4, {dst: '10.51.0.1'}).table).toBe('51820')
    // The tunnel's own mark 0xca6c has bit 0x4000 set, so rule 200 claims it before 310 is reached.
    expect(lookupRoute(node4, {dst: '10.51.0.1', fwmark: 0xca6c}).table).toBe('2')
  })

  it('lowest metric wins among equal prefixes; multipath reports every nexthop', () => {
    expect(lookupRoute(node4, {dst: '172.20.0.1'}).gateway).toBe('10.100.0.8')
    const mp = lookupRoute(node4, {dst: '10.200.3.3'})
    expect(mp.gateway).toBeUndefined()
    expect(mp.nexthops?.map((h) => h.gateway)).toEqual(['10.100.0.5', '10.100.0.6'])
  })

  it('error routes and rule actions', () => {
    expect(lookupRoute(node4, {dst: '10.244.99.1'}).kind).toBe('blackhole')
    const u = lookupRoute(node4, {dst: '10.99.0.1'})
    expect([u.kind, u.route?.type]).toEqual(['unreachable', 'unreachable'])
    const ur = lookupRoute(node4, {dst: '10.52.0.1'})
    expect([ur.kind, ur.rule?.priority, ur.route]).toEqual(['unreachable', 500, undefined])
    expect(lookupRoute(node4, {dst: '10.53.0.1'}).kind).toBe('blackhole')
    const jumped = lookupRoute(node4, {dst: '8.8.8.8', fwmark: 0x10})
    expect([jumped.rule?.priority, jumped.gateway]).toEqual([32766, '10.100.0.1'])
    expect(jumped.trail).toContain('520: from all fwmark 0x10 goto 32766: jumping')
  })

  it('local and broadcast destinations come from the local table', () => {
    const l = lookupRoute(node4, {dst: '10.244.1.1'})
    expect([l.kind, l.table, l.dev, l.prefsrc]).toEqual(['local', 'local', 'cbr0', '10.244.1.1'])
    expect(lookupRoute(node4, {dst: '10.244.1.255'}).kind).toBe('broadcast')
  })

  it('IPv6: source rule to table 100, and a rule with a source never matches an unspecified source', () => {
    expect(lookupRoute(node6, {dst: '2001:db8::1', src: 'fd00:244:1::2', iif: 'cbr0'}).table).toBe('100')
    expect(lookupRoute(node6, {dst: '2001:db8::1'}).table).toBe('main')
    expect(lookupRoute(node6, {dst: '2001:db8:dead::1'}).kind).toBe('blackhole')
    expect(lookupRoute(node6, {dst: '2001:db8:9::1'}).gateway).toBe('fd00:100::9')
  })
})

describe('lookupRoute semantics', () => {
  const routes = parseRoutes(
    JSON.stringify([
      {dst: '10.0.0.0/8', gateway: '192.0.2.1', dev: 'eth0', flags: []},
      {dst: '10.1.0.0/16', gateway: '192.0.2.2', dev: 'eth1', flags: []},
      {dst: '10.1.2.0/24', gateway: '192.0.2.3', dev: 'eth0', flags: ['dead', 'linkdown']},
      {type: 'throw', dst: '10.0.0.0/8', table: '10', flags: []},
      {dst: '10.1.0.0/16', gateway: '192.0.2.9', dev: 'eth0', table: '10', flags: []},
    ]),
    4,
  ).value

  it('uses the kernel default rules when the evidence has none', () => {
    const r = lookupRoute({routes}, {dst: '10.9.9.9'})
    expect([r.kind, r.rule?.priority, r.gateway]).toEqual(['unicast', 32766, '192.0.2.1'])
    expect(r.trail[0]).toBe('no rules in evidence: using the kernel default rules')
  })

  it('backtracks past routes whose nexthops are dead', () => {
    expect(lookupRoute({routes}, {dst: '10.1.2.3'}).gateway).toBe('192.0.2.2')
  })

  it('a longer throw in a table continues with the next rule, it does not fall back to shorter prefixes', () => {
    const rules = parseRules(JSON.stringify([{priority: 5, src: 'all', table: '10'}, {priority: 32766, src: 'all', table: 'main'}]), 4).value
    // Table 10 has 10.1.0.0/16 (longer, wins) and throw 10.0.0.0/8.
    expect(lookupRoute({routes, rules}, {dst: '10.1.0.1'}).gateway).toBe('192.0.2.9')
    const thrown = lookupRoute({routes, rules}, {dst: '10.2.0.1'})
    expect([thrown.table, thrown.gateway]).toEqual(['main', '192.0.2.1'])
  })

  it('oif restricts the candidate routes to that device', () => {
    expect(lookupRoute({routes}, {dst: '10.1.0.1', oif: 'eth0'}).gateway).toBe('192.0.2.1')
  })

  it('invalid queries are reported, not thrown', () => {
    expect(lookupRoute({routes}, {dst: 'nope'})).toEqual({kind: 'invalid', trail: ['invalid destination "nope"']})
    expect(lookupRoute({routes}, {dst: '10.0.0.1', src: 'fd00::1'}).kind).toBe('invalid')
    expect(lookupRoute({routes}, {dst: '10.0.0.1', family: 6}).kind).toBe('invalid')
  })
})
