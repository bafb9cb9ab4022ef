import {describe, expect, it} from 'vitest'
import {parseBridgeLinks, parseFdb} from '../../../../src/lib/parse/iproute2/bridge.js'
import {fuzzJsonParser} from './json-fuzz.js'
import {samplesFor} from './fixtures.js'

describe('parseBridgeLinks', () => {
  it('uses master, not the misleading "link" (peer index resolved in the wrong namespace)', () => {
    const text = '[{"ifindex":4,"link":"eth0","ifname":"veth-pod1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"master":"cbr0","state":"forwarding","priority":32,"cost":2}]'
    expect(parseBridgeLinks(text)).toEqual({
      value: [{ifindex: 4, ifname: 'veth-pod1', master: 'cbr0', state: 'forwarding', priority: 32, cost: 2, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1450}],
      problems: [],
    })
  })

  it('reports entries without ifname', () => {
    const r = parseBridgeLinks('[{"ifindex":4},{"ifname":"p","state":3}]')
    expect(r.value).toEqual([{ifname: 'p', flags: []}])
    expect(r.problems.map((p) => p.message)).toEqual(['bridge link[0]: missing ifname', 'bridge link[1]: field "state" should be a string, got number'])
  })

  it('never throws (fuzz)', () => fuzzJsonParser(samplesFor('bridgeLinks'), parseBridgeLinks))
})

describe('parseFdb', () => {
  it('reads vxlan VTEP entries, bridge-learned entries, vlan/vni/port', () => {
    const text = JSON.stringify([
      {mac: '00:00:00:00:00:00', ifname: 'flannel.1', dst: '10.100.0.3', flags: ['self'], state: 'permanent'},
      {mac: '1E:27:16:75:02:C9', ifname: 'veth1', flags: [], master: 'cbr0', state: ''},
      {mac: 'aa:bb:cc:00:00:01', ifname: 'vxlan0', dst: 'fd00::3', vni: 100, port: 4789, vlan: 10, flags: ['self', 'extern_learn'], state: 'static'},
    ])
    expect(parseFdb(text)).toEqual({
      value: [
        {mac: '00:00:00:00:00:00', ifname: 'flannel.1', dst: '10.100.0.3', flags: ['self'], state: 'permanent'},
        {mac: '1e:27:16:75:02:c9', ifname: 'veth1', master: 'cbr0', flags: [], state: ''},
        {mac: 'aa:bb:cc:00:00:01', ifname: 'vxlan0', dst: 'fd00::3', vni: 100, port: 4789, vlan: 10, flags: ['self', 'extern_learn'], state: 'static'},
      ],
      problems: [],
    })
  })

  it('never throws (fuzz)', () => fuzzJsonParser(samplesFor('fdb'), parseFdb))
})
