import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseConntrack, type ConntrackEntry} from '../../../src/lib/parse/conntrack.js'
import {captureConntrack} from '../../fixtures/netfilter/build.js'
import {fuzzParser} from '../../helpers/fuzz.js'
import {describeNetns, TestNetns} from '../../helpers/netns.js'

const fixture = readFileSync(new URL('../../fixtures/netfilter/conntrack-L.txt', import.meta.url), 'utf8')

/** The flows build.ts creates; ICMP ids, timeouts and entry order vary between runs. */
function assertFlows(text: string): void {
  const {value, problems} = parseConntrack(text)
  expect(problems).toEqual([])
  const find = (pred: (e: ConntrackEntry) => boolean): ConntrackEntry => {
    const hits = value.filter(pred)
    expect(hits).toHaveLength(1)
    return hits[0] as ConntrackEntry
  }
  const tcp = find((e) => e.protocol === 'tcp')
  expect(tcp).toMatchObject({
    family: 4, protocolNumber: 6, state: 'ESTABLISHED', flags: ['ASSURED'], mark: 0, zone: null, use: 1,
    original: {src: '10.99.0.1', dst: '10.99.0.2', sport: 40000, dport: 80},
    // The DNAT to :8080 shows in the reply tuple.
    reply: {src: '10.99.0.2', dst: '10.99.0.1', sport: 8080, dport: 40000},
  })
  expect(tcp.timeout).toBeGreaterThan(400_000)
  const replied = find((e) => e.protocol === 'udp' && e.original.dport === 5353)
  expect(replied).toMatchObject({protocolNumber: 17, state: null, original: {sport: 40001}, reply: {sport: 5353, dport: 40001}})
  expect(replied.flags).not.toContain('UNREPLIED')
  expect(find((e) => e.protocol === 'udp' && e.original.dport === 5354)).toMatchObject({
    flags: ['UNREPLIED'], mark: 42, zone: 7, original: {sport: 40002}, reply: {src: '10.99.0.2', sport: 5354},
  })
  const icmp = find((e) => e.protocol === 'icmp')
  expect(icmp).toMatchObject({protocolNumber: 1, original: {icmpType: 8, icmpCode: 0, sport: null}, reply: {icmpType: 0, icmpCode: 0}})
  expect(icmp.original.icmpId).toBe(icmp.reply?.icmpId)
  expect(find((e) => e.protocol === 'icmpv6')).toMatchObject({
    family: 6, protocolNumber: 58, original: {src: 'fd99::1', dst: 'fd99::2', icmpType: 128, icmpCode: 0}, reply: {icmpType: 129},
  })
  expect(value).toHaveLength(5)
}

describe('parseConntrack', () => {
  it('reads the captured real flows', () => assertFlows(fixture))

  it('reads -o extended, accounting, zones, the stderr summary and other keys', () => {
    const {value, problems} = parseConntrack([
      'ipv6     10 tcp      6 117 TIME_WAIT src=fd00::1 dst=fd00::2 sport=1 dport=2 packets=5 bytes=300 src=fd00::2 dst=fd00::1 sport=2 dport=1 packets=4 bytes=250 [ASSURED] mark=16 secctx=system_u zone=3 use=2 id=12345',
      'unknown  2 599 src=10.0.0.1 dst=224.0.0.1 [UNREPLIED] src=224.0.0.1 dst=10.0.0.1 mark=0 use=1',
      'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.',
    ].join('\n'))
    expect(problems).toEqual([])
    expect(value[0]).toEqual({
      line: 1, family: 6, protocol: 'tcp', protocolNumber: 6, timeout: 117, state: 'TIME_WAIT',
      original: {src: 'fd00::1', dst: 'fd00::2', sport: 1, dport: 2, icmpType: null, icmpCode: null, icmpId: null, packets: 5, bytes: 300},
      reply: {src: 'fd00::2', dst: 'fd00::1', sport: 2, dport: 1, icmpType: null, icmpCode: null, icmpId: null, packets: 4, bytes: 250},
      flags: ['ASSURED'], mark: 16, zone: 3, use: 2, extra: {secctx: 'system_u', id: '12345'},
    })
    expect(value[1]).toMatchObject({protocol: 'unknown', protocolNumber: 2, timeout: 599, state: null, flags: ['UNREPLIED'], original: {dst: '224.0.0.1', sport: null}})
  })

  it('reports unreadable lines with their numbers', () => {
    const {value, problems} = parseConntrack('tcp 6 10 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=x dport=2\ngarbage\nudp 17 5 src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 mark=0 use=1\nconntrack v1.4.7 (conntrack-tools): Operation failed: invalid parameters')
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [1, 'bad sport="x"'],
      [2, 'expected "PROTOCOL NUMBER" at the start of the entry'],
      [4, 'expected "PROTOCOL NUMBER" at the start of the entry'],
    ])
    expect(value.map((e) => e.line)).toEqual([3])
  })

  it('never throws on mutated captured output', async () => {
    await fuzzParser([fixture], parseConntrack)
  })
})

describeNetns('parseConntrack: live flows between two namespaces', () => {
  let client: TestNetns
  let server: TestNetns
  beforeAll(() => {
    client = TestNetns.create('ctc')
    server = TestNetns.create('cts')
  })
  afterAll(() => {
    client?.destroy()
    server?.destroy()
  })
  it('TCP through DNAT, UDP replied and unreplied (mark, zone), ICMP and ICMPv6', async () => {
    assertFlows(await captureConntrack(client, server))
  })
}, ['conntrack', 'socat', 'ping', 'ip6tables'])
