/**
 * scanRule and patternRule are shortcuts for the common rule shapes: whenever one answers, the
 * general reader must give exactly the same rule. Checked on every captured fixture line, a
 * generated kube-proxy dump, hand-written edge cases, and fuzzed variants of all of them.
 */
import {readdirSync, readFileSync} from 'node:fs'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {natFixture} from '../../../bench/generators/kube-proxy.js'
import {patternRule} from '../../../src/lib/parse/iptables/rule-pattern.js'
import {readRuleGeneral} from '../../../src/lib/parse/iptables/rule.js'
import {scanRule} from '../../../src/lib/parse/iptables/scan-rule.js'
import {breather, fuzzRuns} from '../../helpers/fuzz.js'

const dir = new URL('../../fixtures/netfilter/', import.meta.url)
const fixtureLines = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .flatMap((f) => readFileSync(new URL(f, dir), 'utf8').split('\n'))
const generated = natFixture({services: 30, endpoints: 3}).restore.split('\n')
const chains = new Set(['KUBE-SERVICES', 'KUBE-MARK-MASQ', 'X', 'CHAIN'])
for (const l of [...fixtureLines, ...generated]) if (l.startsWith(':')) chains.add(l.slice(1).split(' ')[0] ?? '')
const knownChain = (name: string): boolean => chains.has(name)
const chainIndex = new Map([...chains].map((name) => [name, {name}]))

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
  '-A X -s 10.0.0.1/32 -j KUBE-MARK-MASQ',
  '-A X -s 10.0.0.1/33 -j ACCEPT',
  '-A X -s 10.0.0.1/8 -j ACCEPT',
  '-A X -s 10.0.0.0/0 -j ACCEPT',
  '-A X ! -s 10.0.0.1/7 -d 10.96.0.1/32 -p tcp -m comment --comment "a/b:c cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
  '-A X -s 999.0.0.1/32 -j ACCEPT',
  '-A X -s 10.0.0.1 -j ACCEPT',
  '-A X -s fd00::1/128 -j ACCEPT',
  '-A X -d 10.0.0.1/255.255.0.0 -j ACCEPT',
  '-A X -p TCP -m comment --comment x -m udp --dport 53:54 -j ACCEPT',
  '-A X -p tcp -m comment --comment "a/b:c" -m tcp -j DNAT --to-destination 10.1.2.3:8080',
  '-A X -p tcp -m comment --comment "a/b:c" -m tcp -j DNAT --to-destination 10.1.2.3:80800',
  '-A X -p tcp -m comment --comment "a/b:c" -m tcp -j DNAT --to-destination 10.1.2.3:65536',
  '-A X -p tcp -m comment --comment "a/b:c" -m tcp -j DNAT --to-destination 10.1.2.3',
  '-A X -p tcp -m tcp -j DNAT --to-destination 999.1.2.3:1',
  '-A X -j DNAT --to-destination 10.1.2.3-10.1.2.9:80-90',
  '-A X -j MARK --to-destination 10.1.2.3:80',
  '-A X -j CHAIN --to-destination 10.1.2.3:80',
  '-A X -m comment --comment "a -> b" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-X',
  '-A X -m statistic --mode random --probability 1.5 -j CHAIN',
  '-A X -m statistic --mode random --probability 0x1 -j CHAIN',
  '-A X -m sctp --dport 99999 -j ACCEPT',
  '-A X -m comment --comment "" -j MARK',
  '-A X -j MARK',
  '-A X -j DNAT',
  '-A X -j ACCEPT',
  '-A X -j KUBE-MARK-MASQ',
  '[0:0] -A X -j ACCEPT',
  '[123:4567] -A X -s 10.0.0.1/32 -j CHAIN',
  '[99999999999999999999999:1] -A X -j ACCEPT',
  '-A X -m comment --comment "tab\there" -j ACCEPT',
]

function same(line: string): void {
  const general = readRuleGeneral(line, 7, knownChain)
  const fast = scanRule(line, 7, knownChain)
  if (fast !== null) expect(fast, line).toEqual(general)
  const pattern = patternRule(line, 7, chainIndex, knownChain)
  if (pattern !== null) expect(pattern, line).toEqual(general)
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
    // The pattern covers the kube-proxy lines that repeat per Service and endpoint (KUBE-SEP, KUBE-SVC, the
    // KUBE-SERVICES and KUBE-NODEPORTS jumps); the rarer shapes (REJECT options, addrtype) are the scanner's.
    const perService = genRules.filter((l) => /^-A KUBE-(SEP|SVC|EXT)-|^-A KUBE-(SERVICES|NODEPORTS) .* -j KUBE-(SVC|EXT)-/.test(l))
    expect(perService.length).toBeGreaterThan(genRules.length * 0.9)
    expect(perService.filter((l) => patternRule(l, 1, chainIndex, knownChain) === null)).toEqual([])
  })

  it('patternRule shares what repeats: a jump names the declared chain string, a SEP pair one comment match', () => {
    const name = 'KUBE-SEP-ABCDEFGHIJKLMNOP'
    const declared = new Map([[name, {name}], ['KUBE-MARK-MASQ', {name: 'KUBE-MARK-MASQ'}]])
    const known = (n: string): boolean => declared.has(n)
    const jump = patternRule(`-A KUBE-SVC-X -m comment --comment "a/b:c" -j ${name}`, 1, declared, known)
    expect(jump?.target?.kind === 'chain' && jump.target.chain).toBe(name)
    expect(jump?.target?.name).toBe(name)
    const masq = patternRule(`-A ${name} -s 10.0.0.1/32 -m comment --comment "a/b:c" -j KUBE-MARK-MASQ`, 2, declared, known)
    const dnat = patternRule(`-A ${name} -p tcp -m comment --comment "a/b:c" -m tcp -j DNAT --to-destination 10.0.0.1:80`, 3, declared, known)
    expect(dnat?.matches[0]).toBe(masq?.matches[0])
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

  it('agrees on fuzzed rules', async () => {
    const breathe = breather()
    const seeds = [...edgeCases, ...fixtureLines.filter((l) => l.startsWith('-A')), ...generated.filter((l) => l.startsWith('-A')).slice(0, 200)]
    const words = fc.constantFrom('-m', '-j', '!', '-s', '-d', '-p', '-i', '-o', '-f', '--comment', '"a b"', '""', 'tcp', 'comment', 'mark', '--mark', '0x1/0x1', 'statistic', '--mode', 'random', '--probability', '0.5', 'DNAT', '--to-destination', '10.0.0.1:80', 'ACCEPT', 'X', '--dport', '80', '"', 'multiport', '--dports', '1,2', 'addrtype', '--dst-type', 'LOCAL', 'conntrack', '--ctstate', 'NEW', '1.2.3.4/32')
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...seeds), fc.nat(), fc.nat(), fc.array(words, {maxLength: 4}), fc.nat(), async (seed, a, b, insert, c) => {
        await breathe()
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
