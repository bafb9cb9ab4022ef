/**
 * Shapes this test host cannot build (no ipip/BIRD, no cilium, no AWS ENIs), from the
 * *.handwritten.json fixtures described in test/fixtures/iproute2/README.md.
 */
import {describe, expect, it} from 'vitest'
import {lookupRoute, type RoutingTables} from '../../../../src/lib/net/route-lookup.js'
import {parseLinks} from '../../../../src/lib/parse/iproute2/links.js'
import {parseRoutes} from '../../../../src/lib/parse/iproute2/routes.js'
import {parseRules} from '../../../../src/lib/parse/iproute2/rules.js'
import {capturedStdout} from './fixtures.js'

function tables(file: string): RoutingTables {
  const routes = parseRoutes(capturedStdout(file, 'node', 'routes4'), 4)
  const rules = parseRules(capturedStdout(file, 'node', 'rules4'), 4)
  expect([...routes.problems, ...rules.problems]).toEqual([])
  return {routes: routes.value, rules: rules.value}
}

describe('calico (IPIP, BIRD)', () => {
  const F = 'calico-ipip-node.handwritten.json'
  it('reads /32 scope-link routes to cali* devices, the BIRD blackhole for the node block, tunl0', () => {
    const t = tables(F)
    expect(t.routes.find((r) => r.dst === '192.168.196.1/32')).toEqual({family: 4, table: 'main', type: 'unicast', dst: '192.168.196.1/32', prefixLength: 32, dev: 'cali1234567890a', scope: 'link', flags: [], metric: 0, index: 5})
    expect(t.routes.find((r) => r.type === 'blackhole')).toMatchObject({dst: '192.168.196.0/26', protocol: 'bird'})
    const links = parseLinks(capturedStdout(F, 'node', 'links'))
    expect(links.problems).toEqual([])
    expect(links.value.find((l) => l.ifname === 'tunl0')).toMatchObject({kind: 'ipip', mtu: 1480, linkType: 'ipip'})
    expect(links.value.filter((l) => l.ifname.startsWith('cali')).map((l) => [l.address, l.linkNetnsid])).toEqual([
      ['ee:ee:ee:ee:ee:ee', 0],
      ['ee:ee:ee:ee:ee:ee', 1],
    ])
  })

  it('a local pod goes to its cali device; an unallocated address in the block hits the blackhole; remote blocks go via tunl0', () => {
    const t = tables(F)
    expect(lookupRoute(t, {dst: '192.168.196.2'})).toMatchObject({kind: 'unicast', dev: 'calie1f1b2c3d4e'})
    expect(lookupRoute(t, {dst: '192.168.196.9'})).toMatchObject({kind: 'blackhole', route: {protocol: 'bird'}})
    expect(lookupRoute(t, {dst: '192.168.45.70'})).toMatchObject({kind: 'unicast', dev: 'tunl0', gateway: '10.0.0.5'})
  })
})

describe('cilium (vxlan tunnel, legacy host routing)', () => {
  const F = 'cilium-vxlan-node.handwritten.json'
  it('reads the cilium_host/cilium_net pair, collect-metadata vxlan and lxc endpoints', () => {
    const {value, problems} = parseLinks(capturedStdout(F, 'node', 'links'))
    expect(problems).toEqual([])
    expect(value.find((l) => l.ifname === 'cilium_host')).toMatchObject({kind: 'veth', link: 'cilium_net'})
    expect(value.find((l) => l.ifname === 'cilium_vxlan')?.vxlan).toEqual({id: 0, port: 8472, learning: true, ttl: 0})
    expect(value.find((l) => l.ifname.startsWith('lxc'))).toMatchObject({kind: 'veth', linkIndex: 10, linkNetnsid: 0})
  })

  it('pod CIDRs route via cilium_host (the route "metrics" array is ignored, not a problem)', () => {
    const t = tables(F)
    expect(lookupRoute(t, {dst: '10.0.2.9'})).toMatchObject({kind: 'unicast', dev: 'cilium_host', gateway: '10.0.1.139', prefsrc: '10.0.1.139'})
  })
})

describe('EKS aws-vpc-cni (per-ENI policy routing)', () => {
  const F = 'eks-vpc-cni-node.handwritten.json'
  it('reads duplicate-priority rules and the connmark rule', () => {
    const t = tables(F)
    expect(t.rules?.map((r) => [r.priority, r.src, r.dst, r.fwmark, r.fwmask, r.table])).toEqual([
      [0, undefined, undefined, undefined, undefined, 'local'],
      [512, undefined, '10.0.97.30/32', undefined, undefined, 'main'],
      [512, undefined, '10.0.99.20/32', undefined, undefined, 'main'],
      [1024, undefined, undefined, 0x80, 0x80, 'main'],
      [1536, '10.0.97.30/32', undefined, undefined, undefined, '2'],
      [32766, undefined, undefined, undefined, undefined, 'main'],
      [32767, undefined, undefined, undefined, undefined, 'default'],
    ])
  })

  it('traffic from a secondary-ENI pod leaves by eth1 (table 2); traffic to it goes to its veth', () => {
    const t = tables(F)
    expect(lookupRoute(t, {dst: '8.8.8.8', src: '10.0.97.30', iif: 'eni1a2b3c4d5e6'})).toMatchObject({kind: 'unicast', table: '2', dev: 'eth1', gateway: '10.0.96.1'})
    expect(lookupRoute(t, {dst: '8.8.8.8', src: '10.0.99.20', iif: 'enif0e1d2c3b4a'})).toMatchObject({table: 'main', dev: 'eth0'})
    expect(lookupRoute(t, {dst: '10.0.97.30', iif: 'eth1', src: '10.1.1.1'})).toMatchObject({table: 'main', dev: 'eni1a2b3c4d5e6', rule: {priority: 512}})
  })
})
