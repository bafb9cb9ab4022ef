/**
 * scanRule is a shortcut for the common rule shapes: whenever it answers, the general reader must
 * give exactly the same rule. Checked on every captured fixture line, a generated kube-proxy dump,
 * hand-written edge cases, and fuzzed variants of all of them.
 */
import {readdirSync, readFileSync} from 'node:fs'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {natFixture} from '../../../bench/generators/kube-proxy.js'
import {readRuleGeneral} from '../../../src/lib/parse/iptables/rule.js'
import {scanRule} from '../../../src/lib/parse/iptables/scan-rule.js'
import {fuzzRuns} from '../../helpers/fuzz.js'

const dir = new URL('../../fixtures/netfilter/', import.meta.url)
const fixtureLines = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .flatMap((f) => readFileSync(new URL(f, dir), 'utf8').split('\n'))
const generated = natFixture({services: 30, endpoints: 3}).restore.split('\n')
const chains = new Set(['KUBE-SERVICES', 'KUBE-MARK-MASQ', 'X', 'CHAIN'])
for (const l of [...fixtureLines, ...generated]) if (l.startsWith(':')) chains.add(l.slice(1).split(' ')[0] ?? '')
const knownChain = (name: string): boolean => chains.has(name)

const edgeCases = [
  '-A X -m comment --comment "" -j ACCEPT',
  '-A X -m comment --comment "-x" -j ACCEPT',
  '-A X -m comment --comment "!" -j ACCEPT',
  '-A X -m comment --comment a b -j ACCEPT',
  '-A X -m comment --comment "a"b -j ACCEPT',
  '-A X -m comment --comment "a b" -m comment --comment c -j ACCEPT',
  '-A X -m tcp -j ACCEPT',
  '-A X -m tcp ! --sport 1:1023 --dport 443 -j ACCEPT',
  '-A X -m tcp --dport 80 --dport 81 -j ACCEPT',
  '-A X -m udp --dport 99999 -j ACCEPT',
  '-A X -m tcp --dport 80 extra -j ACCEPT',
  '-A X -m statistic --mode random --probability 0.25000000000 -j RETURN',
  '-A X -m statistic --mode random --probability 2 -j RETURN',
  '-A X -m statistic --mode random ! --probability 0.5 -j RETURN',
  '-A X -m mark ! --mark 0x4000/0x4000 -j RETURN',
  '-A X -m mark --mark zz -j RETURN',
  '-A X -m addrtype ! --src-type LOCAL --dst-type LOCAL,BROADCAST --limit-iface-out -j RETURN',
  '-A X -m addrtype --limit-iface-in foo -j RETURN',
  '-A X -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
  '-A X -m conntrack --ctstate NEW --ctorigdst 10.0.0.1 -j DROP',
  '-A X -p udp -m multiport ! --ports 53,1000:2000 -j ACCEPT',
  '-A X -p udp -m multiport --dports 53,x -j ACCEPT',
  '-A X -p tcp --dport 22 -j ACCEPT',
  '-A X ! -s 10.0.0.0/8 -d 10.96.0.1/32 ! -i eth+ -o cni0 -f -j KUBE-MARK-MASQ',
  '-A X -s 10.0.0.0/255.0.255.0 -j ACCEPT',
  '-A X -s "" -j ACCEPT',
  '-A X -s -m -j ACCEPT',
  '-A X ! ! -s 1.2.3.4 -j ACCEPT',
  '-A X ! -m comment --comment x -j ACCEPT',
  '-A X -j DNAT --to-destination 10.0.0.1:8080',
  '-A X -j DNAT --to-destination [fd00::1]:80 --random --persistent',
  '-A X -j DNAT --to-destination nope',
  '-A X -j CHAIN --to-destination 10.0.0.1:80',
  '-A X -j MARK --or-mark 0x4000',
  '-A X -j MARK --xor-mark 0x4000',
  '-A X -j MARK --set-xmark 0x4000/0xffffffff',
  '-A X -j MASQUERADE --random-fully',
  '-A X -j MASQUERADE --to-ports 1000-2000',
  '-A X -j REJECT --reject-with icmp-port-unreachable',
  '-A X -j LOG --log-prefix "dropped: " --log-level 4',
  '-A X -j CHAIN',
  '-A X -j UNKNOWNCHAIN',
  '-A X -j ACCEPT ! --foo',
  '-A X -j ACCEPT !',
  '-A X -j ACCEPT foo',
  '-A X -j ACCEPT -m tcp',
  '-A X -j ACCEPT -j DROP',
  '-A X -j ACCEPT -s 1.2.3.4',
  '-A X -j ACCEPT --',
  '-A X -j',
  '-A X -m',
  '-A X -p',
  '-A X -s',
  '-A X',
  '-A',
  '-A -m',
  '-A "X" -j ACCEPT',
  '[1:2] -A X -j ACCEPT',
  '[1:x] -A X -j ACCEPT',
  '"[1:2]" -A X -j ACCEPT',
  '-A X -g CHAIN',
  '-A X  -p  tcp   -j ACCEPT  ',
  '-A X -m comment --comment "a\\"b" -j ACCEPT',
  '-A X\t-j ACCEPT',
  '-A X -j ACCEPT "',
  '-A X foo',
]

function same(line: string): void {
  const fast = scanRule(line, 7, knownChain)
  if (fast === null) return
  expect(fast, line).toEqual(readRuleGeneral(line, 7, knownChain))
}

describe('scanRule against the general reader', () => {
  it('agrees on every rule of the captured fixtures and of a generated kube-proxy dump', () => {
    let handled = 0
    for (const l of [...fixtureLines, ...generated]) {
      if (!l.startsWith('-A') && !l.startsWith('[')) continue
      same(l)
      if (scanRule(l, 7, knownChain)) handled++
    }
    // The shortcut must actually cover the common shapes, or it is no shortcut.
    const genRules = generated.filter((l) => l.startsWith('-A'))
    expect(genRules.every((l) => scanRule(l, 1, knownChain) !== null)).toBe(true)
    expect(handled).toBeGreaterThan(genRules.length)
  })

  it('agrees on edge cases, or leaves them to the general reader', () => {
    for (const l of edgeCases) same(l)
    expect(scanRule('-A X -m comment --comment a b -j ACCEPT', 1, knownChain)).toBeNull()
    expect(scanRule('-A X -j ACCEPT foo', 1, knownChain)).toBeNull()
    // A user chain may be called DNAT or MASQUERADE: then a jump to it is a chain target, as in the general reader.
    const everyName = (): boolean => true
    for (const l of ['-A X -j DNAT --to-destination 10.0.0.1:80', '-A X -j MASQUERADE', '-A X -j DNAT', '-A X -j ACCEPT']) {
      expect(scanRule(l, 1, everyName), l).toEqual(readRuleGeneral(l, 1, everyName))
    }
  })

  it('agrees on fuzzed rules', () => {
    const seeds = [...edgeCases, ...fixtureLines.filter((l) => l.startsWith('-A')), ...generated.filter((l) => l.startsWith('-A')).slice(0, 200)]
    const words = fc.constantFrom('-m', '-j', '!', '-s', '-d', '-p', '-i', '-o', '-f', '--comment', '"a b"', '""', 'tcp', 'comment', 'mark', '--mark', '0x1/0x1', 'statistic', '--mode', 'random', '--probability', '0.5', 'DNAT', '--to-destination', '10.0.0.1:80', 'ACCEPT', 'X', '--dport', '80', '"', 'multiport', '--dports', '1,2', 'addrtype', '--dst-type', 'LOCAL', 'conntrack', '--ctstate', 'NEW', '1.2.3.4/32')
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.nat(), fc.nat(), fc.array(words, {maxLength: 4}), fc.nat(), (seed, a, b, insert, c) => {
        const ws = seed.split(' ')
        const variants = [
          ws.filter((_, i) => i !== a % ws.length).join(' '),
          [...ws.slice(0, b % (ws.length + 1)), ...insert, ...ws.slice(b % (ws.length + 1))].join(' '),
          seed.slice(0, c % (seed.length + 1)),
        ]
        for (const v of variants) same(v)
      }),
      {numRuns: Math.min(fuzzRuns, 20000)},
    )
  })
})
