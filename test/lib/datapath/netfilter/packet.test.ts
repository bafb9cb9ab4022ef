import {describe, expect, it} from 'vitest'
import {canonicalIp, netfilterContext} from '../../../../src/lib/datapath/netfilter/packet.js'

describe('netfilterContext', () => {
  it('collects local and broadcast addresses per interface from ip addr', () => {
    const ctx = netfilterContext({addrs: [
      {ifindex: 1, ifname: 'lo', flags: [], addrs: [{family: 'inet', local: '127.0.0.1', prefixlen: 8, cidr: '127.0.0.0/8'}, {family: 'inet6', local: '::1', prefixlen: 128, cidr: '::1/128'}]},
      {ifindex: 2, ifname: 'eth0', flags: [], addrs: [{family: 'inet', local: '192.168.1.10', prefixlen: 24, cidr: '192.168.1.0/24', broadcast: '192.168.1.255'}]},
    ]})
    expect([...ctx.localAddresses]).toEqual(['127.0.0.1', '::1', '192.168.1.10'])
    expect([...(ctx.broadcastAddresses ?? [])]).toEqual(['192.168.1.255'])
    expect(ctx.interfaceAddresses?.get('eth0')).toEqual(['192.168.1.10'])
  })

  it('is empty, not an error, when addresses were not gathered', () => {
    expect(netfilterContext({}).localAddresses.size).toBe(0)
  })

  it('canonicalises IPv6 text the way the address sets hold it', () => {
    expect(canonicalIp('FD00:0:0:0::1')).toBe('fd00::1')
    expect(canonicalIp('not an ip')).toBe('not an ip')
  })
})
