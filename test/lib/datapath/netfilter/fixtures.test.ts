/** The evaluator on real iptables-save output (test/fixtures/netfilter, captured by capture.ts). */
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {evaluateHook} from '../../../../src/lib/datapath/netfilter/evaluate.js'
import {totalProbability} from '../../../../src/lib/datapath/netfilter/outcomes.js'
import {serviceNat} from '../../../../src/lib/datapath/netfilter/service-nat.js'
import {traverse} from '../../../../src/lib/datapath/netfilter/traverse.js'
import {NODE_IP, nodeCtx, parse, tcp} from './dumps.js'

const fixture = (name: string): ReturnType<typeof parse> => parse(readFileSync(new URL(`../../../fixtures/netfilter/${name}`, import.meta.url), 'utf8'))

describe('iptables-save.kube-proxy.txt', () => {
  const dump = fixture('iptables-save.kube-proxy.txt')

  it('shop/web ClusterIP: three endpoints with the kernel-rounded probabilities, summing to 1', () => {
    const r = serviceNat(dump, tcp({src: '10.244.1.20', dst: '10.96.12.34'}), nodeCtx)
    expect(r.dnat.map((d) => `${d.ip}:${d.port}`)).toEqual(['10.244.1.5:8080', '10.244.2.7:8080', '10.244.2.8:8080'])
    // iptables-save prints 0.33333333349, not 1/3: the kernel keeps the probability as a 31-bit fraction.
    expect(r.dnat[0]?.probability).toBe(0.33333333349)
    expect(Math.abs(r.dnat.reduce((a, d) => a + d.probability, 0) - 1)).toBeLessThan(1e-9)
    for (const d of r.dnat) expect(d.probability).toBeCloseTo(1 / 3, 9)
    expect(r.dnat[0]?.trail.find((t) => t.chain === 'KUBE-SVC-67NZLRHBNDSAWJRO')).toMatchObject({line: 73, comment: 'shop/web:http -> 10.244.1.5:8080'})
  })

  it('kube-system/dns without endpoints is rejected on both ports', () => {
    for (const protocol of ['udp', 'tcp'] as const) {
      const r = serviceNat(dump, tcp({dst: '10.96.0.10', dport: 53, protocol}), nodeCtx)
      expect(r.rejected).toMatchObject({reason: `kube-system/dns:dns${protocol === 'tcp' ? '-tcp' : ''} has no endpoints`, rejectWith: 'icmp-port-unreachable', probability: 1})
      expect(r.rejected?.rule?.line).toBe(protocol === 'udp' ? 27 : 28)
    }
  })

  it('NodePort 30080 (Local policy) on node-1 reaches only the local endpoint and keeps the client address', () => {
    const r = serviceNat(dump, tcp({src: '203.0.113.9', dst: NODE_IP, dport: 30080, inIface: 'eth0'}), nodeCtx)
    expect(r.dnat.map((d) => [d.ip, d.port, d.probability, d.masquerade])).toEqual([['10.244.1.5', 8080, 1, false]])
    expect(r.dnat[0]?.trail.map((t) => t.chain).slice(0, 5)).toEqual(['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-EXT-67NZLRHBNDSAWJRO', 'KUBE-SVL-67NZLRHBNDSAWJRO'])
  })

  it('from the node itself, nat OUTPUT DNATs and a local source is masqueraded for the Local NodePort', () => {
    const out = traverse(dump, 'local-out', tcp({src: NODE_IP, dst: NODE_IP, dport: 30080, inIface: undefined}), nodeCtx, () => 'cbr0')
    expect(out.map((o) => [o.verdict, o.packet.dst, o.nat.masquerade !== undefined])).toEqual([['ACCEPT', '10.244.1.5', true], ['ACCEPT', '10.244.2.7', true], ['ACCEPT', '10.244.2.8', true]])
    expect(Math.abs(totalProbability(out) - 1)).toBeLessThan(1e-9)
  })
})

describe('iptables-save-c.filter.txt (counters, physdev, recent, goto, policies, TPROXY, NAT ranges)', () => {
  const dump = fixture('iptables-save-c.filter.txt')

  it('FORWARD: a bridged packet from a veth goes to KNET-CNI and is accepted for the pod network', () => {
    const o = evaluateHook(dump, 'filter', 'FORWARD', tcp({src: '10.244.1.7', dst: '10.244.2.7', inIface: 'br0', outIface: 'br0', physdev: {in: 'veth1', out: 'veth2'}}), nodeCtx)
    expect(o.map((x) => [x.verdict, x.trail.map((t) => t.line)])).toEqual([['ACCEPT', [39, 44]]])
    expect(o[0]?.trail[0]?.raw).toBe('[0:0] -A FORWARD -m physdev --physdev-in veth+ --physdev-is-bridged -j KNET-CNI')
  })

  it('FORWARD: routed into br0 without the mark is dropped; otherwise the policy DROP applies', () => {
    expect(evaluateHook(dump, 'filter', 'FORWARD', tcp({inIface: 'eth0', outIface: 'br0'}), nodeCtx).map((x) => [x.verdict, x.decidedBy, x.trail.at(-1)?.line])).toEqual([['DROP', 'rule', 40]])
    // The LOG sampling rule (statistic nth) changes nothing, so it is noted but not split on.
    const marked = evaluateHook(dump, 'filter', 'FORWARD', tcp({inIface: 'eth0', outIface: 'br0', mark: 0x4000}), nodeCtx)
    expect(marked.map((x) => [x.verdict, x.decidedBy, x.probability])).toEqual([['DROP', 'policy', 1]])
    expect(marked[0]?.trail.map((t) => [t.line, t.branch])).toEqual([[42, 0.1], [25, undefined]])
  })

  it('KNET-CNI: an unknown-source UDP packet from a low port is dropped; the fall-through goes to KNET-SSH', () => {
    const low = evaluateHook(dump, 'filter', 'FORWARD', tcp({protocol: 'udp', src: '10.244.9.9', dst: '8.8.8.8', sport: 53, physdev: {in: 'veth1', out: 'veth2'}}), nodeCtx)
    expect(low.map((x) => [x.verdict, x.trail.at(-1)?.line])).toEqual([['DROP', 45]])
    // High port: -f fails, then -g KNET-SSH: recent --set always matches, recent --update is uncertain.
    const high = evaluateHook(dump, 'filter', 'FORWARD', tcp({protocol: 'udp', src: '10.244.9.9', dst: '8.8.8.8', sport: 40000, physdev: {in: 'veth1', out: 'veth2'}}), nodeCtx)
    expect(high.map((x) => [x.verdict, x.probability, x.trail.map((t) => t.line)])).toEqual([
      ['DROP', 0.5, [39, 47, 48, 49]],
      ['ACCEPT', 0.5, [39, 47, 48, 50]],
    ])
    expect(high.every((x) => x.uncertain.length === 1)).toBe(true)
  })

  it('INPUT: multiport, icmp types, REJECT variants, broadcast', () => {
    const input = (p: Parameters<typeof tcp>[0]): [string, string | undefined, number | undefined][] =>
      evaluateHook(dump, 'filter', 'INPUT', tcp({inIface: 'eth0', dst: NODE_IP, ...p}), nodeCtx).map((x) => [x.verdict, x.rejectWith, x.trail.at(-1)?.line])
    expect(input({dport: 8080})).toEqual([['ACCEPT', undefined, 31]])
    expect(input({protocol: 'icmp', dport: undefined, icmpType: 8})).toEqual([['ACCEPT', undefined, 33]])
    expect(input({dport: 25})).toEqual([['REJECT', 'tcp-reset', 38]])
    expect(input({src: '192.0.2.1', dport: 9})).toEqual([['REJECT', 'icmp-host-prohibited', 37]])
    expect(input({protocol: 'udp', dst: '192.168.1.255', dport: 9, sport: 40000})).toEqual([['DROP', undefined, 36]])
    expect(input({inIface: 'lo', dport: 9})).toEqual([['ACCEPT', undefined, 29]])
  })

  it('nat: a DNAT range reports its first member and the range; MASQUERADE unless leaving by cni0', () => {
    const pre = evaluateHook(dump, 'nat', 'PREROUTING', tcp({dport: 8443}), nodeCtx)
    expect(pre.map((x) => [x.packet.dst, x.packet.dport, x.nat.dnat?.rangeTo])).toEqual([['10.244.1.5', 443, {ip: '10.244.1.6', port: 444}]])
    expect(evaluateHook(dump, 'nat', 'POSTROUTING', tcp({outIface: 'eth0'}), nodeCtx).map((x) => [x.nat.masquerade?.address, x.packet.src])).toEqual([[NODE_IP, NODE_IP]])
    expect(evaluateHook(dump, 'nat', 'POSTROUTING', tcp({outIface: 'cni0'}), nodeCtx).map((x) => [x.decidedBy, x.nat.masquerade])).toEqual([['policy', undefined]])
  })

  it('raw NOTRACK makes the packet untracked, so nat is skipped further on', () => {
    const vxlan = tcp({protocol: 'udp', dport: 4789, sport: 40000, dst: NODE_IP, inIface: 'eth0', src: '192.168.1.11'})
    const o = traverse(dump, 'local-in', vxlan, nodeCtx)
    expect(o.map((x) => [x.verdict, x.packet.ctstate])).toEqual([['ACCEPT', 'UNTRACKED']])
    expect(o[0]?.notes.some((n) => n.startsWith('nat PREROUTING is consulted only for the first packet'))).toBe(true)
  })

  it('mangle TPROXY accepts with its mark, flagged as depending on a listening socket', () => {
    const o = evaluateHook(dump, 'mangle', 'PREROUTING', tcp({dport: 15001}), nodeCtx)
    expect(o.map((x) => [x.verdict, x.packet.mark])).toEqual([['ACCEPT', 1]])
    expect(o[0]?.uncertain[0]).toMatch(/TPROXY accepts only if a transparent socket listens/)
  })
})
