/**
 * Calico's IPIP mode, from fixtures: this kernel has no ipip devices, so the captured ptp lab
 * (fixtures/README.md) is edited into IPIP's inter-node layout as calico-node leaves it — a `tunl0`
 * ipip device (`ip -d link`: mtu 1480, linkinfo ipip with local/remote any) holding the node's
 * tunnel address, and each other node's range routed "via NODE_IP dev tunl0 proto bird onlink".
 * Trace follows it as an overlay hop (to the next hop's node, arriving by its tunl0, 20 more bytes
 * on the wire); doctor reports a lost tunl0 route as route-missing.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {pathLine} from '../../../src/lib/render/trace-table.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot, type TraceRequest} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
const trace = (s: Snapshot, src: string, dst: string, extra: Omit<TraceRequest, 'source' | 'destination'> = {}): TraceResult =>
  traceSnapshot(s, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...extra})
const summary = (r: TraceResult) => `${r.verdict}${r.reason ? ` ${r.reason.code}` : ''}: ${pathLine(r.hops)}`

type Json = Record<string, unknown>

function editJson(snapshot: Snapshot, node: string, id: string, change: (value: Json[]) => Json[]): void {
  const r = snapshot.nodes.find((n) => n.name === node)?.results.find((x) => x.id === id)
  if (!r) throw new Error(`no ${id} on ${node}`)
  r.stdout = JSON.stringify(change(JSON.parse(r.stdout) as Json[]))
}

/** node i (1, 2) as calico-node in IPIP mode leaves it: tunl0 with 10.244.i.0/32, the other node's range through it. */
function ipipLayout(base: Snapshot, eth0Mtu: Record<string, number> = {}): Snapshot {
  const s = structuredClone(base)
  for (const [i, name] of ['node-1', 'node-2'].entries()) {
    const tunnelIp = `10.244.${i + 1}.0`
    editJson(s, name, 'links', (links) => [
      ...links.map((l) => (l.ifname === 'eth0' && eth0Mtu[name] ? {...l, mtu: eth0Mtu[name]} : l)),
      {ifindex: 40, ifname: 'tunl0', flags: ['NOARP', 'UP', 'LOWER_UP'], mtu: 1480, qdisc: 'noqueue', operstate: 'UNKNOWN', link_type: 'ipip', address: '0.0.0.0', broadcast: '0.0.0.0', linkinfo: {info_kind: 'ipip', info_data: {proto: 'ip', remote: 'any', local: 'any', ttl: 0, pmtudisc: true}}},
    ])
    editJson(s, name, 'addrs', (addrs) => [...addrs, {ifindex: 40, ifname: 'tunl0', flags: ['NOARP', 'UP', 'LOWER_UP'], mtu: 1480, operstate: 'UNKNOWN', addr_info: [{family: 'inet', local: tunnelIp, prefixlen: 32, scope: 'global', label: 'tunl0'}]}])
    editJson(s, name, 'routes4', (routes) => routes.map((r) => (r.dst === `10.244.${2 - i}.0/24` ? {dst: r.dst, gateway: r.gateway, dev: 'tunl0', protocol: 'bird', flags: ['onlink']} : r)))
  }
  return s
}

describe('Calico IPIP (tunl0), from fixtures', () => {
  let ptp: Snapshot
  let snap: Snapshot
  beforeAll(async () => {
    ptp = await readSnapshot(fixture('lab-ptp.json.gz'))
    snap = ipipLayout(ptp)
  })

  it('pod to pod across nodes goes through tunl0 to the next hop’s node and arrives by its tunl0; Services too', () => {
    const r = trace(snap, 'web-1-1', 'web-2-2')
    expect(summary(r)).toBe('delivered: web-1-1 eth0 → node-1 veth1 → node-1 tunl0 → 10.100.0.3 → node-2 tunl0 → veth2 → web-2-2 eth0')
    expect(r.hops.find((h) => h.label === 'node-1 tunl0')?.action).toBe('leaves by tunl0 (mtu 1480), encapsulated in IPIP (20 more bytes) to 10.100.0.3')
    expect(trace(snap, 'web-2-1', 'web-1-2', {protocol: 'udp'}).verdict).toBe('delivered')
    expect(trace(snap, 'web-1-1', 'svc/default/web').verdict).toBe('delivered')
  })

  it('MTU: the inner packet must fit tunl0 (1480), and the encapsulated one (20 bytes more) the receiving node’s NIC', () => {
    // 1452 bytes of ICMP payload: a 1480-byte packet, 1500 with the outer header.
    expect(trace(snap, 'web-1-1', 'web-2-1', {protocol: 'icmp', size: 1452}).verdict).toBe('delivered')
    const tooBig = trace(snap, 'web-1-1', 'web-2-1', {protocol: 'icmp', size: 1453})
    expect([tooBig.verdict, tooBig.reason?.code, tooBig.reason?.message]).toEqual(['dropped', 'mtu-exceeded', 'a 1481-byte packet does not fit the MTU 1480 of node-1 tunl0'])
    const smallNic = trace(ipipLayout(ptp, {'node-2': 1490}), 'web-1-1', 'web-2-1', {protocol: 'icmp', size: 1452})
    expect([smallNic.verdict, smallNic.reason?.code, smallNic.reason?.message]).toEqual(['dropped', 'mtu-exceeded', 'a 1500-byte encapsulated packet does not fit the MTU 1490 of node-2 eth0, where it arrives'])
  })

  it('a lost tunl0 route: trace route-missing on that node, doctor route-missing naming the node and the route it falls to', () => {
    const lost = structuredClone(snap)
    editJson(lost, 'node-1', 'routes4', (routes) => routes.filter((r) => r.dst !== '10.244.2.0/24'))
    const r = trace(lost, 'web-1-1', 'web-2-2')
    expect([r.verdict, r.reason?.code]).toEqual(['dropped', 'route-missing'])
    const report = runDoctor(lost, CHECKS)
    expect(report.findings.map((f) => [f.severity, f.check, f.node, f.evidence[0]?.text])).toEqual([['error', 'route-missing', 'node-1', 'default via 10.100.0.1 dev eth0']])
    expect(runDoctor(snap, CHECKS).findings).toEqual([])
  })
})
