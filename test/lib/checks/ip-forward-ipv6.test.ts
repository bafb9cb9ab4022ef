/**
 * ip-forward-off for IPv6 judged as the kernel forwards: ip6_forward reads conf.all.forwarding only;
 * an interface's own forwarding switches host/router behaviour on that link and neither stops nor
 * starts forwarding (ip-forward-ipv6.kernel.test.ts shows it on real namespaces). node-1 holds an
 * IPv6 pod range, so IPv6 is judged there.
 */
import {describe, expect, test} from 'vitest'
import {ipForwardOff} from '../../../src/lib/checks/ip-forward-off.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'

const LISTING = 'node-1: grep -r -H --include=forwarding . /proc/sys/net/ipv6/conf'
const SYSCTLS = 'node-1: grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables'

/** node-1 with conf.all.forwarding as given in its sysctls (omitted: not there) and the per-interface listing. */
function node1(all: '0' | '1' | undefined, perInterface: Record<string, '0' | '1'>): Snapshot {
  const base = flannelNode()
  const sysctls = (base.sysctls ?? '').split('\n').filter((l) => !l.includes('ipv6/conf/all/forwarding'))
  if (all !== undefined) sysctls.splice(1, 0, `/proc/sys/net/ipv6/conf/all/forwarding:${all}`)
  const listing = Object.entries(perInterface).map(([iface, v]) => `/proc/sys/net/ipv6/conf/${iface}/forwarding:${v}`).join('\n') + '\n'
  const snapshot = snapshotOf({nodes: [nodeEvidence('node-1', {...base, sysctls: sysctls.join('\n'), 'ipv6-forwarding': listing})]})
  const n = (snapshot.cluster!.objects.nodes as {metadata: {name: string}; spec: {podCIDRs: string[]}}[]).find((x) => x.metadata.name === 'node-1')
  n!.spec.podCIDRs = ['10.244.1.0/24', 'fd00:10:244:1::/64']
  return snapshot
}

describe('ip-forward-off, IPv6 per interface', () => {
  test('conf.all.forwarding=1 with cbr0 and eth0 at 0: the kernel still forwards, nothing to report', () => {
    expect(run(ipForwardOff, node1('1', {all: '1', default: '1', cbr0: '0', eth0: '0', 'flannel.1': '1'}))).toEqual({findings: [], skipped: []})
  })

  test("conf.all.forwarding=0 with interfaces left at 1: the node forwards no IPv6, and those interfaces' 1 is named as not helping", () => {
    const {findings} = run(ipForwardOff, node1('0', {all: '0', default: '0', cbr0: '1', eth0: '0', 'flannel.1': '1'}))
    expect(findings.map((f) => [f.family, f.message])).toEqual([
      [6, "net.ipv6.conf.all.forwarding is 0: the node routes no IPv6 packet, so IPv6 traffic of its IPv6 pod range fd00:10:244:1::/64 does not leave or reach the node (IPv4 is unaffected); cbr0, flannel.1 have their own forwarding at 1, which only makes them act as a router (IPv6 forwards by conf.all.forwarding alone)"],
    ])
    expect(findings[0]?.evidence).toEqual([
      {source: SYSCTLS, text: '/proc/sys/net/ipv6/conf/all/forwarding:0'},
      {source: 'api: Node node-1 spec.podCIDRs[1]', text: 'fd00:10:244:1::/64'},
      {source: LISTING, text: '/proc/sys/net/ipv6/conf/cbr0/forwarding:1'},
    ])
  })

  test('conf.all.forwarding only in the per-interface listing: judged from there, quoted from there', () => {
    const {findings} = run(ipForwardOff, node1(undefined, {all: '0', default: '0', cbr0: '0'}))
    expect(findings.map((f) => [f.family, f.evidence[0]])).toEqual([[6, {source: LISTING, text: '/proc/sys/net/ipv6/conf/all/forwarding:0'}]])
    expect(run(ipForwardOff, node1(undefined, {all: '1', cbr0: '0'}))).toEqual({findings: [], skipped: []})
  })
})
