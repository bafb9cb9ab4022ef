import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseProxyArp, parseSysctls, rpFilterByInterface, sysctlKey, sysctlValue} from '../../../src/lib/parse/sysctl.js'
import {fuzzParser} from '../../helpers/fuzz.js'
import {describeNetns, TestNetns} from '../../helpers/netns.js'
import {samplesFor} from './iproute2/fixtures.js'

describe('parseSysctls', () => {
  it('turns grep -H lines into dotted keys, as sysctl(8) names them', () => {
    const text = '/proc/sys/net/ipv4/ip_forward:1\n/proc/sys/net/ipv4/conf/eth0.100/rp_filter:2\n/proc/sys/net/ipv4/tcp_rmem:4096\t131072\t6291456\n'
    expect(parseSysctls(text)).toEqual({
      value: [
        {path: '/proc/sys/net/ipv4/ip_forward', key: 'net.ipv4.ip_forward', value: '1', line: 1},
        {path: '/proc/sys/net/ipv4/conf/eth0.100/rp_filter', key: 'net.ipv4.conf.eth0/100.rp_filter', value: '2', line: 2},
        {path: '/proc/sys/net/ipv4/tcp_rmem', key: 'net.ipv4.tcp_rmem', value: '4096\t131072\t6291456', line: 3},
      ],
      problems: [],
    })
    expect(sysctlKey('/etc/passwd')).toBeUndefined()
    expect(sysctlKey('/proc/sys/net/../x')).toBeUndefined()
  })

  it('reports lines that are not PATH:VALUE with their line number', () => {
    const r = parseSysctls('/proc/sys/net/ipv4/ip_forward:1\ngrep: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory\nip_forward=1\n')
    expect(r.value).toHaveLength(1)
    expect(r.problems).toEqual([
      {line: 2, message: 'sysctl: expected "/proc/sys/…:value"', text: 'grep: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory'},
      {line: 3, message: 'sysctl: expected "/proc/sys/…:value"', text: 'ip_forward=1'},
    ])
  })

  it('rpFilterByInterface maps names back (eth0/100 → eth0.100) and ignores non-numbers; sysctlValue takes the last read', () => {
    const {value} = parseSysctls('/proc/sys/net/ipv4/conf/all/rp_filter:1\n/proc/sys/net/ipv4/conf/eth0.100/rp_filter:2\n/proc/sys/net/ipv4/conf/x/rp_filter:abc\n/proc/sys/net/ipv4/ip_forward:0\n/proc/sys/net/ipv4/ip_forward:1')
    expect([...rpFilterByInterface(value)]).toEqual([
      ['all', 1],
      ['eth0.100', 2],
    ])
    expect(sysctlValue(value, 'net.ipv4.ip_forward')).toBe('1')
    expect(sysctlValue(value, 'net.ipv4.nope')).toBeUndefined()
  })

  it('never throws (fuzz)', () => fuzzParser(samplesFor('sysctls'), parseSysctls))
})

describe('parseProxyArp', () => {
  // As grep -r -H --include=proxy_arp . /proc/sys/net/ipv4/conf prints it on a Calico node.
  const CAPTURED = [
    '/proc/sys/net/ipv4/conf/all/proxy_arp:0',
    '/proc/sys/net/ipv4/conf/cali1f0a2b3c4d5/proxy_arp:1',
    '/proc/sys/net/ipv4/conf/default/proxy_arp:0',
    '/proc/sys/net/ipv4/conf/eth0/proxy_arp:0',
    '/proc/sys/net/ipv4/conf/eth0.100/proxy_arp:0',
    '/proc/sys/net/ipv4/conf/lo/proxy_arp:0',
    '',
  ].join('\n')

  it('maps each interface to its value, names with dots as they are', () => {
    expect(parseProxyArp(CAPTURED)).toEqual({
      value: new Map([['all', 0], ['cali1f0a2b3c4d5', 1], ['default', 0], ['eth0', 0], ['eth0.100', 0], ['lo', 0]]),
      problems: [],
    })
  })

  it('reports what is not an interface proxy_arp number, and leaves it out', () => {
    const r = parseProxyArp('/proc/sys/net/ipv4/conf/eth0/proxy_arp:1\n/proc/sys/net/ipv4/conf/eth0/rp_filter:1\n/proc/sys/net/ipv4/conf/x/proxy_arp:on\ngrep: oops\n')
    expect([...r.value]).toEqual([['eth0', 1]])
    expect(r.problems.map((p) => [p.line, p.text])).toEqual([
      [4, 'grep: oops'],
      [2, '/proc/sys/net/ipv4/conf/eth0/rp_filter:1'],
      [3, '/proc/sys/net/ipv4/conf/x/proxy_arp:on'],
    ])
  })

  it('an empty capture is an empty map', () => expect(parseProxyArp('')).toEqual({value: new Map(), problems: []}))

  it('never throws (fuzz)', () => fuzzParser([CAPTURED], parseProxyArp))
})

describeNetns('parseSysctls on a live namespace', () => {
  let ns: TestNetns | undefined
  beforeAll(() => {
    ns = TestNetns.create('sysctl')
    ns.run(['ip', 'link', 'add', 'veth.7', 'type', 'veth', 'peer', 'name', 'vp'])
    ns.run(['sysctl', '-q', '-w', 'net.ipv4.conf.veth/7.rp_filter=2'])
    ns.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
  })
  afterAll(() => ns?.destroy())

  it('reads /proc/sys through ip netns exec grep', () => {
    const live = ns as TestNetns
    const out = live.run(['sh', '-c', 'grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables; grep -r -H . /proc/sys/net/ipv4/conf --include=rp_filter'])
    const {value, problems} = parseSysctls(out)
    expect(problems).toEqual([])
    expect(sysctlValue(value, 'net.ipv4.ip_forward')).toBe('1')
    // br_netfilter is built into this kernel, so the files exist in every namespace (default 1).
    expect(sysctlValue(value, 'net.bridge.bridge-nf-call-iptables')).toBe('1')
    expect(sysctlValue(value, 'net.bridge.bridge-nf-call-ip6tables')).toBe('1')
    expect(value).toContainEqual({path: '/proc/sys/net/ipv4/conf/veth.7/rp_filter', key: 'net.ipv4.conf.veth/7.rp_filter', value: '2', line: expect.any(Number) as number})
    // `sysctl` itself agrees on the dotted name.
    expect(live.run(['sysctl', 'net.ipv4.conf.veth/7.rp_filter']).trim()).toBe('net.ipv4.conf.veth/7.rp_filter = 2')
    expect(Object.fromEntries(rpFilterByInterface(value))).toEqual({all: 0, default: 0, lo: 0, 'veth.7': 2, vp: 0})
  })
})
