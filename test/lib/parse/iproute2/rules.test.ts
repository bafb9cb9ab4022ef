import {describe, expect, it} from 'vitest'
import {describeRule, parseRules} from '../../../../src/lib/parse/iproute2/rules.js'
import {fuzzJsonParser} from './json-fuzz.js'
import {samplesFor} from './fixtures.js'

describe('parseRules', () => {
  it('reads selectors and actions as iproute2 6.1 prints them', () => {
    // Captured from `ip -j rule show` (iproute2-6.1.0) after the matching `ip rule add` commands.
    const text =
      '[{"priority":0,"src":"all","table":"local"},{"priority":100,"src":"10.244.1.0","srclen":24,"dst":"10.50.0.0","dstlen":16,"fwmark":"0x4000","fwmask":"0x4000","table":"100"},{"priority":200,"not":null,"src":"all","iif":"eth0","table":"200"},{"priority":300,"src":"all","dst":"10.1.0.0","dstlen":16,"action":"blackhole"},{"priority":400,"src":"all","fwmark":"0x10","goto":32766},{"priority":500,"src":"all","table":"main","suppress_prefixlen":0},{"priority":600,"src":"all","oif":"eth0","uid_start":100,"uid_end":200,"ipproto":"tcp","dport":80,"table":"300"},{"priority":800,"src":"10.244.1.5","action":"prohibit"},{"priority":32767,"src":"all","table":"default"}]'
    const {value, problems} = parseRules(text, 4)
    expect(problems).toEqual([])
    expect(value.map(describeRule)).toEqual([
      '0: from all lookup local',
      '100: from 10.244.1.0/24 to 10.50.0.0/16 fwmark 0x4000/0x4000 lookup 100',
      '200: not from all iif eth0 lookup 200',
      '300: from all to 10.1.0.0/16 blackhole',
      '400: from all fwmark 0x10 goto 32766',
      '500: from all lookup main suppress_prefixlength 0',
      '600: from all oif eth0 uidrange 100-200 ipproto tcp dport 80 lookup 300',
      '800: from 10.244.1.5 prohibit',
      '32767: from all lookup default',
    ])
    expect(value[1]).toEqual({family: 4, priority: 100, not: false, src: '10.244.1.0/24', dst: '10.50.0.0/16', fwmark: 0x4000, fwmask: 0x4000, action: 'lookup', table: '100', l3mdev: false, index: 1})
  })

  it('reads port ranges, l3mdev, detached interfaces, numeric tables and IPv6 selectors', () => {
    const text = JSON.stringify([
      {priority: 1000, src: 'all', l3mdev: null},
      {priority: 1001, src: 'fd00::', srclen: 64, iif: 'gone0', iif_detached: null, table: 254, sport_start: 1000, sport_end: 2000},
      {priority: 1002, src: 'all', action: 'nop'},
    ])
    const {value, problems} = parseRules(text, 6)
    expect(problems).toEqual([])
    expect(value).toEqual([
      {family: 6, priority: 1000, not: false, action: 'lookup', l3mdev: true, index: 0},
      {family: 6, priority: 1001, not: false, src: 'fd00::/64', iif: 'gone0', iifDetached: true, table: 'main', action: 'lookup', l3mdev: false, sport: {start: 1000, end: 2000}, index: 1},
      {family: 6, priority: 1002, not: false, action: 'nop', l3mdev: false, index: 2},
    ])
  })

  it('reports unreadable rules and keeps the rest', () => {
    const {value, problems} = parseRules(JSON.stringify([{src: 'all'}, {priority: 5, src: '10.0.0.0', srclen: 99}, {priority: 6, fwmark: 'banana'}, {priority: 7, action: 'teleport'}, {priority: 8, table: 'main'}]), 4)
    expect(value.map((r) => r.priority)).toEqual([8])
    expect(problems.map((p) => p.message)).toEqual([
      'ip rule[0]: missing priority',
      'ip rule[1]: unreadable src "10.0.0.0"',
      'ip rule[2]: unreadable fwmark/fwmask',
      'ip rule[3]: unknown action "teleport"',
    ])
  })

  it('never throws (fuzz)', () => fuzzJsonParser([...samplesFor('rules4'), ...samplesFor('rules6')], (t) => parseRules(t, 4)))
})
