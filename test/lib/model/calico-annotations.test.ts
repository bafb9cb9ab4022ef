import {describe, expect, it} from 'vitest'
import {calicoNodeAddresses, calicoVtepMismatch} from '../../../src/lib/model/cluster/calico-annotations.js'

const meta = (annotations: Record<string, unknown>) => ({name: 'node-1', annotations})

describe("calico-node's Node annotations", () => {
  it('reads the IPv4 and IPv6 node and VXLAN tunnel addresses, the node address without its prefix, IPv6 in RFC 5952 form', () => {
    expect(
      calicoNodeAddresses(
        meta({
          'projectcalico.org/IPv4Address': '10.100.0.2/24',
          'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.101.64',
          'projectcalico.org/IPv6Address': 'fd00:0::2/64',
          'projectcalico.org/IPv6VXLANTunnelAddr': 'FD00:10:244::1',
          'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.101.65',
        }),
      ),
    ).toEqual({ipv4Address: '10.100.0.2', ipv4VxlanTunnelAddr: '10.244.101.64', ipv6Address: 'fd00::2', ipv6VxlanTunnelAddr: 'fd00:10:244::1'})
  })

  it('leaves malformed values out and never throws; a Node without them has none', () => {
    expect(
      calicoNodeAddresses(
        meta({
          'projectcalico.org/IPv4Address': '10.100.0.2/abc',
          'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.101.64/32',
          'projectcalico.org/IPv6Address': '10.100.0.2/24',
          'projectcalico.org/IPv6VXLANTunnelAddr': 7,
        }),
      ),
    ).toBeUndefined()
    for (const m of [undefined, null, 'x', [], {annotations: 'x'}, meta({})]) expect(calicoNodeAddresses(m)).toBeUndefined()
  })

  it('a gateway that is not the owner’s tunnel address is a mismatch on vxlan.calico only, and only where the owner is annotated', () => {
    const nodes = [
      {name: 'node-1', calico: {ipv4VxlanTunnelAddr: '10.244.101.64'}},
      {name: 'node-2', calico: {ipv4VxlanTunnelAddr: '10.244.102.64'}},
    ]
    const [, n2] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    expect(calicoVtepMismatch(nodes, n2, '10.244.102.64', 'vxlan.calico', 'x')).toBeUndefined()
    expect(calicoVtepMismatch(nodes, n2, '10.244.102.70', 'flannel.1', 'x')).toBeUndefined()
    expect(calicoVtepMismatch(nodes, {name: 'node-3'}, '10.244.102.70', 'vxlan.calico', 'x')).toBeUndefined()
    expect(calicoVtepMismatch(nodes, n2, '10.244.101.64', 'vxlan.calico', 'x')?.holder).toBe('node-1')
    expect(calicoVtepMismatch(nodes, n2, '10.244.102.70', 'vxlan.calico', 'x')?.holder).toBeUndefined()
  })
})
