import {describe, expect, it} from 'vitest'
import {parseAddrs} from '../../../../src/lib/parse/iproute2/addrs.js'
import {fuzzJsonParser} from './json-fuzz.js'
import {samplesFor} from './fixtures.js'

describe('parseAddrs', () => {
  it('reads inet/inet6 addresses with the connected prefix normalised', () => {
    const text = JSON.stringify([
      {
        ifindex: 3,
        ifname: 'cbr0',
        flags: ['UP'],
        mtu: 1450,
        operstate: 'UP',
        addr_info: [
          {family: 'inet', local: '10.244.1.1', prefixlen: 24, broadcast: '10.244.1.255', scope: 'global', label: 'cbr0', valid_life_time: 4294967295},
          {family: 'inet6', local: 'FD00:244:1:0::1', prefixlen: 64, scope: 'global', nodad: true},
          {family: 'inet', local: '10.0.0.1', address: '10.0.0.2', prefixlen: 32, scope: 'global'},
        ],
      },
    ])
    expect(parseAddrs(text)).toEqual({
      value: [
        {
          ifindex: 3,
          ifname: 'cbr0',
          flags: ['UP'],
          mtu: 1450,
          operstate: 'UP',
          addrs: [
            {family: 'inet', local: '10.244.1.1', prefixlen: 24, cidr: '10.244.1.0/24', scope: 'global', broadcast: '10.244.1.255', label: 'cbr0'},
            {family: 'inet6', local: 'fd00:244:1::1', prefixlen: 64, cidr: 'fd00:244:1::/64', scope: 'global'},
            {family: 'inet', local: '10.0.0.1', prefixlen: 32, cidr: '10.0.0.1/32', scope: 'global', address: '10.0.0.2'},
          ],
        },
      ],
      problems: [],
    })
  })

  it('skips unreadable addresses but keeps the interface', () => {
    const {value, problems} = parseAddrs(JSON.stringify([{ifindex: 2, ifname: 'eth0', addr_info: [{family: 'inet', local: '10.0.0.1', prefixlen: 40}, {family: 'inet6', local: '10.0.0.1', prefixlen: 24}, {}]}, {addr_info: [{}]}]))
    expect(value).toEqual([{ifindex: 2, ifname: 'eth0', flags: [], addrs: []}])
    expect(problems.map((p) => p.message)).toEqual([
      'ip addr[0].addr_info[0] (eth0): bad prefix length or family',
      'ip addr[0].addr_info[1] (eth0): bad prefix length or family',
      'ip addr[0].addr_info[2] (eth0): unreadable address',
      'ip addr[1]: missing ifindex or ifname',
    ])
  })

  it('never throws (fuzz)', () => fuzzJsonParser(samplesFor('addrs'), parseAddrs))
})
