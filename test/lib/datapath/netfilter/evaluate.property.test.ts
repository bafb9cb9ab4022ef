/** Random small rulesets (loops, gotos, splits, unknown matches included) never make the evaluator throw, and every evaluation's probabilities sum to 1. */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {evaluateHook} from '../../../../src/lib/datapath/netfilter/evaluate.js'
import {totalProbability, type Hook} from '../../../../src/lib/datapath/netfilter/outcomes.js'
import type {Packet} from '../../../../src/lib/datapath/netfilter/packet.js'
import {traverse} from '../../../../src/lib/datapath/netfilter/traverse.js'
import {parseIptablesSave} from '../../../../src/lib/parse/iptables-save.js'
import {breather} from '../../../helpers/fuzz.js'
import {nodeCtx} from './dumps.js'

const runs = Math.min(Number(process.env.FUZZ_RUNS ?? 1000), 20_000)

const USER = ['C0', 'C1', 'C2', 'C3']
const MATCHES = [
  '-s 10.0.0.0/8', '! -s 10.244.0.0/16', '-d 10.96.0.50/32', '! -d 192.168.1.10/32', '-p tcp', '-p udp', '! -p icmp', '-i cbr0', '-o +', '! -i eth+',
  '-m mark --mark 0x1/0x1', '-m mark ! --mark 0x2/0x3', '-m statistic --mode random --probability 0.30000000000',
  '-m statistic --mode random --probability 1.00000000000', '-m statistic --mode random --probability 0.00000000000',
  '-m statistic --mode nth --every 3 --packet 0', '-m set --match-set s src', '-m recent --rcheck --name x', '-m addrtype --dst-type LOCAL',
  '-m conntrack --ctstate NEW', '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', '-m owner --uid-owner 0', '-m comment --comment "c"', '-f',
  '-p tcp -m tcp --dport 80', '-p udp -m udp --sport 1024:65535', '-p tcp -m multiport --dports 80,443', '-m physdev --physdev-is-bridged',
]
const TARGETS = [
  '-j ACCEPT', '-j DROP', '-j RETURN', '-j REJECT --reject-with icmp-port-unreachable', '-j LOG --log-prefix "x"', '',
  '-j MARK --set-xmark 0x1/0x1', '-j MARK --xor-mark 0x2', '-j NFQUEUE --queue-num 1', '-j CONNMARK --restore-mark', '-j FOO',
  ...USER.flatMap((c) => [`-j ${c}`, `-g ${c}`]),
]
const NAT_TARGETS = ['-j DNAT --to-destination 10.244.1.5:8080', '-j SNAT --to-source 192.168.1.10', '-j MASQUERADE', '-j REDIRECT --to-ports 15001']

function rulesArb(chains: string[], targets: string[]): fc.Arbitrary<string[]> {
  const rule = fc.tuple(fc.constantFrom(...chains), fc.subarray(MATCHES, {maxLength: 3}), fc.constantFrom(...targets))
    .map(([chain, ms, target]) => `-A ${chain} ${ms.join(' ')} ${target}`.replace(/ +/g, ' ').trimEnd())
  return fc.array(rule, {maxLength: 14})
}

const packetArb: fc.Arbitrary<Packet> = fc.record({
  family: fc.constant(4 as const),
  src: fc.constantFrom('10.244.1.5', '172.16.0.1', '192.168.1.10'),
  dst: fc.constantFrom('10.96.0.50', '192.168.1.10', '8.8.8.8'),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const),
  dport: fc.constantFrom(80, 443, 53),
  inIface: fc.constantFrom('cbr0', 'eth0', undefined),
  mark: fc.constantFrom(0, 1, 2, 3),
  ctstate: fc.constantFrom('NEW' as const, 'ESTABLISHED' as const, 'INVALID' as const),
}).map((p) => {
  const out: Packet = {...p}
  if (out.inIface === undefined) delete out.inIface
  return out
})

const policy = fc.constantFrom('ACCEPT', 'DROP')

describe('evaluator properties', () => {
  it('never throws; outcome probabilities are in [0,1] and sum to 1', async () => {
    const breathe = breather()
    await fc.assert(fc.asyncProperty(
      rulesArb(['FORWARD', 'INPUT', 'OUTPUT', ...USER], TARGETS), rulesArb(['PREROUTING', 'POSTROUTING', 'OUTPUT', ...USER], [...TARGETS, ...NAT_TARGETS]),
      policy, policy, packetArb,
      async (filterRules, natRules, fwd, input, packet) => {
        await breathe()
        const text = [
          '*filter', `:INPUT ${input} [0:0]`, `:FORWARD ${fwd} [0:0]`, ':OUTPUT ACCEPT [0:0]', ...USER.map((c) => `:${c} - [0:0]`), ...filterRules, 'COMMIT',
          '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ...USER.map((c) => `:${c} - [0:0]`), ...natRules, 'COMMIT', '',
        ].join('\n')
        const dump = parseIptablesSave(text).value
        const hooks: [string, Hook][] = [['filter', 'FORWARD'], ['filter', 'INPUT'], ['filter', 'OUTPUT'], ['nat', 'PREROUTING'], ['nat', 'POSTROUTING'], ['nat', 'OUTPUT']]
        const checks = [
          ...hooks.map(([table, hook]) => evaluateHook(dump, table, hook, packet, nodeCtx)),
          traverse(dump, 'forward', {...packet, inIface: packet.inIface ?? 'eth0'}, nodeCtx),
          traverse(dump, 'local-out', packet, nodeCtx, () => 'eth0'),
        ]
        for (const outcomes of checks) {
          expect(outcomes.length).toBeGreaterThan(0)
          for (const o of outcomes) {
            expect(o.probability).toBeGreaterThanOrEqual(0)
            expect(o.probability).toBeLessThanOrEqual(1)
          }
          expect(Math.abs(totalProbability(outcomes) - 1)).toBeLessThan(1e-9)
        }
      },
    ), {numRuns: runs})
  })
})
