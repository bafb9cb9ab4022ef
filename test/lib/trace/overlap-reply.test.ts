/**
 * cidr-overlap, bridge-nf-off, address-unowned and the reply walk, on the captured host-gw lab
 * (fixtures/README.md) edited the way the lab's faults change a node: node-1's bridge also claiming
 * node-2's pod CIDR, br_netfilter off on node-1, node-1 without its route to node-2's pods, a pod
 * deleted from the API.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {pathLine} from '../../../src/lib/render/trace-table.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot, type TraceRequest} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const fixture = fileURLToPath(new URL('fixtures/lab-host-gw.json.gz', import.meta.url))

function run(snapshot: Snapshot, src: string, dst: string, extra: Omit<TraceRequest, 'source' | 'destination'> = {}): TraceResult {
  return traceSnapshot(snapshot, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...extra})
}

type Result = Snapshot['nodes'][number]['results'][number]

function edit(snapshot: Snapshot, node: string, id: string, change: (r: Result) => void): Snapshot {
  const copy = structuredClone(snapshot)
  const result = copy.nodes.find((n) => n.name === node)?.results.find((r) => r.id === id)
  if (!result) throw new Error(`no ${id} on ${node}`)
  change(result)
  return copy
}

function editJson<T>(snapshot: Snapshot, node: string, id: string, change: (value: T[]) => T[]): Snapshot {
  return edit(snapshot, node, id, (r) => (r.stdout = JSON.stringify(change(JSON.parse(r.stdout) as T[]))))
}

interface RouteJson {dst: string; gateway?: string; dev?: string; protocol?: string; scope?: string; prefsrc?: string; flags: string[]}
interface AddrJson {ifname: string; addr_info: {family: string; local: string; prefixlen: number}[]}

const failing = (r: TraceResult) => [...r.hops, ...r.branches.flatMap((b) => b.hops)].filter((h) => h.status !== 'ok')

describe('trace: overlapping CIDRs, br_netfilter and the way back', () => {
  let snap: Snapshot
  beforeAll(async () => {
    snap = await readSnapshot(fixture)
  })

  it('cidr-overlap: node-1’s cbr0 also claims node-2’s pod CIDR, in both directions; the hop names the route and the owner', () => {
    // What the lab's cidr-overlap fault does: 10.244.2.1/24 noprefixroute on cbr0 and the /24 onto cbr0.
    let s = editJson<RouteJson>(snap, 'node-1', 'routes4', (routes) => routes.map((r) => (r.dst === '10.244.2.0/24' ? {dst: r.dst, dev: 'cbr0', protocol: 'kernel', scope: 'link', prefsrc: '10.244.2.1', flags: []} : r)))
    s = editJson<AddrJson>(s, 'node-1', 'addrs', (addrs) => addrs.map((a) => (a.ifname === 'cbr0' ? {...a, addr_info: [...a.addr_info, {family: 'inet', local: '10.244.2.1', prefixlen: 24}]} : a)))
    const out = run(s, 'web-1-1', 'web-2-1')
    expect([out.verdict, out.reason?.code, out.reason?.hop]).toEqual(['dropped', 'cidr-overlap', 3])
    expect(out.reason?.message).toBe('node-1 sends 10.244.2.2 onto its own cbr0 by "10.244.2.0/24 dev cbr0 proto kernel scope link src 10.244.2.1", but 10.244.2.2 is pod default/web-2-1 on node-2: node-1\'s 10.244.2.0/24 overlaps node-2\'s pod CIDR 10.244.2.0/24')
    expect(out.hops[2]?.evidence.slice(-3)).toEqual([
      {source: expect.stringMatching(/^node-1: ip -j route show/), text: '10.244.2.0/24 dev cbr0 proto kernel scope link src 10.244.2.1'},
      {source: expect.stringMatching(/^node-1: ip -j addr show/), text: 'cbr0: inet 10.244.2.1/24'},
      {source: 'Node node-2', text: 'spec.podCIDRs[0]: 10.244.2.0/24'},
    ])
    // The other way the request arrives; the reply is what node-1 misroutes.
    const back = run(s, 'web-2-2', 'web-1-2', {protocol: 'udp', port: 8080})
    expect([back.verdict, back.reason?.code]).toEqual(['dropped', 'cidr-overlap'])
    expect(pathLine(back.hops)).toBe('web-2-2 eth0 → veth2 → cbr0 → node-2 eth0 → 10.100.0.2 → node-1 eth0 → cbr0 → veth2 → web-1-2 eth0 → ↩ web-1-2 eth0 → ↩ veth2 → ✗ ↩ cbr0')
    expect(back.reason?.message).toMatch(/^the reply does not get back: node-1 sends 10\.244\.2\.3 onto its own cbr0/)
    // Same-node traffic is untouched.
    expect(run(s, 'web-1-1', 'web-1-2').verdict).toBe('delivered')
  })

  it('cidr-overlap without the API knowing: a range only another node’s bridge holds (docker0’s 172.17.0.0/16)', () => {
    // docker0-overlap: docker0 172.17.0.1/16 on node-1; node-2's cbr0 holds 172.17.2.1/24.
    let s = editJson<RouteJson>(snap, 'node-1', 'routes4', (routes) => [...routes, {dst: '172.17.0.0/16', dev: 'docker0', protocol: 'kernel', scope: 'link', prefsrc: '172.17.0.1', flags: []}])
    s = editJson<Record<string, unknown>>(s, 'node-1', 'links', (links) => [...links, {ifindex: 99, ifname: 'docker0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', linkinfo: {info_kind: 'bridge'}}])
    s = editJson<AddrJson>(s, 'node-1', 'addrs', (addrs) => [...addrs, {ifname: 'docker0', ifindex: 99, flags: ['UP'], addr_info: [{family: 'inet', local: '172.17.0.1', prefixlen: 16}]} as AddrJson])
    s = editJson<AddrJson>(s, 'node-2', 'addrs', (addrs) => addrs.map((a) => (a.ifname === 'cbr0' ? {...a, addr_info: [...a.addr_info, {family: 'inet', local: '172.17.2.1', prefixlen: 24}]} : a)))
    const out = run(s, 'web-1-1', '172.17.2.3:8080')
    expect([out.verdict, out.reason?.code]).toEqual(['dropped', 'cidr-overlap'])
    expect(out.reason?.message).toBe('node-1 sends 172.17.2.3 onto its own docker0 by "172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1", where nothing has that address; it lives on node-2, whose cbr0 holds 172.17.2.1/24: node-1\'s 172.17.0.0/16 overlaps that range')
    expect(failing(out).map((h) => h.label)).toEqual(['cbr0'])
  })

  it('an on-link address outside every pod CIDR that no pod has: unknown unless the neighbour table says who answers (or that nothing does)', () => {
    // docker0-overlap on node-2 itself: cbr0 also holds 172.17.2.1/24, and the API knows no 172.17.2.3.
    let s = editJson<RouteJson>(snap, 'node-2', 'routes4', (routes) => [...routes, {dst: '172.17.2.0/24', dev: 'cbr0', protocol: 'kernel', scope: 'link', prefsrc: '172.17.2.1', flags: []}])
    s = editJson<AddrJson>(s, 'node-2', 'addrs', (addrs) => addrs.map((a) => (a.ifname === 'cbr0' ? {...a, addr_info: [...a.addr_info, {family: 'inet', local: '172.17.2.1', prefixlen: 24}]} : a)))
    type NeighJson = {dst: string; dev: string; lladdr?: string; state: string[]}
    const noEntry = editJson<NeighJson>(s, 'node-2', 'neigh', (ns) => ns.filter((n) => n.dst !== '172.17.2.3'))
    const unknown = run(noEntry, 'web-2-1', '172.17.2.3:8080')
    expect([unknown.verdict, unknown.reason?.code, failing(unknown).map((h) => [h.label, h.status])]).toEqual(['unknown', 'evidence-missing', [['cbr0', 'unknown']]])
    expect(unknown.reason?.message).toBe("node-2 routes 172.17.2.3 to cbr0, but no pod in the cluster state has 172.17.2.3 and node-2's neighbour table has no entry for it on cbr0: whether something outside the cluster state answers there is not in the evidence")
    // ARP for it failed: nothing there; a drop.
    const failed = run(editJson<NeighJson>(noEntry, 'node-2', 'neigh', (ns) => [...ns, {dst: '172.17.2.3', dev: 'cbr0', state: ['FAILED']}]), 'web-2-1', '172.17.2.3:8080')
    expect([failed.verdict, failed.reason?.code, failed.reason?.message]).toEqual(['dropped', 'route-missing', 'node-2 routes 172.17.2.3 to cbr0, but no pod in the cluster state has 172.17.2.3 and nothing on cbr0 answered ARP for it (FAILED)'])
    // A MAC that is no pod's: something answers, but not a pod knet can follow.
    const stranger = run(editJson<NeighJson>(noEntry, 'node-2', 'neigh', (ns) => [...ns, {dst: '172.17.2.3', dev: 'cbr0', lladdr: '02:42:ac:11:02:03', state: ['REACHABLE']}]), 'web-2-1', '172.17.2.3:8080')
    expect([stranger.verdict, stranger.reason?.code]).toEqual(['unknown', 'evidence-missing'])
    expect(stranger.reason?.message).toMatch(/172\.17\.2\.3 answers from 02:42:ac:11:02:03 on cbr0, which is no pod's/)
  })

  it('bridge-nf-off: the reply of a same-bridge Service endpoint is switched, never un-DNATed', () => {
    const s = edit(snap, 'node-1', 'sysctls', (r) => (r.stdout = r.stdout.replace('bridge-nf-call-iptables:1', 'bridge-nf-call-iptables:0')))
    const dns = run(s, 'web-1-2', 'svc/default/dns')
    expect([dns.verdict, dns.reason?.code]).toEqual(['partial', 'bridge-nf-off'])
    expect(dns.branches.map((b) => [b.endpoint, b.verdict, b.reason?.code ?? null])).toEqual([
      ['pod/default/web-1-1', 'dropped', 'bridge-nf-off'],
      ['pod/default/web-2-1', 'delivered', null],
    ])
    const bad = failing(dns)
    expect(bad.map((h) => [h.label, h.code])).toEqual([['↩ cbr0', 'bridge-nf-off']])
    expect(bad[0]?.evidence).toEqual([{source: expect.stringMatching(/^node-1: grep -H \./), text: '/proc/sys/net/bridge/bridge-nf-call-iptables:0'}])
    expect(bad[0]?.action).toContain('its source is not rewritten back to 10.96.0.53')
    // Direct pod to pod on the bridge needs no un-DNAT; a client on node-2 gets its replies routed.
    expect(run(s, 'web-1-2', 'web-1-1', {protocol: 'udp', port: 5353}).verdict).toBe('delivered')
    expect(run(s, 'web-2-2', 'svc/default/dns').verdict).toBe('delivered')
    // With br_netfilter on (the fixture), the same trace is delivered.
    expect(run(snap, 'web-1-2', 'svc/default/dns').verdict).toBe('delivered')
  })

  it('a route missing on the destination’s node breaks the reply: dropped, the failing hop marked ↩ (node-1 sends it to its default gateway)', () => {
    const s = editJson<RouteJson>(snap, 'node-1', 'routes4', (routes) => routes.filter((r) => r.dst !== '10.244.2.0/24'))
    const r = run(s, 'web-2-1', 'web-1-2', {protocol: 'udp', port: 5353})
    expect([r.verdict, r.reason?.code]).toEqual(['dropped', 'route-missing'])
    expect(failing(r).map((h) => h.label)).toEqual(['↩ 10.100.0.1'])
    expect(r.hops.find((h) => h.label === '↩ web-1-2 eth0')?.action).toBe('the reply: leaves pod pod/default/web-1-2 by eth0 from 10.244.1.3')
  })

  it('address-unowned: an address in a pod CIDR that no pod has (a deleted pod)', () => {
    const s = structuredClone(snap)
    if (!s.cluster) throw new Error('no cluster')
    s.cluster.objects.pods = s.cluster.objects.pods.filter((p) => (p as {metadata: {name: string}}).metadata.name !== 'web-2-2')
    const r = run(s, 'web-1-1', '10.244.2.3:8080')
    expect([r.verdict, r.reason?.code, r.destination.kind]).toEqual(['dropped', 'address-unowned', 'external'])
    expect(r.reason?.message).toBe('no pod has 10.244.2.3: it is in node-2\'s pod CIDR 10.244.2.0/24, but no pod in the cluster state has it, so nothing on cbr0 answers for it')
  })
})

describe('trace: a node whose own NIC MTU is lower than the pod network’s (the lab’s mtu-mismatch)', () => {
  const lower = (s: Snapshot) => editJson<{ifname: string; mtu?: number}>(s, 'node-1', 'links', (links) => links.map((l) => (l.ifname === 'eth0' ? {...l, mtu: 1400} : l)))
  const icmp = (size: number) => ({protocol: 'icmp' as const, size})

  it('host-gw: node-1 cannot send it, and drops what arrives full-size', async () => {
    const s = lower(await readSnapshot(fixture))
    expect(run(s, 'web-1-1', 'web-2-1', icmp(1372)).verdict).toBe('delivered')
    const out = run(s, 'web-1-1', 'web-2-1', icmp(1472))
    expect([out.verdict, out.reason?.code, failing(out).map((h) => h.label)]).toEqual(['dropped', 'mtu-exceeded', ['node-1 eth0']])
    const back = run(s, 'web-2-2', 'web-1-2', icmp(1472))
    expect([back.verdict, back.reason?.code, failing(back).map((h) => h.label)]).toEqual(['dropped', 'mtu-exceeded', ['10.100.0.2']])
    expect(back.reason?.message).toBe('a 1500-byte packet does not fit the MTU 1400 of node-1 eth0, where it arrives')
    expect(failing(back)[0]?.evidence.at(-1)?.text).toMatch(/^2: eth0: <[A-Z_,]+> mtu 1400 /)
  })

  it('vxlan: node-1 sends the encapsulated packet in fragments; the full-size reply is what dies', async () => {
    const s = lower(await readSnapshot(fileURLToPath(new URL('fixtures/lab-vxlan.json.gz', import.meta.url))))
    expect(run(s, 'web-1-1', 'web-2-1', icmp(1322)).verdict).toBe('delivered')
    const out = run(s, 'web-1-1', 'web-2-1', icmp(1422))
    expect([out.verdict, out.reason?.code, failing(out).map((h) => h.label)]).toEqual(['dropped', 'mtu-exceeded', ['↩ 10.100.0.2']])
    expect(out.hops.find((h) => h.label === 'node-1 flannel.1')?.action).toContain('the 1500-byte encapsulated packet is bigger than eth0\'s MTU 1400: it leaves in fragments')
    expect(out.reason?.message).toBe('the reply does not get back: a 1500-byte encapsulated packet does not fit the MTU 1400 of node-1 eth0, where it arrives')
  })
})

describe('trace: a filter rule enforcing a NetworkPolicy is netpol-denied', () => {
  it('the DROP in FORWARD and the API policy that denies the same connection', async () => {
    let s = await readSnapshot(fixture)
    s = structuredClone(s)
    if (!s.cluster) throw new Error('no cluster')
    // The lab's netpol-deny: a default-deny ingress policy selecting web-2-2, enforced by a FORWARD rule on node-2.
    s.cluster.objects.networkPolicies = [{metadata: {name: 'deny-web-2-2', namespace: 'default'}, spec: {podSelector: {matchLabels: {quarantine: 'true'}}, policyTypes: ['Ingress']}}]
    s.cluster.objects.pods = s.cluster.objects.pods.map((p) => {
      const m = (p as {metadata: {name: string; labels?: Record<string, string>}}).metadata
      return m.name === 'web-2-2' ? {...(p as object), metadata: {...m, labels: {...m.labels, quarantine: 'true'}}} : p
    })
    s = edit(s, 'node-2', 'iptables-save', (r) => (r.stdout = r.stdout.replace(/^(\*filter\n(?::.*\n)*)/m, '$1-A FORWARD -d 10.244.2.3/32 -m comment --comment "default/deny-web-2-2" -j DROP\n')))
    const r = run(s, 'web-1-1', 'web-2-2')
    expect([r.verdict, r.reason?.code]).toEqual(['dropped', 'netpol-denied'])
    expect(r.reason?.message).toMatch(/^NetworkPolicy default\/deny-web-2-2 selects default\/web-2-2 for ingress and admits nothing from default\/web-1-1 on 8080\/tcp \(enforced on node-2 in filter FORWARD\)$/)
    // Without the policy in the API, the same rule is just a netfilter drop.
    const plain = structuredClone(s)
    if (plain.cluster) plain.cluster.objects.networkPolicies = []
    expect(run(plain, 'web-1-1', 'web-2-2').reason?.code).toBe('netfilter-drop')
  })
})

describe('trace --source-port: a flow conntrack already holds follows its entry', () => {
  const withEntry = (s: Snapshot, to: string) => edit(s, 'node-1', 'conntrack', (r) => (r.stdout = `udp      17 29 src=10.244.1.3 dst=10.96.0.53 sport=40053 dport=53 src=${to} dst=10.244.1.3 sport=5353 dport=40053 mark=0 use=1\n${r.stdout}`))

  it('an entry that still DNATs to a removed endpoint is nat-stale-endpoint; a live one is that endpoint alone; a new port is NEW', async () => {
    const snap = await readSnapshot(fixture)
    const stale = run(withEntry(snap, '10.244.2.99'), 'web-1-2', 'svc/default/dns', {sourcePort: 40053})
    expect([stale.verdict, stale.reason?.code, stale.source.port]).toEqual(['dropped', 'nat-stale-endpoint', 40053])
    expect(failing(stale)[0]?.evidence).toEqual([{source: expect.stringMatching(/^node-1: conntrack -L/), text: 'udp 17 29 src=10.244.1.3 dst=10.96.0.53 sport=40053 dport=53 src=10.244.2.99 dst=10.244.1.3 sport=5353 dport=40053'}])
    const live = run(withEntry(snap, '10.244.2.2'), 'web-1-2', 'svc/default/dns', {sourcePort: 40053})
    expect([live.verdict, live.branches.map((b) => b.endpoint), live.nat.dnat.map((d) => d.probability)]).toEqual(['delivered', ['pod/default/web-2-1'], [1]])
    expect(run(withEntry(snap, '10.244.2.99'), 'web-1-2', 'svc/default/dns', {sourcePort: 40054}).branches).toHaveLength(2)
    expect(() => run(snap, 'web-1-2', 'web-2-1', {protocol: 'icmp', sourcePort: 1})).toThrow('--source-port needs tcp or udp')
  })
})
