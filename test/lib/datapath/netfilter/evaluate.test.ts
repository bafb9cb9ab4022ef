import {describe, expect, it} from 'vitest'
import {evaluateHook} from '../../../../src/lib/datapath/netfilter/evaluate.js'
import {totalProbability, type HookOutcome} from '../../../../src/lib/datapath/netfilter/outcomes.js'
import {nodeCtx, parse, tcp} from './dumps.js'

const filter = (chains: string, rules: string, policies = ':INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]'): ReturnType<typeof parse> =>
  parse(`*filter\n${policies}\n${chains}${rules}\nCOMMIT\n`)

const summary = (os: HookOutcome[]): [string, number, string][] => os.map((o) => [o.verdict, o.probability, o.trail.at(-1)?.effect ?? ''])

describe('evaluateHook: chains', () => {
  it('jump, end of a user chain returns, RETURN in a built-in chain applies the policy', () => {
    const d = filter(':A - [0:0]\n', [
      '-A FORWARD -j A',
      '-A FORWARD -s 10.0.0.1/32 -j RETURN',
      '-A FORWARD -j DROP',
      '-A A -p udp -j ACCEPT',
    ].join('\n'), ':INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]')
    expect(summary(evaluateHook(d, 'filter', 'FORWARD', tcp(), nodeCtx))).toEqual([['DROP', 1, 'DROP']])
    const ret = evaluateHook(d, 'filter', 'FORWARD', tcp({src: '10.0.0.1'}), nodeCtx)
    expect(ret.map((o) => [o.verdict, o.decidedBy])).toEqual([['ACCEPT', 'policy']])
    expect(ret[0]?.trail.map((t) => [t.kind, t.line, t.effect])).toEqual([['rule', 6, 'jump A'], ['rule', 7, 'RETURN'], ['policy', 3, 'policy ACCEPT']])
    expect(summary(evaluateHook(d, 'filter', 'FORWARD', tcp({protocol: 'udp'}), nodeCtx))).toEqual([['ACCEPT', 1, 'ACCEPT']])
  })

  it('-g replaces the chain: the end of the goto target does not come back, and from a built-in chain it means the policy', () => {
    const d = filter(':A - [0:0]\n:B - [0:0]\n', [
      '-A FORWARD -j A',
      '-A FORWARD -j ACCEPT',
      '-A A -g B',
      '-A A -j ACCEPT',
      '-A B -p udp -j DROP',
      '-A INPUT -g B',
      '-A INPUT -j ACCEPT',
    ].join('\n'), ':INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]')
    // FORWARD → A → goto B → end of B returns to FORWARD (A's caller), not to A.
    const fwd = evaluateHook(d, 'filter', 'FORWARD', tcp(), nodeCtx)
    expect(fwd.map((o) => [o.verdict, o.trail.map((t) => `${t.chain}:${t.line}`)])).toEqual([['ACCEPT', ['FORWARD:7', 'A:9', 'FORWARD:8']]])
    // INPUT → goto B → end of B: nothing to return to, so INPUT's policy (DROP), not the ACCEPT after the goto.
    const input = evaluateHook(d, 'filter', 'INPUT', tcp(), nodeCtx)
    expect(input.map((o) => [o.verdict, o.decidedBy, o.trail.map((t) => t.effect)])).toEqual([['DROP', 'policy', ['goto B', 'policy DROP']]])
  })

  it('a chain loop (A → B → A) ends as UNKNOWN without throwing; so do goto loops and missing chains', () => {
    const d = filter(':A - [0:0]\n:B - [0:0]\n:C - [0:0]\n:D - [0:0]\n', [
      '-A FORWARD -p tcp -j A',
      '-A FORWARD -p udp -j C',
      '-A A -j B',
      '-A B -j A',
      '-A C -g D',
      '-A D -g C',
    ].join('\n'))
    const loop = evaluateHook(d, 'filter', 'FORWARD', tcp(), nodeCtx)
    expect(loop.map((o) => [o.verdict, o.decidedBy, o.probability])).toEqual([['UNKNOWN', 'limit', 1]])
    expect(loop[0]?.reason).toBe('chain loop: FORWARD → A → B → A (line 12)')
    const gotoLoop = evaluateHook(d, 'filter', 'FORWARD', tcp({protocol: 'udp'}), nodeCtx)
    expect(gotoLoop[0]?.reason).toBe('chain loop: FORWARD → C → D → C (line 14)')
    // A goto to a chain that is not declared (the parser keeps it as a chain target).
    const missing = parse('*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -g NOPE\nCOMMIT\n')
    expect(evaluateHook(missing, 'filter', 'FORWARD', tcp(), nodeCtx).map((o) => [o.verdict, o.reason])).toEqual([['UNKNOWN', 'line 3: chain NOPE does not exist in the filter table']])
  })

  it('the same chain may be called twice in a row (not a loop)', () => {
    const d = filter(':M - [0:0]\n', ['-A FORWARD -j M', '-A FORWARD -j M', '-A FORWARD -m mark --mark 0x2/0x2 -j DROP', '-A M -j MARK --or-mark 0x1', '-A M -m mark --mark 0x1/0x1 -j MARK --or-mark 0x2'].join('\n'))
    const o = evaluateHook(d, 'filter', 'FORWARD', tcp(), nodeCtx)
    expect(o.map((x) => [x.verdict, x.packet.mark])).toEqual([['DROP', 3]])
  })

  it('absent tables and chains pass the packet; nat is skipped for non-NEW packets', () => {
    const d = filter('', '-A FORWARD -j DROP')
    expect(evaluateHook(d, 'nat', 'PREROUTING', tcp(), nodeCtx).map((o) => [o.verdict, o.decidedBy, o.reason])).toEqual([['ACCEPT', 'absent', 'no nat table in the dump']])
    expect(evaluateHook(d, 'filter', 'POSTROUTING', tcp(), nodeCtx).map((o) => [o.verdict, o.decidedBy])).toEqual([['ACCEPT', 'absent']])
    const nat = parse('*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination 10.0.0.9\nCOMMIT\n')
    expect(evaluateHook(nat, 'nat', 'PREROUTING', tcp({ctstate: 'ESTABLISHED'}), nodeCtx).map((o) => [o.decidedBy, o.packet.dst])).toEqual([['skipped', '10.96.0.50']])
    expect(evaluateHook(nat, 'nat', 'PREROUTING', tcp(), nodeCtx).map((o) => [o.verdict, o.packet.dst, o.nat.dnat?.original])).toEqual([['ACCEPT', '10.0.0.9', {ip: '10.96.0.50', port: 80}]])
  })
})

describe('evaluateHook: marks', () => {
  it('--set-xmark value/mask: mark = (mark & ~mask) ^ value; --mark value/mask matches (mark & mask) == value', () => {
    const d = filter('', [
      '-A FORWARD -j MARK --set-xmark 0x4000/0xc000',
      '-A FORWARD -m mark --mark 0x4000/0x4000 -j MARK --set-xmark 0x10/0xff',
      '-A FORWARD -m mark ! --mark 0x10/0xff -j DROP',
      '-A FORWARD -j MARK --and-mark 0xffffbfff',
      '-A FORWARD -m mark --mark 0x4000/0x4000 -j DROP',
      '-A FORWARD -j MARK --set-mark 0x1/0x1',
      '-A FORWARD -m mark --mark 0x11 -j ACCEPT',
    ].join('\n'))
    // 0xc0f3: set-xmark 0x4000/0xc000 → 0x40f3; 0x10/0xff → 0x4010; and-mark clears 0x4000 → 0x10; set-mark 1/1 → 0x11.
    const o = evaluateHook(d, 'filter', 'FORWARD', tcp({mark: 0xc0f3}), nodeCtx)
    expect(o.map((x) => [x.verdict, x.packet.mark.toString(16)])).toEqual([['ACCEPT', '11']])
    expect(o[0]?.trail.map((t) => t.effect)).toEqual(['mark 0xc0f3 → 0x40f3', 'mark 0x40f3 → 0x4010', 'mark 0x4010 → 0x10', 'mark 0x10 → 0x11', 'ACCEPT'])
  })

  it('FORWARD policy DROP with KUBE-FORWARD accepting marked packets', () => {
    const d = filter(':KUBE-FORWARD - [0:0]\n', [
      '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
      '-A KUBE-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ].join('\n'), ':INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]')
    expect(summary(evaluateHook(d, 'filter', 'FORWARD', tcp({mark: 0x4000}), nodeCtx))).toEqual([['ACCEPT', 1, 'ACCEPT']])
    expect(summary(evaluateHook(d, 'filter', 'FORWARD', tcp({mark: 0x4001}), nodeCtx))).toEqual([['ACCEPT', 1, 'ACCEPT']])
    expect(summary(evaluateHook(d, 'filter', 'FORWARD', tcp({mark: 0}), nodeCtx))).toEqual([['DROP', 1, 'policy DROP']])
    expect(summary(evaluateHook(d, 'filter', 'FORWARD', tcp({ctstate: 'ESTABLISHED', tcpFlags: ['ACK']}), nodeCtx))).toEqual([['ACCEPT', 1, 'ACCEPT']])
    expect(summary(evaluateHook(d, 'filter', 'FORWARD', tcp({ctstate: 'INVALID', mark: 0x4000}), nodeCtx))).toEqual([['DROP', 1, 'DROP']])
  })
})

describe('evaluateHook: splits', () => {
  it('statistic random splits; probabilities multiply down the chain and sum to 1', () => {
    const d = parse(`*nat
:PREROUTING ACCEPT [0:0]
:S - [0:0]
-A PREROUTING -j S
-A S -m statistic --mode random --probability 0.25000000000 -j DNAT --to-destination 10.0.0.1
-A S -m statistic --mode random --probability 0.33333333349 -j DNAT --to-destination 10.0.0.2
-A S -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.0.0.3
-A S -j DNAT --to-destination 10.0.0.4
COMMIT
`)
    const o = evaluateHook(d, 'nat', 'PREROUTING', tcp(), nodeCtx)
    expect(o.map((x) => x.packet.dst)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'])
    for (const x of o) expect(x.probability).toBeCloseTo(0.25, 9)
    expect(Math.abs(totalProbability(o) - 1)).toBeLessThan(1e-9)
  })

  it('statistic nth every N is a 1/N split (the packet counter is not in the evidence)', () => {
    const d = filter('', ['-A FORWARD -m statistic --mode nth --every 4 --packet 0 -j DROP', '-A FORWARD -m statistic --mode nth --every 10 --packet 0 -j LOG --log-prefix "x"'].join('\n'))
    const o = evaluateHook(d, 'filter', 'FORWARD', tcp(), nodeCtx)
    expect(o.map((x) => [x.verdict, x.probability])).toEqual([['DROP', 0.25], ['ACCEPT', 0.75]])
    // A matching LOG changes nothing, so it is noted with its chance but not split on.
    expect(o[1]?.trail.map((t) => [t.effect, t.branch])).toEqual([['LOG', 0.1], ['policy ACCEPT', undefined]])
  })

  it('undecidable matches are followed both ways, half each, and say why', () => {
    const d = filter(':SSH - [0:0]\n', [
      '-A INPUT -m set --match-set blocked src -j DROP',
      '-A INPUT -p tcp -m tcp --dport 22 -j SSH',
      '-A SSH -m recent --set --name ssh --mask 255.255.255.255 --rsource',
      '-A SSH -m recent --update --seconds 60 --hitcount 4 --name ssh --mask 255.255.255.255 --rsource -j DROP',
      '-A SSH -j ACCEPT',
    ].join('\n'))
    const o = evaluateHook(d, 'filter', 'INPUT', tcp({dport: 22}), nodeCtx)
    expect(o.map((x) => [x.verdict, x.probability])).toEqual([['DROP', 0.5], ['DROP', 0.25], ['ACCEPT', 0.25]])
    expect(o[0]?.uncertain).toEqual(['line 6 assumed to match: ipset "blocked" members are not in the evidence'])
    expect(o[2]?.uncertain).toEqual([
      'line 6 assumed not to match: ipset "blocked" members are not in the evidence',
      "line 9 assumed not to match: -m recent --update --name ssh depends on the list's history",
    ])
    // With the set's members known, the set match is decided.
    const known = {...nodeCtx, ipsets: new Map([['blocked', ['10.244.0.0/16']]])}
    expect(evaluateHook(d, 'filter', 'INPUT', tcp({dport: 22}), known).map((x) => [x.verdict, x.probability, x.uncertain])).toEqual([['DROP', 1, []]])
  })

  it('caps the number of branches, ending the rest as UNKNOWN with their probability', () => {
    const rules = Array.from({length: 20}, (_, i) => `-A FORWARD -m statistic --mode random --probability 0.5 -j MARK --set-xmark ${1 << i}/${1 << i}`)
    const o = evaluateHook(filter('', rules.join('\n')), 'filter', 'FORWARD', tcp(), nodeCtx, {maxBranches: 64})
    expect(o.length).toBeLessThanOrEqual(64 * 21)
    expect(o.some((x) => x.verdict === 'UNKNOWN' && x.decidedBy === 'limit')).toBe(true)
    expect(Math.abs(totalProbability(o) - 1)).toBeLessThan(1e-9)
  })
})
