/**
 * Pod veth or node uplink, judged by the addresses a veth holds in both families (shared by trace's
 * bridge hop and doctor's veth checks): an IPv6-only node's uplink holds only its /64.
 */
import {describe, expect, it} from 'vitest'
import type {NodeDatapath} from '../../../src/lib/model/node.js'
import {isPodFacingVeth, isSubnetAddress} from '../../../src/lib/model/pod-veth.js'
import type {InterfaceAddress} from '../../../src/lib/parse/iproute2/addrs.js'
import type {Link} from '../../../src/lib/parse/iproute2/links.js'

const veth = (ifname: string, ifindex: number): Link => ({ifindex, ifname, flags: ['UP'], kind: 'veth', linkNetnsid: 0})
const addr = (family: 'inet' | 'inet6', cidr: string, scope = 'global'): InterfaceAddress => {
  const [local = '', len = ''] = cidr.split('/')
  return {family, local, prefixlen: Number(len), cidr, scope}
}

function node(addrs: Record<string, InterfaceAddress[]>): NodeDatapath {
  const entries = Object.entries(addrs).map(([ifname, list], i) => ({ifindex: i + 2, ifname, flags: ['UP'], addrs: list}))
  return {name: 'node-1', addrs: entries, evidence: {}} as unknown as NodeDatapath
}

describe('isPodFacingVeth', () => {
  it('a veth with a subnet address of either family is an uplink; host and link-local addresses do not count', () => {
    const n = node({
      'eth0-v4': [addr('inet', '10.100.0.2/24'), addr('inet6', 'fe80::1/64', 'link')],
      'eth0-v6': [addr('inet6', 'fd00:10:100::2/64'), addr('inet6', 'fe80::2/64', 'link')],
      'cali-v4': [addr('inet', '169.254.1.1/32')],
      'cali-v6': [addr('inet6', 'fe80::ecee:eeff:feee:eeee/64', 'link'), addr('inet6', 'fd00::1/128')],
      'veth-bare': [],
    })
    const judged = ['eth0-v4', 'eth0-v6', 'cali-v4', 'cali-v6', 'veth-bare'].map((name, i) => [name, isPodFacingVeth(n, veth(name, i + 2))])
    expect(judged).toEqual([['eth0-v4', false], ['eth0-v6', false], ['cali-v4', true], ['cali-v6', true], ['veth-bare', true]])
    // Not a veth, or its peer in this namespace: never a pod's.
    expect([isPodFacingVeth(n, {...veth('veth-bare', 6), kind: 'bridge'}), isPodFacingVeth(n, {ifindex: 6, ifname: 'veth-bare', flags: [], kind: 'veth'})]).toEqual([false, false])
  })

  it('isSubnetAddress: wider than /32 or /128, outside host and link scope', () => {
    expect([
      addr('inet', '10.0.0.1/24'), addr('inet', '10.0.0.1/32'), addr('inet6', 'fd00::1/64'), addr('inet6', 'fd00::1/128'),
      addr('inet6', 'fe80::1/64', 'link'), addr('inet', '127.0.0.1/8', 'host'),
    ].map(isSubnetAddress)).toEqual([true, false, true, false, false, false])
  })
})
