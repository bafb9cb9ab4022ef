/** `-m set --match-set` against sets read from `ipset save`, for every type kube-proxy's IPVS mode uses. */
import {describe, expect, it} from 'vitest'
import {evaluateHook} from '../../../../src/lib/datapath/netfilter/evaluate.js'
import {ipsetHas} from '../../../../src/lib/datapath/netfilter/ipset-match.js'
import {toIp} from '../../../../src/lib/datapath/netfilter/addr.js'
import {parseIpsetSave, type Ipset} from '../../../../src/lib/parse/ipset.js'
import type {Packet} from '../../../../src/lib/datapath/netfilter/packet.js'
import {ipvsFixture} from '../../../fixtures/ipvs/snapshot.js'
import {nodeCtx, parse, tcp} from './dumps.js'

const sets = new Map(parseIpsetSave(ipvsFixture('ipset-save.node-1.txt')).value.sets.map((s) => [s.name, s]))
const extra = new Map(parseIpsetSave([
  'create NETS hash:net family inet hashsize 1024 maxelem 65536',
  'add NETS 10.0.0.0/8',
  'create LB-SRC hash:ip,port,net family inet hashsize 1024 maxelem 65536',
  'add LB-SRC 203.0.113.10,tcp:443,198.51.100.0/24',
  'create V6 hash:ip,port family inet6 hashsize 1024 maxelem 65536',
  'add V6 fd00::a,tcp:80',
].join('\n')).value.sets.map((s) => [s.name, s]))
const set = (name: string): Ipset => (sets.get(name) ?? extra.get(name)) as Ipset
const has = (name: string, flags: ('src' | 'dst')[], p: Packet) => ipsetHas(set(name), flags, p, toIp(p.src), toIp(p.dst))

describe('ipsetHas', () => {
  it('hash:ip,port (KUBE-CLUSTER-IP, dst,dst): address, protocol and port together', () => {
    expect(has('KUBE-CLUSTER-IP', ['dst', 'dst'], tcp({dst: '10.96.0.80', dport: 80}))).toBe(1)
    expect(has('KUBE-CLUSTER-IP', ['dst', 'dst'], tcp({dst: '10.96.0.80', dport: 81}))).toBe(0)
    // udp:53 is a member, tcp:53 is not.
    expect(has('KUBE-CLUSTER-IP', ['dst', 'dst'], tcp({dst: '10.96.0.53', dport: 53, protocol: 'udp'}))).toBe(1)
    expect(has('KUBE-CLUSTER-IP', ['dst', 'dst'], tcp({dst: '10.96.0.53', dport: 53}))).toBe(0)
    expect(has('KUBE-CLUSTER-IP', ['dst', 'dst'], {...tcp({dst: '10.96.0.80'}), protocol: 'icmp', dport: undefined})).toBe(0)
    expect(has('KUBE-CLUSTER-IP', ['dst', 'dst'], tcp({dst: '10.96.0.80', dport: undefined}))).toMatch(/destination port is not known/)
    expect(has('KUBE-CLUSTER-IP', ['dst'], tcp({dst: '10.96.0.80'}))).toMatch(/2 dimension\(s\) expected/)
  })

  it('hash:ip,port,ip (KUBE-LOOP-BACK, dst,dst,src): a pod reaching itself through its Service', () => {
    expect(has('KUBE-LOOP-BACK', ['dst', 'dst', 'src'], tcp({src: '10.244.1.2', dst: '10.244.1.2', dport: 8080}))).toBe(1)
    expect(has('KUBE-LOOP-BACK', ['dst', 'dst', 'src'], tcp({src: '10.244.1.3', dst: '10.244.1.2', dport: 8080}))).toBe(0)
  })

  it('bitmap:port (KUBE-NODE-PORT-TCP, dst): the port alone', () => {
    expect(has('KUBE-NODE-PORT-TCP', ['dst'], tcp({dst: '10.100.0.2', dport: 30080}))).toBe(1)
    expect(has('KUBE-NODE-PORT-LOCAL-TCP', ['dst'], tcp({dst: '10.100.0.2', dport: 30080}))).toBe(0)
    expect(has('KUBE-NODE-PORT-LOCAL-TCP', ['dst'], tcp({dst: '10.100.0.2', dport: 30082}))).toBe(1)
  })

  it('hash:ip (KUBE-IPVS-IPS), hash:net, hash:ip,port,net and IPv6', () => {
    expect(has('KUBE-IPVS-IPS', ['dst'], tcp({dst: '10.96.0.99'}))).toBe(1)
    expect(has('KUBE-IPVS-IPS', ['dst'], tcp({dst: '10.100.0.2'}))).toBe(0)
    expect(has('NETS', ['src'], tcp({src: '10.1.2.3'}))).toBe(1)
    expect(has('NETS', ['src'], tcp({src: '192.0.2.1'}))).toBe(0)
    expect(has('LB-SRC', ['dst', 'dst', 'src'], tcp({src: '198.51.100.7', dst: '203.0.113.10', dport: 443}))).toBe(1)
    expect(has('LB-SRC', ['dst', 'dst', 'src'], tcp({src: '198.51.101.7', dst: '203.0.113.10', dport: 443}))).toBe(0)
    expect(has('V6', ['dst', 'dst'], tcp({family: 6, src: 'fd00::1', dst: 'fd00:0::a', dport: 80}))).toBe(1)
    expect(has('KUBE-LOAD-BALANCER', ['dst', 'dst'], tcp())).toBe(0)
  })
})

describe('evaluateHook with ipsets from ipset save', () => {
  const nat = parse(ipvsFixture('iptables-save.node-1.txt'))
  const ctx = {...nodeCtx, localAddresses: new Set([...nodeCtx.localAddresses, '10.100.0.2', '10.96.0.80']), ipsets: sets}

  it("kube-proxy's KUBE-SERVICES: a ClusterIP from a pod is accepted unmarked, from outside the cluster CIDR marked for masquerade", () => {
    const pod = evaluateHook(nat, 'nat', 'PREROUTING', tcp({src: '10.244.1.5', dst: '10.96.0.80', dport: 80}), ctx)
    expect(pod.map((o) => [o.verdict, o.probability, o.packet.mark, o.uncertain, o.trail.at(-1)?.raw])).toEqual([
      ['ACCEPT', 1, 0, [], '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT'],
    ])
    const outside = evaluateHook(nat, 'nat', 'PREROUTING', tcp({src: '192.0.2.9', dst: '10.96.0.80', dport: 80, inIface: 'eth0'}), ctx)
    expect(outside.map((o) => [o.verdict, o.packet.mark])).toEqual([['ACCEPT', 0x4000]])
  })

  it('a NodePort is marked for masquerade, unless its Service has externalTrafficPolicy Local', () => {
    const cluster = evaluateHook(nat, 'nat', 'PREROUTING', tcp({src: '10.244.2.2', dst: '10.100.0.2', dport: 30080, inIface: 'eth0'}), ctx)
    expect(cluster.map((o) => [o.verdict, o.packet.mark])).toEqual([['ACCEPT', 0x4000]])
    const local = evaluateHook(nat, 'nat', 'PREROUTING', tcp({src: '192.0.2.9', dst: '10.100.0.2', dport: 30082, inIface: 'eth0'}), ctx)
    expect(local.map((o) => [o.verdict, o.packet.mark, o.trail.map((t) => t.raw).find((r) => r.includes('LOCAL-TCP'))])).toEqual([
      ['ACCEPT', 0, '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN'],
    ])
  })

  it('without the ipset evidence, a set match is followed both ways and says why', () => {
    const blind = evaluateHook(nat, 'nat', 'PREROUTING', tcp({src: '10.244.1.5', dst: '10.96.0.80', dport: 80}), {...ctx, ipsets: undefined})
    expect(blind.length).toBeGreaterThan(1)
    expect(blind[0]?.uncertain.join('\n')).toMatch(/ipset "KUBE-NODE-PORT-LOCAL-TCP" members are not in the evidence|ipset "KUBE-CLUSTER-IP" members are not in the evidence/)
  })
})
