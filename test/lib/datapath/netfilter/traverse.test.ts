import {describe, expect, it} from 'vitest'
import {totalProbability} from '../../../../src/lib/datapath/netfilter/outcomes.js'
import type {Packet} from '../../../../src/lib/datapath/netfilter/packet.js'
import {traverse} from '../../../../src/lib/datapath/netfilter/traverse.js'
import {NODE_IP, nodeCtx, parse, tcp} from './dumps.js'

/** Every table writes the mark bit it owns, so the final mark and the trail show the order tables ran in. */
const ordered = parse(`*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -j MARK --or-mark 0x1
-A OUTPUT -j MARK --or-mark 0x1
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -m mark --mark 0x1/0x1 -j MARK --or-mark 0x2
-A FORWARD -j MARK --or-mark 0x10
-A INPUT -j MARK --or-mark 0x20
-A OUTPUT -j MARK --or-mark 0x2
-A POSTROUTING -j MARK --or-mark 0x100
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.96.0.50/32 -m mark --mark 0x3/0x3 -j DNAT --to-destination 10.244.2.7:8080
-A OUTPUT -d 10.96.0.50/32 -j DNAT --to-destination 10.244.2.7:8080
-A POSTROUTING -m mark --mark 0x110/0x110 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate DNAT -d 10.244.2.7/32 -j ACCEPT
-A INPUT -m mark --mark 0x20/0x20 -j ACCEPT
-A OUTPUT -d 10.244.2.7/32 -j MARK --or-mark 0x10
COMMIT
`)

describe('traverse', () => {
  it('forward: raw → mangle → nat PREROUTING, route (given the DNATed packet), FORWARD, POSTROUTING', () => {
    const seen: Packet[] = []
    const route = (p: Packet): string => {
      seen.push(p)
      return 'eth0'
    }
    const o = traverse(ordered, 'forward', tcp(), nodeCtx, route)
    expect(seen.map((p) => `${p.dst}:${p.dport}`)).toEqual(['10.244.2.7:8080'])
    expect(o.map((x) => [x.verdict, x.delivery, x.packet.mark.toString(16), x.packet.src, x.at])).toEqual([['ACCEPT', 'out', '113', NODE_IP, {hook: 'POSTROUTING', table: 'nat'}]])
    expect(o[0]?.trail.filter((t) => t.kind === 'rule').map((t) => `${t.table} ${t.chain}`)).toEqual([
      'raw PREROUTING', 'mangle PREROUTING', 'nat PREROUTING', 'mangle FORWARD', 'filter FORWARD', 'mangle POSTROUTING', 'nat POSTROUTING',
    ])
  })

  it('forward to a local address goes to INPUT instead (the default route decision, or {local: true})', () => {
    const o = traverse(ordered, 'forward', tcp({dst: NODE_IP}), nodeCtx)
    expect(o.map((x) => [x.verdict, x.delivery, x.at])).toEqual([['ACCEPT', 'local', {hook: 'INPUT', table: 'nat'}]])
    const forced = traverse(ordered, 'forward', tcp({dst: '10.1.2.3'}), nodeCtx, () => ({local: true}))
    expect(forced.map((x) => x.delivery)).toEqual(['local'])
    // Not DNATed and not local: FORWARD's policy drops it.
    expect(traverse(ordered, 'forward', tcp({dst: '10.1.2.3'}), nodeCtx, () => 'eth0').map((x) => [x.verdict, x.decidedBy, x.at])).toEqual([['DROP', 'policy', {hook: 'FORWARD', table: 'filter'}]])
  })

  it('local-out: raw → mangle → nat → filter OUTPUT, reroute, POSTROUTING', () => {
    const o = traverse(ordered, 'local-out', tcp({src: NODE_IP, inIface: undefined}), nodeCtx, () => 'cbr0')
    expect(o.map((x) => [x.verdict, x.packet.dst, x.packet.outIface, x.packet.mark.toString(16), x.nat.masquerade?.address])).toEqual([['ACCEPT', '10.244.2.7', 'cbr0', '113', '10.244.1.1']])
    expect(o[0]?.trail.filter((t) => t.kind === 'rule').map((t) => `${t.table} ${t.chain}`)).toEqual([
      'raw OUTPUT', 'mangle OUTPUT', 'nat OUTPUT', 'filter OUTPUT', 'mangle POSTROUTING', 'nat POSTROUTING',
    ])
  })

  it('branches multiply across hooks and still sum to 1', () => {
    const d = parse(`*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.0.0.1
-A PREROUTING -j DNAT --to-destination 10.0.0.2
-A POSTROUTING -m statistic --mode random --probability 0.25000000000 -j MASQUERADE
COMMIT
*filter
:FORWARD ACCEPT [0:0]
-A FORWARD -d 10.0.0.2/32 -m statistic --mode random --probability 0.50000000000 -j DROP
COMMIT
`)
    const o = traverse(d, 'forward', tcp({dst: '10.9.9.9'}), nodeCtx, () => 'eth0')
    expect(o.map((x) => [x.packet.dst, x.verdict, x.nat.masquerade !== undefined, x.probability])).toEqual([
      ['10.0.0.1', 'ACCEPT', true, 0.125], ['10.0.0.1', 'ACCEPT', false, 0.375],
      ['10.0.0.2', 'DROP', false, 0.25],
      ['10.0.0.2', 'ACCEPT', true, 0.0625], ['10.0.0.2', 'ACCEPT', false, 0.1875],
    ])
    expect(totalProbability(o)).toBe(1)
  })
})
