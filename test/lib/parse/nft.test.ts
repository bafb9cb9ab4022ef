import {readFileSync} from 'node:fs'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseNftJson, type NftRuleset} from '../../../src/lib/parse/nft.js'
import {captureNft} from '../../fixtures/netfilter/build.js'
import {breather, fuzzParser, fuzzRuns} from '../../helpers/fuzz.js'
import {describeNetns, TestNetns} from '../../helpers/netns.js'

const fixture = readFileSync(new URL('../../fixtures/netfilter/nft-list-ruleset.kube-proxy.json', import.meta.url), 'utf8')

function assertKubeProxyRuleset(text: string): NftRuleset {
  const {value, problems} = parseNftJson(text)
  expect(problems).toEqual([])
  expect(value.metainfo).toEqual({version: '1.0.6', releaseName: 'Lester Gooch #5', jsonSchemaVersion: 1})
  expect(value.tables.map((t) => [t.family, t.name])).toEqual([['ip', 'kube-proxy'], ['inet', 'knet-filter']])
  const kp = value.chains.filter((c) => c.table === 'kube-proxy')
  expect(kp).toHaveLength(18)
  expect(kp.filter((c) => c.hook !== null).map((c) => [c.name, c.type, c.hook, c.prio, c.policy])).toEqual([
    ['filter-prerouting', 'filter', 'prerouting', -110, 'accept'],
    ['filter-input', 'filter', 'input', -110, 'accept'],
    ['nat-prerouting', 'nat', 'prerouting', -100, 'accept'],
    ['nat-output', 'nat', 'output', -100, 'accept'],
    ['nat-postrouting', 'nat', 'postrouting', 100, 'accept'],
  ])
  const byName = new Map(value.sets.map((s) => [s.name, s]))
  expect(byName.get('cluster-ips')).toMatchObject({kind: 'set', type: ['ipv4_addr'], map: null, comment: 'Active ClusterIPs'})
  expect(byName.get('cluster-ips')?.elements.map((e) => e.keyText)).toEqual(['10.96.0.1', '10.96.12.34'])
  const serviceIps = byName.get('service-ips')
  expect(serviceIps).toMatchObject({kind: 'map', type: ['ipv4_addr', 'inet_proto', 'inet_service'], map: 'verdict'})
  expect(serviceIps?.elements.map((e) => [e.keyText, e.verdict]).sort()).toEqual([
    ['10.96.0.1 . tcp . 443', {verb: 'goto', target: 'service-2QRHZV4L-default/kubernetes/tcp/https'}],
    ['10.96.12.34 . tcp . 80', {verb: 'goto', target: 'service-HVFWP5L3-shop/web/tcp/http'}],
  ])
  expect(byName.get('no-endpoint-services')?.elements).toEqual([{
    key: {concat: ['10.96.0.10', 'udp', 53]}, keyText: '10.96.0.10 . udp . 53', value: {goto: {target: 'reject-chain'}},
    verdict: {verb: 'goto', target: 'reject-chain'}, comment: 'kube-system/dns:dns',
  }])
  expect(byName.get('blocked')).toMatchObject({family: 'inet', flags: ['interval']})
  expect(byName.get('blocked')?.elements.map((e) => e.keyText)).toEqual(['10.0.0.0/8', '192.168.1.1-192.168.1.9'])

  const rulesOf = (chain: string) => value.rules.filter((r) => r.chain === chain)
  expect(rulesOf('services').map((r) => r.setRefs)).toEqual([['service-ips'], ['nodeport-ips', 'service-nodeports']])
  expect(rulesOf('service-HVFWP5L3-shop/web/tcp/http').map((r) => r.jumps)).toEqual([
    [{verb: 'jump', target: 'mark-for-masquerade'}],
    [{verb: 'goto', target: 'endpoint-AAAAAAAA-shop/web/tcp/http__10.244.1.5/8080'}, {verb: 'goto', target: 'endpoint-BBBBBBBB-shop/web/tcp/http__10.244.2.7/8080'}],
  ])
  expect(rulesOf('masquerading').map((r) => r.verdict)).toEqual(['return', null, null])
  expect(rulesOf('endpoint-AAAAAAAA-shop/web/tcp/http__10.244.1.5/8080')[1]?.expr).toEqual([
    {match: {op: '==', left: {meta: {key: 'l4proto'}}, right: 'tcp'}},
    {dnat: {addr: '10.244.1.5', port: 8080}},
  ])
  expect(rulesOf('input')).toHaveLength(3)
  expect(rulesOf('input')[0]).toMatchObject({comment: 'blocked sources', verdict: 'drop', setRefs: ['blocked'], hasXt: false})
  return value
}

describe('parseNftJson', () => {
  it('reads the captured kube-proxy-style ruleset', () => {
    assertKubeProxyRuleset(fixture)
  })

  it('reports invalid JSON with the line it fails on and returns an empty ruleset', () => {
    const r = parseNftJson('{"nftables": [\n{"table": {"family": "ip", "name": "x", "handle": 1}},\n{oops}\n]}')
    expect(r.value).toEqual({metainfo: null, tables: [], chains: [], rules: [], sets: []})
    expect(r.problems).toHaveLength(1)
    expect(r.problems[0]?.line).toBe(3)
    expect(r.problems[0]?.message).toMatch(/^invalid JSON: /)
  })

  it('reports malformed and unknown entries but keeps the rest', () => {
    const r = parseNftJson(JSON.stringify({nftables: [
      {table: {family: 'ip', name: 't', handle: 1}},
      {chain: {family: 'ip', table: 't'}},
      {gizmo: {}},
      {flowtable: {family: 'ip', name: 'f'}},
      7,
      {rule: {family: 'ip', table: 't', chain: 'c', handle: 4, expr: [{xt: {type: 'match', name: 'comment'}}, {accept: null}]}},
    ]}))
    expect(r.problems.map((p) => p.message)).toEqual(['entry 1: chain without family/table/name', 'entry 2: unknown object "gizmo"', 'entry 4 is not an object'])
    expect(r.value.tables).toHaveLength(1)
    expect(r.value.rules[0]).toMatchObject({handle: 4, verdict: 'accept', hasXt: true, jumps: []})
  })

  it('rejects JSON that is not nft output', () => {
    expect(parseNftJson('[1,2]').problems).toEqual([{line: 0, message: 'not nft JSON: no top-level "nftables" array'}])
  })

  it('never throws on mutated captured output', async () => {
    await fuzzParser([fixture], parseNftJson)
  })

  it('never throws when valid JSON has the wrong shapes inside entries', async () => {
    const breathe = breather()
    const entries = (JSON.parse(fixture) as {nftables: Record<string, Record<string, unknown>>[]}).nftables
    await fc.assert(fc.asyncProperty(fc.nat(entries.length - 1), fc.string({maxLength: 8}), fc.jsonValue({maxDepth: 4}), async (i, field, junk) => {
      await breathe()
      const copy = structuredClone(entries)
      const entry = copy[i] as Record<string, Record<string, unknown>>
      const kind = Object.keys(entry)[0] as string
      const body = entry[kind] as Record<string, unknown>
      const keys = Object.keys(body)
      body[keys.length > 0 && field.length % 2 === 0 ? (keys[field.length % keys.length] as string) : field] = junk
      const r = parseNftJson(JSON.stringify({nftables: copy}))
      expect(Array.isArray(r.problems)).toBe(true)
      expect(r.value.tables.length + r.value.chains.length + r.value.rules.length + r.value.sets.length).toBeGreaterThan(0)
    }), {numRuns: Math.min(fuzzRuns, 5000)})
    const deep = `{"nftables": [{"map": {"family": "ip", "table": "t", "name": "m", "map": "verdict", "elem": [[${'{"concat": ['.repeat(3000)}1${']}'.repeat(3000)}, {"accept": null}]]}}]}`
    expect(parseNftJson(deep).value.sets[0]?.elements[0]?.keyText).toBeTypeOf('string')
  })
})

describeNetns('parseNftJson: live ruleset in a namespace', () => {
  let ns: TestNetns
  beforeAll(() => {
    ns = TestNetns.create('nft')
  })
  afterAll(() => ns?.destroy())
  it('nft -f a kube-proxy-style ruleset, then nft -j list ruleset', () => {
    assertKubeProxyRuleset(captureNft(ns))
  })
})
