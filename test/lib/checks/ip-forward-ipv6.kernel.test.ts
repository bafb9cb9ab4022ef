/**
 * What stops IPv6 forwarding, on the kernel (root; the dual-stack namespaces of
 * test/lib/trace/dual-stack-netns.ts): node-1's own interfaces at forwarding=0 under
 * conf.all.forwarding=1 still forward pod-1's IPv6 traffic to pod-2, and doctor says nothing;
 * conf.all.forwarding=0 stops it even with those interfaces set back to 1, and doctor names it.
 */
import {afterAll, beforeAll, expect, it} from 'vitest'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {ipForwardOff} from '../../../src/lib/checks/ip-forward-off.js'
import {describeNetns} from '../../helpers/netns.js'
import {buildDualStackLab, V4, V6, type DualStackLab} from '../trace/dual-stack-netns.js'

describeNetns('IPv6 forwarding per interface vs conf.all on real namespaces', () => {
  let lab: DualStackLab
  const forwarding = (iface: string, value: 0 | 1) => lab.node[0].run(['sysctl', '-q', '-w', `net.ipv6.conf.${iface}.forwarding=${value}`])
  const ping = (ip: string) => lab.pod[0].tryRun(['ping', ...(ip.includes(':') ? ['-6'] : []), '-c', '1', '-W', '2', ip]).status
  const findings = async () => runDoctor(await lab.snapshot(), [ipForwardOff]).findings

  beforeAll(() => {
    lab = buildDualStackLab('v6f')
  })
  afterAll(() => lab?.destroy())

  it('all=1, eth0, cbr0 and veth1 at 0: pod-1 still reaches pod-2 over IPv6, and nothing is reported', async () => {
    for (const iface of ['eth0', 'cbr0', 'veth1']) forwarding(iface, 0)
    try {
      expect(ping(V6.pod2)).toBe(0)
      expect(await findings()).toEqual([])
    } finally {
      forwarding('all', 1)
    }
  })

  it('all=0, eth0 and cbr0 set back to 1: IPv6 to pod-2 is dropped (IPv4 delivered), and ip-forward-off names conf.all', async () => {
    forwarding('all', 0)
    for (const iface of ['eth0', 'cbr0']) forwarding(iface, 1)
    try {
      expect([ping(V6.pod2) === 0, ping(V4.pod2) === 0]).toEqual([false, true])
      const found = await findings()
      expect(found.map((f) => [f.check, f.node, f.family, f.message])).toEqual([
        ['ip-forward-off', 'node-1', 6, `net.ipv6.conf.all.forwarding is 0: the node routes no IPv6 packet, so IPv6 traffic of its pods' IPv6 addresses (${V6.pod1}) does not leave or reach the node (IPv4 is unaffected); cbr0, eth0 have their own forwarding at 1, which only makes them act as a router (IPv6 forwards by conf.all.forwarding alone)`],
      ])
      expect(found[0]?.evidence.map((e) => e.text)).toEqual(['/proc/sys/net/ipv6/conf/all/forwarding:0', V6.pod1, '/proc/sys/net/ipv6/conf/cbr0/forwarding:1'])
    } finally {
      forwarding('all', 1)
    }
  })
}, ['ping', 'iptables-restore', 'ip6tables-restore'])
