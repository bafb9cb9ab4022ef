/**
 * IPv6 and dual-stack trace against real kernel state (root: network namespaces, see
 * dual-stack-netns.ts): IPv6 routes, NDP entries, ip6tables DNAT of a dual-stack Service's IPv6
 * ClusterIP, net.ipv6.conf.all.forwarding, the ip6tables FORWARD policy, and the 40-byte IPv6
 * header in MTU checks. Each prediction is compared with a real ping/ping -6 in the same state.
 */
import {afterAll, beforeAll, expect, it} from 'vitest'
import {pathLine} from '../../../src/lib/render/trace-table.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot, type TraceRequest} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'
import {describeNetns} from '../../helpers/netns.js'
import {buildDualStackLab, V4, V6, type DualStackLab} from './dual-stack-netns.js'

function trace(snapshot: Snapshot, src: string, dst: string, extra: Omit<TraceRequest, 'source' | 'destination'> = {}): TraceResult {
  return traceSnapshot(snapshot, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...extra})
}

const summary = (r: TraceResult) => `${r.verdict}${r.reason ? ` ${r.reason.code}` : ''}: ${pathLine(r.hops)}`

describeNetns('trace: IPv6 and dual-stack on real namespaces', () => {
  let lab: DualStackLab
  const ping = (family: 4 | 6, to: string, size?: number): boolean =>
    lab.pod[0].tryRun(['ping', `-${family}`, '-c', '1', '-W', '2', '-M', 'do', ...(size === undefined ? [] : ['-s', String(size)]), to]).status === 0

  beforeAll(() => {
    lab = buildDualStackLab('v6t')
  })
  afterAll(() => lab?.destroy())

  it('healthy: pod to pod by IPv6 address and by --ip-family 6, and the dual-stack Service in each family', async () => {
    const snap = await lab.snapshot()
    const byLiteral = trace(snap, 'p1', `[${V6.pod2}]:8080`)
    expect(summary(byLiteral)).toBe(`delivered: p1 eth0 → veth1 → cbr0 → node-1 eth0 → ${V6.node2} → node-2 eth0 → cbr0 → veth1 → p2 eth0`)
    expect([byLiteral.source.ip, byLiteral.destination.ip, byLiteral.destination.name]).toEqual([V6.pod1, V6.pod2, 'pod/default/p2'])
    // The route hop quotes node-1's IPv6 route, read from `ip -6 -j route show table all`.
    const routeEv = byLiteral.hops.flatMap((h) => h.evidence).find((e) => e.text.includes('fd00:10:244:2::/64'))
    expect(routeEv?.source).toBe('node-1: ip -6 -j rule show / node-1: ip -6 -j route show table all')
    expect(byLiteral.hops.flatMap((h) => h.evidence).map((e) => e.text)).toContain('/proc/sys/net/ipv6/conf/all/forwarding:1')
    // The bridge hop is named from the NDP entry of the pod's IPv6 address.
    expect(byLiteral.hops.flatMap((h) => h.evidence).some((e) => e.source === 'node-2: ip -j neigh show' && e.text.startsWith(`${V6.pod2} dev cbr0 lladdr`))).toBe(true)
    expect(trace(snap, 'p1', 'p2', {family: 6, protocol: 'icmp'}).destination.ip).toBe(V6.pod2)
    // Without --ip-family a pod is traced in its first family (IPv4 here).
    expect(trace(snap, 'p1', 'p2', {protocol: 'icmp'}).destination.ip).toBe(V4.pod2)
    expect(ping(6, V6.pod2)).toBe(true)

    const svc6 = trace(snap, 'p1', 'svc/default/web', {family: 6})
    expect([svc6.verdict, svc6.destination.ip, svc6.nat.dnat.map((d) => [d.ip, d.port, d.endpoint])]).toEqual(['delivered', V6.svc, [[V6.pod2, 8080, 'pod/default/p2']]])
    expect(svc6.destination.evidence[0]?.text).toBe(`spec.clusterIPs[1]: ${V6.svc}; spec.ports[0]: http 80/TCP → 8080`)
    const dnatHop = [...svc6.hops, ...svc6.branches.flatMap((b) => b.hops)].find((h) => h.action.includes('DNAT to'))
    expect(dnatHop?.action).toMatch(/DNAT to \[fd00:10:244:2::2\]:8080 \(100%\)/)
    expect(dnatHop?.evidence.some((e) => e.source === 'node-1: ip6tables-save' && e.text.includes('-j DNAT --to-destination [fd00:10:244:2::2]:8080'))).toBe(true)
    const svc4 = trace(snap, 'p1', 'svc/default/web')
    expect([svc4.verdict, svc4.destination.ip, svc4.nat.dnat.map((d) => d.ip)]).toEqual(['delivered', V4.svc, [V4.pod2]])
    // The IPv6 ClusterIP given as a literal resolves to the same Service.
    expect(trace(snap, 'p1', `[${V6.svc}]:80`).destination.name).toBe('svc/default/web')
  })

  it('IPv6 forwarding off on node-1 drops IPv6 (ip-forward-off, naming net.ipv6.conf.all.forwarding) while IPv4 still gets through, as ping says', async () => {
    lab.node[0].run(['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=0'])
    try {
      const snap = await lab.snapshot()
      const r = trace(snap, 'p1', `[${V6.pod2}]:8080`)
      expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual(['dropped', 'ip-forward-off', 'net.ipv6.conf.all.forwarding is 0 on node-1'])
      expect(r.hops.find((h) => h.status === 'fail')?.evidence.map((e) => e.text)).toContain('/proc/sys/net/ipv6/conf/all/forwarding:0')
      expect(trace(snap, 'p1', 'svc/default/web', {family: 6}).reason?.code).toBe('ip-forward-off')
      expect(trace(snap, 'p1', `${V4.pod2}:8080`).verdict).toBe('delivered')
      expect([ping(6, V6.pod2), ping(4, V4.pod2)]).toEqual([false, true])
    } finally {
      lab.node[0].run(['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1'])
    }
  })

  it('an ip6tables FORWARD policy DROP is forward-drop for IPv6 only', async () => {
    lab.node[0].run(['ip6tables', '-P', 'FORWARD', 'DROP'])
    try {
      const snap = await lab.snapshot()
      const r = trace(snap, 'p1', `[${V6.pod2}]:8080`)
      expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual(['dropped', 'forward-drop', 'node-1: FORWARD policy DROP and no rule accepts it'])
      expect(r.hops.find((h) => h.status === 'fail')?.evidence.some((e) => e.source === 'node-1: ip6tables-save')).toBe(true)
      expect(trace(snap, 'p1', `${V4.pod2}:8080`).verdict).toBe('delivered')
      expect([ping(6, V6.pod2), ping(4, V4.pod2)]).toEqual([false, true])
    } finally {
      lab.node[0].run(['ip6tables', '-P', 'FORWARD', 'ACCEPT'])
    }
  })

  it("a missing IPv6 route to the other node's IPv6 pod range is route-missing for IPv6 only", async () => {
    lab.node[0].run(['ip', '-6', 'route', 'del', 'fd00:10:244:2::/64'])
    try {
      const snap = await lab.snapshot()
      const r = trace(snap, 'p1', `[${V6.pod2}]:8080`)
      expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual(['dropped', 'route-missing', `node-1 has no route to ${V6.pod2}`])
      expect(trace(snap, 'p1', `${V4.pod2}:8080`).verdict).toBe('delivered')
      expect([ping(6, V6.pod2), ping(4, V4.pod2)]).toEqual([false, true])
    } finally {
      lab.node[0].run(['ip', '-6', 'route', 'add', 'fd00:10:244:2::/64', 'via', V6.node2])
    }
  })

  it('MTU counts the 40-byte IPv6 header: a 1452-byte ICMPv6 payload fits 1500, 1453 does not (IPv4 fits 1472)', async () => {
    const snap = await lab.snapshot()
    const fits = trace(snap, 'p1', V6.pod2, {protocol: 'icmp', size: 1452})
    const over = trace(snap, 'p1', V6.pod2, {protocol: 'icmp', size: 1453})
    expect([fits.verdict, over.verdict, over.reason?.code]).toEqual(['delivered', 'dropped', 'mtu-exceeded'])
    expect(over.reason?.message).toMatch(/^a 1501-byte IPv6 packet does not fit the MTU 1500 of /)
    expect(trace(snap, 'p1', V4.pod2, {protocol: 'icmp', size: 1472}).verdict).toBe('delivered')
    // ping -M do (don't fragment) agrees: the kernel refuses what does not fit.
    expect([ping(6, V6.pod2, 1452), ping(6, V6.pod2, 1453), ping(4, V4.pod2, 1472)]).toEqual([true, false, true])
  })
}, ['ping', 'iptables-restore', 'ip6tables-restore', 'ip6tables'])
