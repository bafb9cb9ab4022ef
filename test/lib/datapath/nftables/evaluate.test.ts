/**
 * The nftables evaluator on real `nft -j list ruleset` output of hand-written edge cases
 * (test/fixtures/netfilter/nft-edge-cases.nft, loaded with `nft -f` next to an iptables-nft mangle
 * rule, captured as nft-list-ruleset.edge-cases.json and iptables-save.nft-edge-cases.txt): goto vs
 * jump, verdict maps with concatenated interval keys, interval sets, the inet family for IPv4 and
 * IPv6, base chains of several tables interleaved by priority with iptables-nft's, numgen in a match.
 */
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {traverseNode} from '../../../../src/lib/datapath/nftables/pipeline.js'
import {statementText} from '../../../../src/lib/datapath/nftables/text.js'
import type {Packet} from '../../../../src/lib/datapath/netfilter/packet.js'
import {parseIptablesSave} from '../../../../src/lib/parse/iptables-save.js'
import {parseNftJson} from '../../../../src/lib/parse/nft.js'

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../../fixtures/netfilter/${name}`, import.meta.url)), 'utf8')
const nft = parseNftJson(fixture('nft-list-ruleset.edge-cases.json'))
const ipt = parseIptablesSave(fixture('iptables-save.nft-edge-cases.txt'))
const ctx = {localAddresses: new Set(['10.0.0.254'])}
const route = () => ({local: false as const, outIface: 'eth1'})

function go(p: Partial<Packet>, withIptables = true) {
  const packet: Packet = {family: 4, src: '10.1.1.1', dst: '10.0.0.2', protocol: 'tcp', sport: 40000, dport: 80, inIface: 'eth0', mark: 0, ctstate: 'NEW', ...p}
  return traverseNode({nft: nft.value, ...(withIptables ? {iptables: ipt.value} : {})}, 'forward', packet, ctx, route)
}

describe('nftables evaluator on captured edge cases', () => {
  it('parses without problems', () => {
    expect([nft.problems, ipt.problems]).toEqual([[], []])
  })

  it('interval sets: a prefix and a range element drop in the inet table; just outside the range does not', () => {
    for (const src of ['192.0.2.77', '198.51.100.10', '198.51.100.20']) {
      const [o] = go({src})
      expect([o?.verdict, o?.at.table, o?.trail.at(-1)?.raw]).toEqual(['DROP', 'edge', 'ip saddr @blocked counter drop'])
    }
    expect(go({src: '198.51.100.21', dport: 22}).flatMap((o) => o.trail).some((t) => t.raw === 'ip saddr @blocked counter drop')).toBe(false)
  })

  it('goto: the end of the goto target returns to the chain that jumped, skipping the rest of the goto-ing chain', () => {
    // tcp 8050 ∈ 8000-8099 (a concatenation with a range) → jump web → goto sub (mark 2) → back in pre: mark |= 0x100.
    const outs = go({dport: 8050}, false)
    const pre = outs[0]
    expect(pre?.packet.mark).toBe(0x102)
    expect(pre?.trail.filter((t) => t.table === 'edge' && t.kind === 'rule').map((t) => `${t.chain}: ${t.effect}`).slice(0, 4)).toEqual(['pre: @portmap → jump web', 'web: goto sub', 'sub: mark 0x0 → 0x2', 'pre: mark 0x2 → 0x102'])
  })

  it('jump: the end of the jumped-to chain returns to the rule after the jump', () => {
    const [o] = go({dport: 7000}, false)
    expect(o?.packet.mark).toBe(0x112)
  })

  it('return in a jumped-to chain goes back to the caller; a vmap miss is no match', () => {
    expect(go({dport: 8050, dst: '10.0.0.1'}, false)[0]?.packet.mark).toBe(0x100)
    const miss = go({dport: 9000}, false)[0]?.trail.filter((t) => t.table === 'edge' && t.chain === 'pre' && t.kind === 'rule')
    expect(miss?.map((t) => t.effect)).toEqual(['mark 0x0 → 0x100'])
  })

  it('priorities: ip early (-300) before inet edge (-200) before iptables mangle (-150), whose MARK overrides', () => {
    expect(go({dport: 9999})[0]).toMatchObject({verdict: 'DROP', at: {hook: 'PREROUTING', table: 'early'}})
    const o = go({dport: 8050})
    // After iptables' mangle PREROUTING (0x5/0xf on 0x102): 0x105; then FORWARD: mark & 0xff is 5, not 2.
    const tables = o[0]?.trail.map((t) => t.table)
    expect(tables?.indexOf('edge')).toBeLessThan(tables?.indexOf('mangle') ?? -1)
    expect(o.map((x) => [x.verdict, x.packet.mark])).toEqual([['REJECT', 0x105], ['DROP', 0x105]])
  })

  it('numgen in a match splits by probability: 1/4 reset, 3/4 to the drop policy', () => {
    const o = go({dport: 8050})
    expect(o.map((x) => [x.verdict, x.probability, x.decidedBy])).toEqual([['REJECT', 0.25, 'rule'], ['DROP', 0.75, 'policy']])
    expect(o[0]?.rejectWith).toBe('tcp-reset')
  })

  it('a mark match with a mask accepts; ct state established accepts without the nat or vmap', () => {
    expect(go({dport: 8051}, false).map((x) => x.verdict)).toEqual(['ACCEPT'])
    expect(go({dport: 1, ctstate: 'ESTABLISHED'}, false).map((x) => [x.verdict, x.probability])).toEqual([['ACCEPT', 1]])
  })

  it('the inet table sees IPv6 too: ip saddr does not apply, ip6 daddr and an anonymous port set do', () => {
    const v6 = (dport: number) => go({family: 6, src: 'fd00::9', dst: 'fd00::2', dport}, false)
    expect(v6(443).map((x) => x.verdict)).toEqual(['ACCEPT'])
    expect(v6(444).map((x) => x.verdict)).toEqual(['REJECT', 'DROP'])
  })

  it('prints statements in nft syntax', () => {
    const rules = nft.value.rules.filter((r) => r.table === 'edge').map((r) => r.expr.map(statementText).join(' '))
    expect(rules).toEqual([
      'ip saddr @blocked counter drop',
      'meta l4proto . th dport vmap @portmap',
      'mark set mark or 0x00000100',
      'ip daddr 10.0.0.1 return',
      'goto sub',
      'mark set 0x00000003',
      'jump sub',
      'mark set mark or 0x00000010',
      'mark set 0x00000002',
      'ct state { established, related } accept',
      'ip6 daddr fd00::/64 tcp dport { 22, 443 } accept',
      'ip daddr 10.0.0.0/8 mark and 0x000000ff == 0x00000002 accept',
      'meta l4proto tcp numgen random mod 4 < 1 reject with tcp reset',
    ])
  })
})
