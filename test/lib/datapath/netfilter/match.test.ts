import {describe, expect, it} from 'vitest'
import {packetView} from '../../../../src/lib/datapath/netfilter/evaluate.js'
import {matchRule, type MatchResult} from '../../../../src/lib/datapath/netfilter/match.js'
import type {NatState} from '../../../../src/lib/datapath/netfilter/outcomes.js'
import type {NetfilterContext, Packet} from '../../../../src/lib/datapath/netfilter/packet.js'
import {NODE_IP, nodeCtx, parse, tcp} from './dumps.js'

/** Parses one rule of the filter FORWARD chain and matches it against a packet. */
function match(rule: string, packet: Packet, ctx: NetfilterContext = nodeCtx, nat: NatState = {}): MatchResult {
  const d = parse(`*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD ${rule}\nCOMMIT\n`)
  const r = d.tables[0]?.chains[0]?.rules[0]
  if (!r) throw new Error('rule did not parse')
  return matchRule(r, packetView(packet, nat), ctx)
}

const yes = (rule: string, packet: Packet, ctx?: NetfilterContext, nat?: NatState): boolean => match(rule, packet, ctx, nat).p === 1
const p = (rule: string, packet: Packet): number => match(rule, packet).p

describe('matchRule', () => {
  it('addresses, with negation and dotted masks', () => {
    expect(yes('-s 10.244.0.0/16', tcp())).toBe(true)
    expect(yes('! -s 10.244.0.0/16', tcp())).toBe(false)
    expect(yes('! -s 10.244.0.0/16', tcp({src: '172.16.0.1'}))).toBe(true)
    expect(yes('-d 10.96.0.50/32', tcp())).toBe(true)
    expect(yes('-d 10.96.0.51/32', tcp())).toBe(false)
    expect(yes('-s 10.244.0.0/255.255.0.0', tcp())).toBe(true)
    expect(yes('-s 10.0.0.0/255.0.255.0', tcp({src: '10.9.0.9'}))).toBe(true)
    expect(yes('-s 0.0.0.0/0', tcp())).toBe(true)
  })

  it('interfaces: exact, "+" wildcards, negation, and no device for local packets', () => {
    expect(yes('-i cbr0', tcp())).toBe(true)
    expect(yes('-i cbr1', tcp())).toBe(false)
    expect(yes('-i cb+', tcp())).toBe(true)
    expect(yes('! -i cbr0', tcp())).toBe(false)
    expect(yes('-o +', tcp({outIface: 'eth0'}))).toBe(true)
    // "+" alone matches even without a device; a named one does not, and its negation does.
    expect(yes('-o +', tcp())).toBe(true)
    expect(yes('-o eth0', tcp())).toBe(false)
    expect(yes('! -o eth0', tcp())).toBe(true)
    expect(yes('-i veth+', tcp({inIface: 'veth1234'}))).toBe(true)
    expect(yes('! -i veth+', tcp({inIface: 'eth0'}))).toBe(true)
  })

  it('protocols and ports', () => {
    expect(yes('-p tcp -m tcp --dport 80', tcp())).toBe(true)
    expect(yes('-p tcp -m tcp --dport 81', tcp())).toBe(false)
    expect(yes('-p tcp -m tcp ! --dport 81', tcp())).toBe(true)
    expect(yes('-p udp -m udp --dport 80', tcp())).toBe(false)
    expect(yes('! -p udp', tcp())).toBe(true)
    expect(yes('-p all', tcp())).toBe(true)
    expect(yes('-p tcp -m tcp --dport 8000:8100', tcp({dport: 8080}))).toBe(true)
    expect(yes('-p tcp -m multiport --dports 80,443,8000:8100', tcp({dport: 443}))).toBe(true)
    expect(yes('-p tcp -m multiport --dports 80,443', tcp({dport: 22}))).toBe(false)
    expect(yes('-p tcp -m multiport ! --dports 80,443', tcp({dport: 22}))).toBe(true)
    // The client's ephemeral port is usually unknown: a source-port match is then undecidable.
    expect(match('-p udp -m udp ! --sport 1024:65535', tcp({protocol: 'udp'}))).toEqual({p: 1, uncertain: "the packet's source port is not known"})
    expect(yes('-p udp -m udp ! --sport 1024:65535', tcp({protocol: 'udp', sport: 53}))).toBe(true)
  })

  it('tcp flags: a NEW TCP packet is a SYN', () => {
    expect(yes('-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN', tcp())).toBe(true)
    expect(yes('-p tcp -m tcp --syn', tcp({tcpFlags: ['SYN', 'ACK']}))).toBe(false)
    expect(yes('-p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN', tcp({ctstate: 'ESTABLISHED', tcpFlags: ['ACK']}))).toBe(true)
    expect(match('-p tcp -m tcp --syn', tcp({ctstate: 'ESTABLISHED'})).uncertain).toBe("the packet's TCP flags are not known")
  })

  it('icmp types', () => {
    const ping: Packet = tcp({protocol: 'icmp', icmpType: 8, icmpCode: 0, dport: undefined})
    expect(yes('-p icmp -m icmp --icmp-type 8', ping)).toBe(true)
    expect(yes('-p icmp -m icmp --icmp-type 3/4', ping)).toBe(false)
    expect(yes('-p icmp -m icmp --icmp-type 3/4', {...ping, icmpType: 3, icmpCode: 4})).toBe(true)
    expect(yes('-p icmp -m icmp --icmp-type echo-request', ping)).toBe(true)
    expect(yes('-p icmp -m icmp ! --icmp-type 8', ping)).toBe(false)
  })

  it('marks and statistic', () => {
    expect(yes('-m mark --mark 0x4000/0x4000', tcp({mark: 0x4001}))).toBe(true)
    expect(yes('-m mark ! --mark 0x4000/0x4000', tcp({mark: 0x4001}))).toBe(false)
    expect(yes('-m mark --mark 0x1', tcp({mark: 0x4001}))).toBe(false)
    expect(yes('-m mark --mark 0x80000000/0x80000000', tcp({mark: 0x80000001}))).toBe(true)
    expect(p('-m statistic --mode random --probability 0.25000000000', tcp())).toBe(0.25)
    expect(p('-m statistic --mode random ! --probability 0.25000000000', tcp())).toBe(0.75)
    expect(p('-m statistic --mode nth --every 5 --packet 0', tcp())).toBe(0.2)
    expect(p('-s 10.0.0.0/8 -m statistic --mode random --probability 0.5 -m statistic --mode random --probability 0.5', tcp())).toBe(0.25)
  })

  it('addrtype: LOCAL from the node addresses (and 127/8), BROADCAST, MULTICAST, UNICAST', () => {
    expect(yes('-m addrtype --dst-type LOCAL', tcp({dst: NODE_IP}))).toBe(true)
    expect(yes('-m addrtype --dst-type LOCAL', tcp({dst: '127.0.0.53'}))).toBe(true)
    expect(yes('-m addrtype --dst-type LOCAL', tcp())).toBe(false)
    expect(yes('-m addrtype ! --dst-type LOCAL', tcp())).toBe(true)
    expect(yes('-m addrtype --dst-type UNICAST', tcp())).toBe(true)
    expect(yes('-m addrtype --dst-type BROADCAST', tcp({dst: '192.168.1.255'}))).toBe(true)
    expect(yes('-m addrtype --dst-type BROADCAST', tcp({dst: '255.255.255.255'}))).toBe(true)
    expect(yes('-m addrtype --dst-type MULTICAST', tcp({dst: '224.0.0.251'}))).toBe(true)
    expect(yes('-m addrtype --src-type LOCAL', tcp({src: '10.244.1.1'}))).toBe(true)
    expect(yes('-m addrtype --src-type LOCAL,BROADCAST', tcp())).toBe(false)
    // --limit-iface-in: LOCAL only for addresses of the input interface.
    expect(yes('-m addrtype --dst-type LOCAL --limit-iface-in', tcp({dst: NODE_IP, inIface: 'eth0'}))).toBe(true)
    expect(yes('-m addrtype --dst-type LOCAL --limit-iface-in', tcp({dst: NODE_IP, inIface: 'cbr0'}))).toBe(false)
  })

  it('conntrack states, including the DNAT/SNAT virtual states', () => {
    expect(yes('-m conntrack --ctstate NEW', tcp())).toBe(true)
    expect(yes('-m conntrack --ctstate RELATED,ESTABLISHED', tcp())).toBe(false)
    expect(yes('-m state --state ESTABLISHED', tcp({ctstate: 'ESTABLISHED'}))).toBe(true)
    const dnat: NatState = {dnat: {ip: '10.244.1.5', port: 8080, original: {ip: '10.96.0.50', port: 80}, table: 'nat', chain: 'X', line: 1}}
    expect(yes('-m conntrack --ctstate DNAT', tcp(), nodeCtx, dnat)).toBe(true)
    expect(yes('-m conntrack --ctstate DNAT', tcp())).toBe(false)
    expect(yes('-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', tcp(), nodeCtx, dnat)).toBe(false)
    expect(match('-m conntrack --ctstate DNAT', tcp({ctstate: 'ESTABLISHED'})).uncertain).toMatch(/depends on the conntrack entry/)
    expect(yes('-m conntrack --ctstatus NONE', tcp())).toBe(true)
  })

  it('physdev: a routed packet fails every non-negated option; a bridged one is compared', () => {
    const rule = '-m physdev --physdev-in veth+ --physdev-is-bridged'
    expect(yes(rule, tcp())).toBe(false)
    expect(yes('-m physdev ! --physdev-is-bridged', tcp())).toBe(true)
    expect(yes(rule, tcp({physdev: {in: 'veth9', out: 'veth7'}}))).toBe(true)
    expect(yes(rule, tcp({physdev: {in: 'veth9'}}))).toBe(false)
    expect(yes(rule, tcp({physdev: {in: 'eth0', out: 'veth7'}}))).toBe(false)
  })

  it('fragments, comments, iprange, connmark, ipv6', () => {
    expect(yes('-f', tcp())).toBe(false)
    expect(yes('-f', tcp({fragment: true}))).toBe(true)
    expect(yes('! -f', tcp())).toBe(true)
    expect(yes('-m comment --comment "anything"', tcp())).toBe(true)
    expect(yes('-m iprange --src-range 10.244.1.1-10.244.1.9', tcp())).toBe(true)
    expect(yes('-m iprange ! --dst-range 10.96.0.1-10.96.0.49', tcp())).toBe(true)
    expect(match('-m connmark --mark 0x1/0x1', tcp()).uncertain).toBe('the connection mark is not known')
    expect(yes('-m connmark --mark 0x1/0x1', tcp({connmark: 3}))).toBe(true)
    const v6 = tcp({family: 6, src: 'fd00:244:0:1::5', dst: 'fd00:96::1'})
    expect(yes('-s fd00:244::/48 -d fd00:96::1/128', v6)).toBe(true)
    expect(yes('-s 10.0.0.0/8', v6)).toBe(false)
    expect(yes('-m addrtype --dst-type LOCAL', tcp({family: 6, dst: '::1'}))).toBe(true)
  })

  it('unknown modules are uncertain, never errors', () => {
    expect(match('-m owner --uid-owner 0', tcp())).toEqual({p: 1, uncertain: '-m owner --uid-owner 0 is not evaluated'})
    expect(match('-m tcp --dport 80 --tcp-option 2 -p tcp', tcp()).uncertain).toMatch(/not evaluated/)
  })
})
