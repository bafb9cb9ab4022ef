import {describe, expect, it} from 'vitest'
import {planLab} from '../../../../src/lib/lab/plan.js'
import {realisePlan, shiftAddress} from '../../../../src/lib/lab/real/realise.js'

describe('realisePlan', () => {
  const plan = planLab({name: 'r', nodes: 3, podsPerNode: 2, topology: 'vxlan'})
  const cidrs = {'node-1': '10.244.0.0/24', 'node-2': '10.244.1.0/24', 'node-3': '10.244.2.0/24'}

  it('is the plan itself without facts', () => {
    expect(realisePlan(plan, undefined)).toBe(plan)
  })

  it("moves every address of a node's planned CIDR to the CIDR KCM allocated", () => {
    const real = realisePlan(plan, {podCIDRs: cidrs})
    expect(real.nodes.map((n) => [n.name, n.podCIDR, n.bridge?.ip, n.bridge?.mac, n.vxlan?.ip])).toEqual([
      ['node-1', '10.244.0.0/24', '10.244.0.1', '0a:58:0a:f4:00:01', '10.244.0.0'],
      ['node-2', '10.244.1.0/24', '10.244.1.1', '0a:58:0a:f4:01:01', '10.244.1.0'],
      ['node-3', '10.244.2.0/24', '10.244.2.1', '0a:58:0a:f4:02:01', '10.244.2.0'],
    ])
    expect(real.nodes[0]?.routes.map((r) => [r.dst, r.via])).toEqual([
      ['default', '10.100.0.1'],
      ['10.244.1.0/24', '10.244.1.0'],
      ['10.244.2.0/24', '10.244.2.0'],
    ])
    expect(real.nodes[0]?.neighbours.map((n) => n.ip)).toEqual(['10.244.1.0', '10.244.2.0'])
    expect(real.pods.map((p) => [p.name, p.ip, p.gateway])).toEqual([
      ['web-1-1', '10.244.0.2', '10.244.0.1'],
      ['web-1-2', '10.244.0.3', '10.244.0.1'],
      ['web-2-1', '10.244.1.2', '10.244.1.1'],
      ['web-2-2', '10.244.1.3', '10.244.1.1'],
      ['web-3-1', '10.244.2.2', '10.244.2.1'],
      ['web-3-2', '10.244.2.3', '10.244.2.1'],
    ])
    expect(real.services.find((s) => s.name === 'dns')?.endpoints.map((e) => e.ip)).toEqual(['10.244.0.2', '10.244.1.2', '10.244.2.2'])
    // Names, the underlay and Service addresses are the plan's.
    expect(real.nodes.map((n) => n.underlayIp)).toEqual(plan.nodes.map((n) => n.underlayIp))
    expect(real.services.map((s) => s.clusterIP)).toEqual(plan.services.map((s) => s.clusterIP))
    expect(real.clusterCIDR).toBe('10.244.0.0/16')
  })

  it('takes the VTEP MACs and per-pod facts the programs chose', () => {
    const real = realisePlan(plan, {
      podCIDRs: cidrs,
      vtepMacs: {'node-1': 'AA:BB:CC:00:00:01', 'node-2': 'aa:bb:cc:00:00:02', 'node-3': 'aa:bb:cc:00:00:03'},
      pods: {'web-1-2': {ip: '10.244.0.9', mac: '3e:00:00:00:00:09', hostVeth: 'veth1234abcd'}},
    })
    expect(real.nodes[0]?.vxlan?.mac).toBe('aa:bb:cc:00:00:01')
    expect(real.nodes[0]?.fdb.map((f) => [f.mac, f.dst])).toEqual([
      ['aa:bb:cc:00:00:02', '10.100.0.3'],
      ['aa:bb:cc:00:00:03', '10.100.0.4'],
    ])
    expect(real.nodes[1]?.neighbours.map((n) => n.mac)).toEqual(['aa:bb:cc:00:00:01', 'aa:bb:cc:00:00:03'])
    const pod = real.pods.find((p) => p.name === 'web-1-2')
    expect([pod?.ip, pod?.mac, pod?.hostVeth]).toEqual(['10.244.0.9', '3e:00:00:00:00:09', 'veth1234abcd'])
    expect(real.services.find((s) => s.name === 'web')?.endpoints.find((e) => e.pod === 'web-1-2')?.ip).toBe('10.244.0.9')
  })

  it("ptp: a node's /32 route to each pod names the veth the ptp plugin created, with the realised addresses", () => {
    const ptp = planLab({name: 'r', nodes: 2, podsPerNode: 1, topology: 'ptp'})
    const real = realisePlan(ptp, {podCIDRs: {'node-1': '10.244.0.0/24', 'node-2': '10.244.1.0/24'}, pods: {'web-2-1': {ip: '10.244.1.2', hostVeth: 'veth0a1b2c3d'}}})
    expect(real.nodes.flatMap((n) => n.routes.filter((r) => r.purpose === 'pod').map((r) => `${n.name}: ${r.dst} dev ${r.dev} scope ${r.scope}`))).toEqual([
      'node-1: 10.244.0.2/32 dev veth1 scope host',
      'node-2: 10.244.1.2/32 dev veth0a1b2c3d scope host',
    ])
    // A pod created again (a fault's heal) at a new address: the node's route to it follows.
    const again = realisePlan(ptp, {podCIDRs: {'node-1': '10.244.0.0/24', 'node-2': '10.244.1.0/24'}, pods: {'web-2-1': {ip: '10.244.1.3', hostVeth: 'veth99990000'}}})
    expect(again.nodes[1]?.routes.filter((r) => r.purpose === 'pod').map((r) => `${r.dst} dev ${r.dev}`)).toEqual(['10.244.1.3/32 dev veth99990000'])
    expect(real.pods.map((p) => [p.name, p.gateway, p.routes.map((r) => `${r.dst} ${r.via ?? ''}`)])).toEqual([
      ['web-1-1', '10.244.0.1', ['10.244.0.1/32 ', '10.244.0.0/24 10.244.0.1', 'default 10.244.0.1']],
      ['web-2-1', '10.244.1.1', ['10.244.1.1/32 ', '10.244.1.0/24 10.244.1.1', 'default 10.244.1.1']],
    ])
  })

  it('shifts only exact addresses and prefixes inside a planned range', () => {
    const shifts = [{from: (10 << 24) | (244 << 16) | (1 << 8), to: (10 << 24) | (244 << 16), size: 256}].map((s) => ({...s, from: s.from >>> 0, to: s.to >>> 0}))
    expect(shiftAddress('10.244.1.7', shifts)).toBe('10.244.0.7')
    expect(shiftAddress('10.244.1.0/24', shifts)).toBe('10.244.0.0/24')
    expect(shiftAddress('10.244.2.7', shifts)).toBe('10.244.2.7')
    expect(shiftAddress('node-1/pod-cidr/node-2', shifts)).toBe('node-1/pod-cidr/node-2')
    expect(shiftAddress('default', shifts)).toBe('default')
  })
})
