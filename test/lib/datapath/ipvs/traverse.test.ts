/** A packet through a kube-proxy IPVS-mode node: netfilter, the virtual service's real servers as branches, netfilter again. */
import {describe, expect, it} from 'vitest'
import {findVirtualService, traverseIpvs} from '../../../../src/lib/datapath/ipvs/traverse.js'
import {totalProbability} from '../../../../src/lib/datapath/netfilter/outcomes.js'
import type {NetfilterContext, Packet} from '../../../../src/lib/datapath/netfilter/packet.js'
import type {RouteFn} from '../../../../src/lib/datapath/netfilter/traverse.js'
import {parseIptablesSave} from '../../../../src/lib/parse/iptables-save.js'
import {parseIpsetSave} from '../../../../src/lib/parse/ipset.js'
import {parseIpvsadmSave} from '../../../../src/lib/parse/ipvsadm.js'
import {ipvsFixture} from '../../../fixtures/ipvs/snapshot.js'

const dump = parseIptablesSave(ipvsFixture('iptables-save.node-1.txt')).value
const table = parseIpvsadmSave(ipvsFixture('ipvsadm-save.node-1.txt')).value
const ipsets = new Map(parseIpsetSave(ipvsFixture('ipset-save.node-1.txt')).value.sets.map((s) => [s.name, s]))
const CLUSTER_IPS = ['10.96.0.53', '10.96.0.80', '10.96.0.81', '10.96.0.82', '10.96.0.99']
const ctx: NetfilterContext = {
  localAddresses: new Set(['127.0.0.1', '10.100.0.2', '10.244.1.1', ...CLUSTER_IPS]),
  interfaceAddresses: new Map([['eth0', ['10.100.0.2']], ['cbr0', ['10.244.1.1']], ['lo', ['127.0.0.1']]]),
  ipsets,
}
/** node-1's routes: its pod range on cbr0, node-2's by eth0, its own addresses local. */
const route: RouteFn = (p) => (ctx.localAddresses.has(p.dst) ? {local: true} : {local: false, outIface: p.dst.startsWith('10.244.1.') ? 'cbr0' : 'eth0'})
const pkt = (over: Partial<Packet>): Packet => ({family: 4, src: '10.244.1.2', dst: '10.96.0.80', protocol: 'tcp', sport: 40000, dport: 80, inIface: 'cbr0', mark: 0, ctstate: 'NEW', ...over})
const name = () => 'default/web:http'

describe('traverseIpvs', () => {
  it("a ClusterIP from a pod: PREROUTING, INPUT, one branch per real server of weight > 0 (rr: equal shares), OUTPUT, POSTROUTING", () => {
    const out = traverseIpvs(dump, table, 'forward', pkt({src: '10.244.1.3'}), ctx, route, {name})
    expect(out.map((o) => [o.verdict, o.delivery, o.packet.dst, o.packet.dport, o.probability, o.nat.masquerade !== undefined])).toEqual([
      ['ACCEPT', 'out', '10.244.1.2', 8080, 0.25, false],
      ['ACCEPT', 'out', '10.244.1.3', 8080, 0.25, true],
      ['ACCEPT', 'out', '10.244.2.2', 8080, 0.25, false],
      ['ACCEPT', 'out', '10.244.2.3', 8080, 0.25, false],
    ])
    expect(totalProbability(out)).toBe(1)
    // The weight-0 real server (an endpoint being drained) is never picked.
    expect(out.some((o) => o.packet.dst === '10.244.2.9')).toBe(false)
    const trail = out[0]?.trail.map((t) => `${t.table} ${t.chain}: ${t.raw} (${t.effect})`)
    expect(trail).toEqual([
      'nat PREROUTING: -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES (jump KUBE-SERVICES)',
      'nat KUBE-SERVICES: -A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT (jump KUBE-NODE-PORT)',
      'nat KUBE-SERVICES: -A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT (ACCEPT)',
      'filter INPUT: -A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER (jump KUBE-IPVS-FILTER)',
      'filter KUBE-IPVS-FILTER: -A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN (RETURN)',
      'filter INPUT: -A INPUT -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL (jump KUBE-PROXY-FIREWALL)',
      'filter INPUT: -A INPUT -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT (jump KUBE-NODE-PORT)',
      'filter INPUT: -A INPUT -j KUBE-FIREWALL (jump KUBE-FIREWALL)',
      'filter INPUT: :INPUT ACCEPT (policy ACCEPT)',
      'ipvs TCP 10.96.0.80:80: -A -t 10.96.0.80:80 -s rr (virtual service (rr))',
      'ipvs TCP 10.96.0.80:80: -a -t 10.96.0.80:80 -r 10.244.1.2:8080 -m -w 1 (DNAT → 10.244.1.2:8080 (rr: 25%))',
      'filter OUTPUT: -A OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER (jump KUBE-IPVS-OUT-FILTER)',
      'filter OUTPUT: -A OUTPUT -j KUBE-FIREWALL (jump KUBE-FIREWALL)',
      'filter OUTPUT: :OUTPUT ACCEPT (policy ACCEPT)',
      'nat POSTROUTING: -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING (jump KUBE-POSTROUTING)',
      'nat KUBE-POSTROUTING: -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN (RETURN)',
      'nat POSTROUTING: :POSTROUTING ACCEPT (policy ACCEPT)',
    ])
    expect(out[0]?.nat.dnat).toEqual({ip: '10.244.1.2', port: 8080, original: {ip: '10.96.0.80', port: 80}, table: 'ipvs', chain: 'TCP 10.96.0.80:80', line: 5})
    expect(out[0]?.trail.find((t) => t.ipvs && t.line === 5)).toMatchObject({comment: 'default/web:http', branch: 0.25})
    // The pod reaching itself through its Service is masqueraded by KUBE-LOOP-BACK (hairpin).
    expect(out[1]?.trail.at(-1)?.raw).toMatch(/--match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE/)
  })

  it('a NodePort from another node is marked in PREROUTING and masqueraded after IPVS', () => {
    const out = traverseIpvs(dump, table, 'forward', pkt({src: '10.244.2.2', dst: '10.100.0.2', dport: 30080, inIface: 'eth0'}), ctx, route)
    expect(out.map((o) => [o.packet.dst, o.probability, o.packet.src, o.nat.masquerade?.address])).toEqual([
      ['10.244.1.2', 0.25, '10.244.1.1', '10.244.1.1'], ['10.244.1.3', 0.25, '10.244.1.1', '10.244.1.1'],
      ['10.244.2.2', 0.25, '10.100.0.2', '10.100.0.2'], ['10.244.2.3', 0.25, '10.100.0.2', '10.100.0.2'],
    ])
  })

  it('externalTrafficPolicy Local: the NodePort has only local real servers and keeps the client address', () => {
    const out = traverseIpvs(dump, table, 'forward', pkt({src: '192.0.2.9', dst: '10.100.0.2', dport: 30082, inIface: 'eth0'}), ctx, route)
    expect(out.map((o) => [o.packet.dst, o.probability, o.packet.src, o.nat.masquerade])).toEqual([
      ['10.244.1.2', 0.5, '192.0.2.9', undefined], ['10.244.1.3', 0.5, '192.0.2.9', undefined],
    ])
  })

  it('a virtual service without real servers: IPVS answers ICMP port unreachable and drops the packet', () => {
    const out = traverseIpvs(dump, table, 'forward', pkt({dst: '10.96.0.99'}), ctx, route, {name: () => 'default/empty:http'})
    expect(out.map((o) => [o.verdict, o.rejectWith, o.at, o.probability, o.trail.at(-1)?.effect])).toEqual([
      ['REJECT', 'icmp-port-unreachable', {hook: 'INPUT', table: 'ipvs'}, 1, 'no real server: IPVS answers ICMP port unreachable and drops it'],
    ])
  })

  it('the node itself: nat OUTPUT, then IPVS at LOCAL_OUT; the VIP as source is masqueraded', () => {
    const out = traverseIpvs(dump, table, 'local-out', pkt({src: '10.96.0.80', inIface: undefined}), ctx, route)
    expect(out.map((o) => [o.packet.dst, o.probability, o.packet.mark, o.nat.masquerade !== undefined])).toEqual([
      ['10.244.1.2', 0.25, 0, true], ['10.244.1.3', 0.25, 0, true], ['10.244.2.2', 0.25, 0, true], ['10.244.2.3', 0.25, 0, true],
    ])
    expect(out[0]?.trail.map((t) => `${t.table} ${t.chain}`).slice(0, 5)).toEqual(['nat OUTPUT', 'nat KUBE-SERVICES', 'nat KUBE-MARK-MASQ', 'nat KUBE-SERVICES', 'nat KUBE-SERVICES'])
  })

  it('weights are probabilities for wrr; weight 0 only means draining; non-NEW packets are not scheduled', () => {
    const wrr = parseIpvsadmSave('-A -t 10.96.0.80:80 -s wrr\n-a -t 10.96.0.80:80 -r 10.244.1.2:8080 -m -w 3\n-a -t 10.96.0.80:80 -r 10.244.2.2:8080 -m -w 1\n-a -t 10.96.0.80:80 -r 10.244.2.3:8080 -m -w 0\n').value
    expect(traverseIpvs(dump, wrr, 'forward', pkt({}), ctx, route).map((o) => [o.packet.dst, o.probability])).toEqual([['10.244.1.2', 0.75], ['10.244.2.2', 0.25]])
    const drained = parseIpvsadmSave('-A -t 10.96.0.80:80 -s rr\n-a -t 10.96.0.80:80 -r 10.244.2.3:8080 -m -w 0\n').value
    expect(traverseIpvs(dump, drained, 'forward', pkt({}), ctx, route)[0]?.trail.at(-1)?.effect).toBe('no real server (1 real server(s) of weight 0, being drained): IPVS answers ICMP port unreachable and drops it')
    expect(findVirtualService(table, pkt({ctstate: 'ESTABLISHED'}))?.line).toBe(4)
    expect(traverseIpvs(dump, table, 'forward', pkt({ctstate: 'ESTABLISHED'}), ctx, route).map((o) => [o.verdict, o.delivery, o.packet.dst])).toEqual([['ACCEPT', 'local', '10.96.0.80']])
  })

  it('a persistent virtual service (sessionAffinity: ClientIP) says that a returning client keeps its real server', () => {
    const sticky = parseIpvsadmSave('-A -t 10.96.0.80:80 -s rr -p 10800\n-a -t 10.96.0.80:80 -r 10.244.1.2:8080 -m -w 1\n-a -t 10.96.0.80:80 -r 10.244.2.2:8080 -m -w 1\n').value
    const out = traverseIpvs(dump, sticky, 'forward', pkt({}), ctx, route)
    expect(out.map((o) => o.probability)).toEqual([0.5, 0.5])
    for (const o of out) expect(o.notes).toContain('TCP 10.96.0.80:80 is persistent for 10800 s (sessionAffinity: ClientIP): a client scheduled within that time goes back to the same real server; the shares are those of a client not seen before')
    // Without -p, no such note.
    expect(traverseIpvs(dump, table, 'forward', pkt({}), ctx, route).flatMap((o) => o.notes).some((n) => /persistent/.test(n))).toBe(false)
  })
})
