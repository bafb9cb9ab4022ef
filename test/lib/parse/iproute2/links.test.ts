import {describe, expect, it} from 'vitest'
import {parseLinks} from '../../../../src/lib/parse/iproute2/links.js'
import {fuzzJsonParser} from './json-fuzz.js'
import {samplesFor} from './fixtures.js'

describe('parseLinks', () => {
  it('reads a veth whose peer is in another namespace (link_index + link_netnsid) and its bridge-port data', () => {
    const text = JSON.stringify([
      {
        ifindex: 4,
        link_index: 2,
        ifname: 'veth-pod1',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        mtu: 1450,
        qdisc: 'noqueue',
        master: 'cbr0',
        operstate: 'UP',
        link_type: 'ether',
        address: '02:00:0a:f4:01:ff',
        link_netnsid: 1,
        promiscuity: 1,
        min_mtu: 68,
        max_mtu: 65535,
        linkinfo: {info_kind: 'veth', info_slave_kind: 'bridge', info_slave_data: {state: 'forwarding', priority: 32, cost: 2, hairpin: false, learning: true, flood: true, id: '0x8001'}},
      },
    ])
    expect(parseLinks(text)).toEqual({
      value: [
        {
          ifindex: 4,
          ifname: 'veth-pod1',
          flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
          mtu: 1450,
          operstate: 'UP',
          master: 'cbr0',
          linkIndex: 2,
          linkNetnsid: 1,
          address: '02:00:0a:f4:01:ff',
          linkType: 'ether',
          promiscuity: 1,
          minMtu: 68,
          maxMtu: 65535,
          kind: 'veth',
          slaveKind: 'bridge',
          bridgePort: {state: 'forwarding', priority: 32, cost: 2, hairpin: false, learning: true, flood: true},
        },
      ],
      problems: [],
    })
  })

  it('reads vxlan info_data with an IPv6 underlay, a same-namespace veth peer (link), vlan ids', () => {
    const text = JSON.stringify([
      {ifindex: 9, ifname: 'vx6', flags: [], linkinfo: {info_kind: 'vxlan', info_data: {id: 42, remote6: 'fd00::3', local6: 'fd00::2', link: 'eth0', port: 4789, learning: true, ttl: 64}}},
      {ifindex: 10, ifname: 'va', link: 'vb', flags: [], linkinfo: {info_kind: 'veth'}},
      {ifindex: 11, ifname: 'eth0.100', link: 'eth0', flags: [], linkinfo: {info_kind: 'vlan', info_data: {protocol: '802.1Q', id: 100, flags: ['REORDER_HDR']}}},
      {ifindex: 12, ifname: 'bond0', flags: [], linkinfo: {info_kind: 'bond', info_data: {mode: 'active-backup'}}},
    ])
    expect(parseLinks(text).value).toEqual([
      {ifindex: 9, ifname: 'vx6', flags: [], kind: 'vxlan', vxlan: {id: 42, port: 4789, local: 'fd00::2', remote: 'fd00::3', dev: 'eth0', learning: true, ttl: 64}},
      {ifindex: 10, ifname: 'va', link: 'vb', flags: [], kind: 'veth'},
      {ifindex: 11, ifname: 'eth0.100', link: 'eth0', flags: [], kind: 'vlan', vlanId: 100},
      {ifindex: 12, ifname: 'bond0', flags: [], kind: 'bond'},
    ])
  })

  it('keeps good entries and reports bad ones by index', () => {
    const {value, problems} = parseLinks('[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"]}, 7, {"ifname":"x"}, {"ifindex":3,"ifname":"e","mtu":"1500"}]')
    expect(value).toEqual([
      {ifindex: 1, ifname: 'lo', flags: ['LOOPBACK']},
      {ifindex: 3, ifname: 'e', flags: []},
    ])
    expect(problems.map((p) => p.message)).toEqual([
      'ip link[1]: expected an object, got number',
      'ip link[2]: missing ifindex or ifname',
      'ip link[3]: field "mtu" should be a number, got string',
    ])
  })

  it('whole-input failures are line 0 problems, empty output is an empty list', () => {
    expect(parseLinks('')).toEqual({value: [], problems: []})
    expect(parseLinks('{"ifindex":1}').problems).toEqual([{line: 0, message: 'ip link: expected a JSON array at top level, got object', text: '{"ifindex":1}'}])
    const bad = parseLinks('[{"ifindex":1,')
    expect(bad.value).toEqual([])
    expect(bad.problems[0]?.line).toBe(0)
    expect(bad.problems[0]?.message).toMatch(/^ip link: invalid JSON/)
  })

  it('never throws (fuzz)', () => fuzzJsonParser(samplesFor('links'), parseLinks))
})
