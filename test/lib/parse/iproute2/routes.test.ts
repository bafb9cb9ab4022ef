import {describe, expect, it} from 'vitest'
import {describeRoute, parseRoutes} from '../../../../src/lib/parse/iproute2/routes.js'
import {fuzzJsonParser} from './json-fuzz.js'
import {samplesFor} from './fixtures.js'

describe('parseRoutes', () => {
  it('normalises dst: default, bare addresses, host bits', () => {
    const text = JSON.stringify([
      {dst: 'default', gateway: '10.100.0.1', dev: 'eth0', flags: []},
      {type: 'local', dst: '10.100.0.2', dev: 'eth0', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.100.0.2', flags: []},
      {dst: '10.1.2.3/16', dev: 'eth0', flags: []},
      {type: 'unreachable', dst: 'default', table: '200', flags: []},
    ])
    const {value, problems} = parseRoutes(text, 4)
    expect(problems).toEqual([])
    expect(value.map((r) => [r.family, r.table, r.type, r.dst, r.prefixLength])).toEqual([
      [4, 'main', 'unicast', '0.0.0.0/0', 0],
      [4, 'local', 'local', '10.100.0.2/32', 32],
      [4, 'main', 'unicast', '10.1.0.0/16', 16],
      [4, '200', 'unreachable', '0.0.0.0/0', 0],
    ])
  })

  it('"default" without a gateway takes the caller family; with one, the gateway family', () => {
    const text = JSON.stringify([
      {type: 'unreachable', dst: 'default', dev: 'lo', metric: 4294967295, flags: [], pref: 'medium'},
      {dst: 'default', gateway: 'fe80::1', dev: 'eth0', flags: []},
    ])
    expect(parseRoutes(text, 6).value.map((r) => r.dst)).toEqual(['::/0', '::/0'])
    expect(parseRoutes(text, 4).value.map((r) => r.dst)).toEqual(['0.0.0.0/0', '::/0'])
  })

  it('reads multipath nexthops, nhid, numeric tables, IPv4-via-IPv6 gateways', () => {
    const text = JSON.stringify([
      {dst: '10.200.0.0/16', flags: [], nexthops: [{gateway: '10.100.0.5', dev: 'eth0', weight: 1, flags: []}, {gateway: '10.100.0.6', dev: 'eth0', weight: 3, flags: ['linkdown']}]},
      {dst: '10.9.0.0/16', nhid: 12, table: 254, flags: [], via: {family: 'inet6', host: 'fe80::1'}, dev: 'eth1'},
      {dst: '10.8.0.0/16', table: '255', protocol: 'bird', metric: 20, flags: ['onlink'], gateway: '10.0.0.1', dev: 'tunl0'},
    ])
    const {value, problems} = parseRoutes(text, 4)
    expect(problems).toEqual([])
    expect(value).toEqual([
      {
        family: 4,
        table: 'main',
        type: 'unicast',
        dst: '10.200.0.0/16',
        prefixLength: 16,
        flags: [],
        metric: 0,
        index: 0,
        nexthops: [
          {gateway: '10.100.0.5', dev: 'eth0', weight: 1, flags: []},
          {gateway: '10.100.0.6', dev: 'eth0', weight: 3, flags: ['linkdown']},
        ],
      },
      {family: 4, table: 'main', type: 'unicast', dst: '10.9.0.0/16', prefixLength: 16, flags: [], metric: 0, index: 1, nhid: 12, gateway: 'fe80::1', dev: 'eth1'},
      {family: 4, table: 'local', type: 'unicast', dst: '10.8.0.0/16', prefixLength: 16, flags: ['onlink'], metric: 20, index: 2, protocol: 'bird', gateway: '10.0.0.1', dev: 'tunl0'},
    ])
    expect(value.map(describeRoute)).toEqual([
      '10.200.0.0/16 nexthop via 10.100.0.5 dev eth0 weight 1 nexthop via 10.100.0.6 dev eth0 weight 3 linkdown',
      '10.9.0.0/16 nhid 12 via fe80::1 dev eth1',
      '10.8.0.0/16 via 10.0.0.1 dev tunl0 table local proto bird metric 20 onlink',
    ])
  })

  it('reports unknown types, missing and bad dst, and keeps the rest', () => {
    const {value, problems} = parseRoutes(JSON.stringify([{dst: '10.0.0.0/8'}, {type: 'weird', dst: '1.0.0.0/8'}, {dev: 'eth0'}, {dst: '10.0.0.0/33'}, null]), 4)
    expect(value.map((r) => r.dst)).toEqual(['10.0.0.0/8'])
    expect(problems.map((p) => p.message)).toEqual([
      'ip route[1]: unknown route type "weird"',
      'ip route[2]: missing or unreadable dst ""',
      'ip route[3]: missing or unreadable dst "10.0.0.0/33"',
      'ip route[4]: expected an object, got null',
    ])
  })

  it('never throws (fuzz)', () => fuzzJsonParser([...samplesFor('routes4'), ...samplesFor('routes6'), ...samplesFor('routesAll')], (t) => parseRoutes(t, 4)))
})
