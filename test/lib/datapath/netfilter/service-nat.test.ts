import {describe, expect, it} from 'vitest'
import {evaluateHook} from '../../../../src/lib/datapath/netfilter/evaluate.js'
import {totalProbability} from '../../../../src/lib/datapath/netfilter/outcomes.js'
import {serviceNat} from '../../../../src/lib/datapath/netfilter/service-nat.js'
import {endpointChainName, serviceChainName} from '../../../../src/lib/lab/kube-proxy-rules.js'
import {cluster, kubeDump, NODE_IP, nodeCtx, tcp} from './dumps.js'

const dump = kubeDump(cluster)
const sep = (ep: string, spn = 'shop/web:http'): string => endpointChainName(spn, 'tcp', ep)

describe('serviceNat on the kube-proxy layout', () => {
  it('ClusterIP with three endpoints: three DNAT outcomes of 1/3 each, each with its KUBE-SEP DNAT rule in the trail', () => {
    const outcomes = evaluateHook(dump, 'nat', 'PREROUTING', tcp({src: '10.244.1.20'}), nodeCtx)
    expect(outcomes.map((o) => o.packet.dst)).toEqual(['10.244.1.5', '10.244.2.7', '10.244.3.9'])
    expect(Math.abs(totalProbability(outcomes) - 1)).toBeLessThan(1e-9)
    for (const o of outcomes) {
      expect(o.verdict).toBe('ACCEPT')
      expect(o.probability).toBeCloseTo(1 / 3, 9)
      expect(o.packet.dport).toBe(8080)
      const chain = sep(`${o.packet.dst}:8080`)
      const dnat = o.trail.at(-1)
      expect(dnat).toMatchObject({table: 'nat', chain, kind: 'rule', effect: `DNAT → ${o.packet.dst}:8080`})
      expect(dnat?.raw).toBe(`-A ${chain} -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination ${o.packet.dst}:8080`)
      expect(o.trail.map((t) => t.chain)).toEqual(['PREROUTING', 'KUBE-SERVICES', serviceChainName('KUBE-SVC-', 'shop/web:http', 'tcp'), chain])
    }
    // The statistic splits are on the trail with their conditional chances.
    expect(outcomes.map((o) => o.trail[2]?.branch)).toEqual([expect.closeTo(1 / 3, 9), expect.closeTo(1 / 2, 9), undefined])

    const r = serviceNat(dump, tcp({src: '10.244.1.20'}), nodeCtx)
    expect(r.dnat.map((d) => [d.ip, d.port, d.chain, d.verdict, d.masquerade])).toEqual([
      ['10.244.1.5', 8080, sep('10.244.1.5:8080'), 'ACCEPT', false],
      ['10.244.2.7', 8080, sep('10.244.2.7:8080'), 'ACCEPT', false],
      ['10.244.3.9', 8080, sep('10.244.3.9:8080'), 'ACCEPT', false],
    ])
    expect(Math.abs(r.dnat.reduce((a, d) => a + d.probability, 0) - 1)).toBeLessThan(1e-9)
    expect(r.masquerade).toBe(false)
    expect(r.rejected).toBeUndefined()
    expect(r.dropped).toBeUndefined()
    expect(r.uncertain).toEqual([])
    // Every endpoint shares the walk to the Service chain.
    expect(r.trail.map((t) => t.chain)).toEqual(['PREROUTING', 'KUBE-SERVICES'])
    for (const d of r.dnat) expect(dump.tables.find((t) => t.name === 'nat')?.chainIndex.get(d.chain)?.rules.some((x) => x.line === d.ruleLine && x.target?.kind === 'dnat')).toBe(true)
  })

  it('a Service without endpoints is REJECTed by the filter table', () => {
    const r = serviceNat(dump, tcp({dst: '10.96.0.60'}), nodeCtx)
    expect(r.dnat).toEqual([])
    expect(r.rejected).toMatchObject({reason: 'shop/empty:http has no endpoints', rejectWith: 'icmp-port-unreachable', probability: 1})
    expect(r.rejected?.rule).toMatchObject({table: 'filter', chain: 'KUBE-SERVICES'})
    expect(r.outcomes).toHaveLength(1)
    expect(r.outcomes[0]).toMatchObject({verdict: 'REJECT', at: {hook: 'FORWARD', table: 'filter'}})
    // From the node itself: filter OUTPUT → KUBE-SERVICES rejects the same way.
    const local = serviceNat(dump, tcp({dst: '10.96.0.60', src: NODE_IP, inIface: undefined}), nodeCtx)
    expect(local.path).toBe('local-out')
    expect(local.rejected?.reason).toBe('shop/empty:http has no endpoints')
    expect(local.outcomes[0]?.at).toEqual({hook: 'OUTPUT', table: 'filter'})
  })

  it('its NodePort is REJECTed too, on INPUT through KUBE-EXTERNAL-SERVICES', () => {
    const r = serviceNat(dump, tcp({src: '203.0.113.9', dst: NODE_IP, dport: 30060, inIface: 'eth0'}), nodeCtx)
    expect(r.rejected?.reason).toBe('shop/empty:http has no endpoints')
    expect(r.rejected?.rule?.chain).toBe('KUBE-EXTERNAL-SERVICES')
    expect(r.outcomes[0]?.at).toEqual({hook: 'INPUT', table: 'filter'})
  })

  it('externalTrafficPolicy Local reached on a node without a local endpoint is DROPped', () => {
    const r = serviceNat(dump, tcp({src: '203.0.113.9', dst: NODE_IP, dport: 30070, inIface: 'eth0'}), nodeCtx)
    expect(r.dnat).toEqual([])
    expect(r.dropped).toMatchObject({reason: 'shop/local:http has no local endpoints', probability: 1})
    expect(r.dropped?.rule?.raw).toContain('-m addrtype --dst-type LOCAL -m tcp --dport 30070 -j DROP')
    // Its ClusterIP still works from a pod: Local policy applies to external traffic only.
    const inside = serviceNat(dump, tcp({dst: '10.96.0.70'}), nodeCtx)
    expect(inside.dnat.map((d) => [d.ip, d.probability])).toEqual([['10.244.2.8', 1]])
  })

  it('NodePort (Cluster policy) from outside: DNAT to every endpoint, masqueraded', () => {
    // The route is injected: local pods behind cbr0, the rest out of eth0.
    const route = (p: {dst: string}): string => (p.dst.startsWith('10.244.1.') ? 'cbr0' : 'eth0')
    const r = serviceNat(dump, tcp({src: '203.0.113.9', dst: NODE_IP, dport: 30080, inIface: 'eth0'}), nodeCtx, {route})
    expect(r.dnat.map((d) => [d.ip, d.port, d.masquerade, d.verdict])).toEqual([['10.244.2.9', 8080, true, 'ACCEPT'], ['10.244.1.6', 8080, true, 'ACCEPT']])
    // MASQUERADE takes the address of the interface the route picked.
    expect(r.outcomes.map((o) => [o.packet.outIface, o.packet.src, o.nat.masquerade?.address])).toEqual([['eth0', NODE_IP, NODE_IP], ['cbr0', '10.244.1.1', '10.244.1.1']])
    expect(r.dnat.map((d) => d.probability)).toEqual([expect.closeTo(0.5, 9), expect.closeTo(0.5, 9)])
    expect(r.masquerade).toBe(true)
    // The mark is set in KUBE-MARK-MASQ, accepted by KUBE-FORWARD, cleared and masqueraded in KUBE-POSTROUTING.
    const effects = r.dnat[0]?.trail.map((t) => `${t.chain}: ${t.effect}`)
    expect(effects).toContain('KUBE-MARK-MASQ: mark 0x0 → 0x4000')
    expect(effects).toContain('KUBE-FORWARD: ACCEPT')
    expect(effects?.slice(-2)).toEqual(['KUBE-POSTROUTING: mark 0x4000 → 0x0', `KUBE-POSTROUTING: MASQUERADE → ${NODE_IP}`])
    expect(r.outcomes.every((o) => o.packet.mark === 0)).toBe(true)
  })

  it('ClusterIP from an off-cluster source is masqueraded; from a pod in the cluster CIDR it is not', () => {
    const off = serviceNat(dump, tcp({src: '172.16.5.5', inIface: 'eth0'}), nodeCtx)
    expect(off.masquerade).toBe(true)
    expect(off.dnat.every((d) => d.masquerade)).toBe(true)
    expect(off.dnat[0]?.trail.find((t) => t.chain.startsWith('KUBE-SVC-') && t.effect === 'jump KUBE-MARK-MASQ')?.raw).toContain('! -s 10.244.0.0/16 -d 10.96.0.50/32')
    const pod = serviceNat(dump, tcp({src: '10.244.1.20'}), nodeCtx)
    expect(pod.masquerade).toBe(false)
    expect(pod.dnat.some((d) => d.masquerade)).toBe(false)
  })

  it('hairpin: a pod reaching itself through its Service is masqueraded (KUBE-SEP -s epIP/32)', () => {
    const r = serviceNat(dump, tcp({src: '10.244.1.5'}), nodeCtx)
    const mine = r.dnat.find((d) => d.ip === '10.244.1.5')
    expect(mine?.masquerade).toBe(true)
    expect(mine?.trail.find((t) => t.effect === 'jump KUBE-MARK-MASQ')?.raw).toBe(`-A ${sep('10.244.1.5:8080')} -s 10.244.1.5/32 -m comment --comment "shop/web:http" -j KUBE-MARK-MASQ`)
    expect(r.dnat.filter((d) => d.ip !== '10.244.1.5').every((d) => !d.masquerade)).toBe(true)
    expect(r.masquerade).toBe(true)
    // A single-endpoint Service whose endpoint is the client: every outcome is masqueraded.
    const solo = serviceNat(kubeDump({clusterCIDR: '10.244.0.0/16', services: [{...cluster.services[0]!, endpoints: [{ip: '10.244.1.5'}]}]}), tcp(), nodeCtx)
    expect(solo.dnat.map((d) => [d.ip, d.probability, d.masquerade])).toEqual([['10.244.1.5', 1, true]])
  })

  it('traffic to no Service passes untouched (and non-NEW packets skip nat)', () => {
    const r = serviceNat(dump, tcp({dst: '10.244.2.7', dport: 8080}), nodeCtx)
    expect(r.dnat).toEqual([])
    expect(r.outcomes.map((o) => [o.verdict, o.probability])).toEqual([['ACCEPT', 1]])
    const est = serviceNat(dump, tcp({ctstate: 'ESTABLISHED', tcpFlags: ['ACK']}), nodeCtx)
    expect(est.dnat).toEqual([])
    expect(est.outcomes[0]?.notes[0]).toMatch(/nat PREROUTING is consulted only for the first packet/)
    expect(est.outcomes[0]?.trail.find((t) => t.chain === 'KUBE-FORWARD')?.effect).toBe('ACCEPT')
  })
})
