/**
 * Pods on routed veths (no bridge), on the captured ptp lab (fixtures/README.md: kindnet's layout)
 * edited the way real nodes differ: a lost per-pod route, a pod's veth down, the CNI's own records
 * naming the veth when routes and neighbours do not, policy routing as the AWS VPC CNI sets it up
 * (a rule per pod selecting a table), and a deleted pod.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {pathLine} from '../../../src/lib/render/trace-table.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot, type TraceRequest} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))

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

/** A catalogue read the lab cannot have (its nodes share one filesystem), as a real node returns it; added to older snapshots. */
function withRecords(snapshot: Snapshot, node: string, id: 'cni-ipam' | 'cni-results', stdout: string): Snapshot {
  const copy = structuredClone(snapshot)
  const n = copy.nodes.find((x) => x.name === node)
  if (!n) throw new Error(`no ${node}`)
  const template = n.results.find((r) => r.id === 'cni-conf') as Result
  const argv = ['grep', '-r', '-H', '.', id === 'cni-ipam' ? '/var/lib/cni/networks' : '/var/lib/cni/results']
  n.results = [...n.results.filter((r) => r.id !== id), {...template, id, argv, execArgv: argv, status: 'ok', exitCode: 0, stdout, stderr: '', truncated: false}]
  delete (n.results.at(-1) as Result).reason
  return copy
}

interface RouteJson {dst: string; gateway?: string; dev?: string; scope?: string; table?: string; type?: string; flags: string[]}
interface AddrJson {ifname: string; addr_info: {family: string; local: string; prefixlen: number}[]}
interface LinkJson {ifname: string; flags: string[]; operstate: string}
interface NeighJson {dst: string; dev: string}
interface RuleJson {priority: number; src: string; dst?: string; dstlen?: number; srclen?: number; table: string}

const summary = (r: TraceResult) => `${r.verdict}${r.reason ? ` ${r.reason.code}` : ''}: ${pathLine(r.hops)}`
const failing = (r: TraceResult) => [...r.hops, ...r.branches.flatMap((b) => b.hops)].filter((h) => h.status !== 'ok')

/** node-2 without its /32 route to web-2-3's address 10.244.2.3 (and, with `neigh`, without the neighbour entry). */
function withoutPodRoute(snap: Snapshot, neigh = false): Snapshot {
  const s = editJson<RouteJson>(snap, 'node-2', 'routes4', (routes) => routes.filter((r) => r.dst !== '10.244.2.3'))
  return neigh ? editJson<NeighJson>(s, 'node-2', 'neigh', (n) => n.filter((x) => x.dst !== '10.244.2.3')) : s
}

describe('trace: pods on routed veths (the ptp lab, kindnet’s layout)', () => {
  let snap: Snapshot
  beforeAll(async () => {
    snap = await readSnapshot(fixture('lab-ptp.json.gz'))
  })

  it('healthy: a /32 route to a veth that is on no bridge is delivery to the pod, same node and across nodes, and Services', () => {
    expect(summary(run(snap, 'web-1-1', 'web-1-2'))).toBe('delivered: web-1-1 eth0 → node-1 veth1 → veth2 → web-1-2 eth0')
    expect(summary(run(snap, 'web-1-1', 'web-2-2'))).toBe('delivered: web-1-1 eth0 → node-1 veth1 → node-1 eth0 → 10.100.0.3 → node-2 eth0 → veth2 → web-2-2 eth0')
    expect(summary(run(snap, 'node/node-1', 'web-2-1'))).toBe('delivered: node-1 → node-1 eth0 → 10.100.0.3 → node-2 eth0 → veth1 → web-2-1 eth0')
    const svc = run(snap, 'web-2-2', 'svc/default/web')
    expect([svc.verdict, svc.branches.map((b) => b.verdict)]).toEqual(['delivered', ['delivered', 'delivered', 'delivered', 'delivered']])
    // Every veth is named from the node's own route to the pod: no "veth?".
    const labels = [svc, run(snap, 'web-1-1', 'web-2-2')].flatMap((r) => [...r.hops, ...r.branches.flatMap((b) => b.hops)].map((h) => h.label))
    expect(labels.filter((l) => l.includes('?'))).toEqual([])
    const veth = run(snap, 'web-1-1', 'web-2-2').hops.find((h) => h.label === 'veth2')
    expect(veth?.action).toBe("routed to the pod's host-side veth2")
  })

  it('a lost per-pod route is route-missing on that node, both ways; the veth is named by elimination', () => {
    const s = withoutPodRoute(snap, true)
    const to = run(s, 'web-1-1', 'web-2-2')
    expect([to.verdict, to.reason?.code]).toEqual(['dropped', 'route-missing'])
    expect(to.reason?.message).toBe('node-2 has no route to its own pod default/web-2-2 (10.244.2.3) (its veth veth2, named by elimination: veth2 is the only pod veth without a per-pod route, and web-2-2 the only pod of node-2 without one, is up): a routed CNI needs one per pod')
    expect(failing(to).map((h) => [h.node, h.code])).toEqual([['node-2', 'route-missing']])
    // From the pod: node-2 has no way back to it, so nothing it starts is answered.
    const from = run(s, 'web-2-2', 'web-1-1')
    expect([from.verdict, from.reason?.code, from.hops[1]?.label]).toEqual(['dropped', 'route-missing', 'veth2'])
    // Same node too: ptp routes pod to pod through the node.
    expect(run(s, 'web-2-1', 'web-2-2').reason?.code).toBe('route-missing')
    expect(run(s, 'web-2-1', 'web-1-1').verdict).toBe('delivered')
  })

  it('a down host veth is link-down (the kernel removed the route through it with it), named from the neighbour entry or by elimination', () => {
    let s = withoutPodRoute(snap)
    s = editJson<LinkJson>(s, 'node-2', 'links', (links) => links.map((l) => (l.ifname === 'veth2' ? {...l, flags: ['BROADCAST', 'MULTICAST'], operstate: 'DOWN'} : l)))
    const viaNeigh = run(s, 'web-1-1', 'web-2-2')
    expect([viaNeigh.verdict, viaNeigh.reason?.code]).toEqual(['dropped', 'link-down'])
    expect(viaNeigh.reason?.message).toBe("node-2: veth2, the host side of pod default/web-2-2 (named by the neighbour entry for 10.244.2.3), is down, and the node's route to 10.244.2.3 went with it")
    s = editJson<NeighJson>(s, 'node-2', 'neigh', (n) => n.filter((x) => x.dst !== '10.244.2.3'))
    const from = run(s, 'web-2-2', 'web-1-1')
    expect([from.verdict, from.reason?.code, from.hops[1]?.label]).toEqual(['dropped', 'link-down', 'veth2'])
    expect(from.reason?.message).toMatch(/named by elimination: veth2 is the only pod veth without a per-pod route/)
    // A failed resolution on the node's own eth0 (itself a veth in the lab) says where the node looked, not where the pod is.
    const failed = editJson<NeighJson>(s, 'node-2', 'neigh', (n) => [...n, {dst: '10.244.2.3', dev: 'eth0', state: ['FAILED']} as unknown as NeighJson])
    expect(run(failed, 'web-2-2', 'web-1-1').reason?.message).toMatch(/named by elimination: veth2 is the only pod veth without a per-pod route/)
    // A ptp veth is on no bridge by design: never veth-detached.
    expect(failing(from).map((h) => h.code)).not.toContain('veth-detached')
  })

  it("the CNI's records name the veth when neither a route nor a neighbour entry does: the cached result, or host-local IPAM joined to it", () => {
    // Two pods without routes: elimination cannot pair them; the records can.
    let s = editJson<RouteJson>(snap, 'node-2', 'routes4', (routes) => routes.filter((r) => r.dst !== '10.244.2.3' && r.dst !== '10.244.2.2'))
    s = editJson<NeighJson>(s, 'node-2', 'neigh', () => [])
    expect(run(s, 'web-1-1', 'web-2-2').reason?.message).toBe('node-2 has no route to its own pod default/web-2-2 (10.244.2.3): a routed CNI needs one per pod')
    const cached = (cid: string, veth: string, ip: string) =>
      `/var/lib/cni/results/kindnet-${cid}-eth0:${JSON.stringify({kind: 'cniCacheV1', containerId: cid, ifName: 'eth0', networkName: 'kindnet', result: {cniVersion: '0.3.1', interfaces: [{name: veth, mac: 'd6:cc:c8:e1:c9:d2'}, {name: 'eth0', mac: '0a:58:0a:f4:02:03', sandbox: '/var/run/netns/cni-1'}], ips: [{address: `${ip}/24`, gateway: '10.244.2.1', interface: 1}]}})}`
    const byResult = withRecords(s, 'node-2', 'cni-results', `${cached('aaa1', 'veth1', '10.244.2.2')}\n${cached('bbb2', 'veth2', '10.244.2.3')}\n`)
    const named = run(byResult, 'web-1-1', 'web-2-2')
    expect(named.reason?.message).toBe("node-2 has no route to its own pod default/web-2-2 (10.244.2.3) (its veth veth2, named by the CNI's record, is up): a routed CNI needs one per pod")
    expect(failing(named)[0]?.evidence.map((e) => e.text)).toContain('/var/lib/cni/results/kindnet-bbb2-eth0: ips 10.244.2.3; host interface veth2')
    // An older cache without ips: host-local's reservation gives the container id, the cache its veth.
    const noIps = withRecords(s, 'node-2', 'cni-results', `/var/lib/cni/results/kindnet-bbb2-eth0:${JSON.stringify({kind: 'cniCacheV1', containerId: 'bbb2', ifName: 'eth0', result: {interfaces: [{name: 'veth2'}, {name: 'eth0', sandbox: '/x'}]}})}\n`)
    const joined = withRecords(noIps, 'node-2', 'cni-ipam', '/var/lib/cni/networks/kindnet/10.244.2.3:bbb2\r\n/var/lib/cni/networks/kindnet/10.244.2.3:eth0\n/var/lib/cni/networks/kindnet/last_reserved_ip.0:10.244.2.3\n')
    const viaIpam = run(joined, 'web-2-2', 'web-1-1')
    expect([viaIpam.reason?.code, viaIpam.hops[1]?.label]).toEqual(['route-missing', 'veth2'])
    expect(failing(viaIpam)[0]?.evidence.map((e) => e.text)).toContain('/var/lib/cni/networks/kindnet/10.244.2.3: bbb2 eth0')
  })

  it('policy routing as the AWS VPC CNI sets it up: a rule per pod selects the table with its route, and the pod’s own table for its traffic out', () => {
    // The route to web-2-2 lives in table 100, selected by "to 10.244.2.3"; web-2-2's traffic out uses table 10.
    let s = editJson<RouteJson>(snap, 'node-2', 'routes4', (routes) => [
      ...routes.map((r) => (r.dst === '10.244.2.3' ? {...r, table: '100'} : r)),
      {dst: '10.244.1.0/24', gateway: '10.100.0.1', dev: 'eth0', table: '10', flags: []},
    ])
    s = editJson<RuleJson>(s, 'node-2', 'rules4', (rules) => [
      {priority: 512, src: 'all', dst: '10.244.2.3', dstlen: 32, table: '100'},
      {priority: 1536, src: '10.244.2.3', srclen: 32, table: '10'},
      ...rules,
    ])
    expect(summary(run(s, 'web-1-1', 'web-2-1'))).toMatch(/^delivered: /)
    const to = run(s, 'web-2-1', 'web-2-2')
    expect(summary(to)).toBe('delivered: web-2-1 eth0 → node-2 veth1 → veth2 → web-2-2 eth0')
    expect(to.hops[1]?.evidence.map((e) => e.text)).toContain('512: from all to 10.244.2.3 lookup 100: 10.244.2.3 dev veth2 table 100 scope host')
    // web-2-2's own table sends node-1's pods to the router, which is not node-1: the kernel's choice, followed.
    const out = run(s, 'web-2-2', 'web-1-1')
    expect([out.verdict, out.reason?.code, out.reason?.message]).toEqual(['dropped', 'route-nexthop-wrong', 'node-2 sends 10.244.1.2 to 10.100.0.1, but it is on node-1 (10.100.0.2)'])
    expect(out.hops[1]?.evidence.map((e) => e.text)).toContain('1536: from 10.244.2.3 lookup 10: 10.244.1.0/24 via 10.100.0.1 dev eth0 table 10')
  })

  it('Calico’s layout: a pod whose host veth has no address reaches its gateway 169.254.1.1 only by proxy ARP; with proxy_arp 0 it sends nothing', () => {
    // node-2's veths without the ptp gateway /32, and Calico's DaemonSet instead of kindnet's.
    let s = editJson<AddrJson>(snap, 'node-2', 'addrs', (addrs) => addrs.map((a) => (a.ifname.startsWith('veth') ? {...a, addr_info: a.addr_info.filter((x) => x.family !== 'inet')} : a)))
    s = editJson<RouteJson>(s, 'node-2', 'routes4', (routes) => routes.filter((r) => !(r.type === 'local' && r.dst === '10.244.2.1')))
    const cluster = s.cluster as NonNullable<Snapshot['cluster']>
    const daemonSets = cluster.objects.daemonSets as {metadata: {name: string; namespace: string}; spec: {template: {spec: {containers: {name: string; image: string}[]}}}}[]
    ;(cluster.objects as {daemonSets: unknown[]}).daemonSets = [
      ...daemonSets.filter((d) => d.metadata.name !== 'kindnet'),
      {...structuredClone(daemonSets[0]), metadata: {name: 'calico-node', namespace: 'kube-system'}, spec: {template: {spec: {containers: [{name: 'calico-node', image: 'docker.io/calico/node:v3.28.0'}]}}}},
    ]
    const proxyArp = (veth2: number) => edit(s, 'node-2', 'proxy-arp', (r) => (r.stdout = r.stdout.replace(/veth2\/proxy_arp:\d/, `veth2/proxy_arp:${veth2}`).replace(/veth1\/proxy_arp:\d/, 'veth1/proxy_arp:1')))
    const off = run(proxyArp(0), 'web-2-2', 'web-1-1')
    expect([off.verdict, off.reason?.code, off.reason?.message]).toEqual(['dropped', 'route-missing', "node-2: proxy_arp is 0 on veth2 (and on all): nothing answers the pod's ARP for its gateway 169.254.1.1, so it can send nothing"])
    expect(failing(off)[0]?.evidence.map((e) => e.text).slice(0, 2)).toEqual(['/proc/sys/net/ipv4/conf/veth2/proxy_arp:0', '/proc/sys/net/ipv4/conf/all/proxy_arp:0'])
    // Its reply is what cannot leave when it is the destination.
    const to = run(proxyArp(0), 'web-1-1', 'web-2-2')
    expect([to.verdict, to.reason?.code]).toEqual(['dropped', 'route-missing'])
    expect(to.reason?.message).toMatch(/^the reply does not get back: node-2: proxy_arp is 0 on veth2/)
    expect(run(proxyArp(1), 'web-2-2', 'web-1-1').verdict).toBe('delivered')
    // kindnet's ptp veths hold the gateway themselves: proxy_arp 0 (as in the lab) is no fault there.
    expect(run(snap, 'web-2-2', 'web-1-1').verdict).toBe('delivered')
  })

  it('Calico’s blackhole for the node’s own block catches a pod whose /32 is gone: route-missing or link-down for that pod, not route-blackhole', () => {
    // node-2 holds a blackhole for its own block, as Calico installs for every block it owns.
    const hole = (x: Snapshot) => editJson<RouteJson>(x, 'node-2', 'routes4', (routes) => [...routes, {type: 'blackhole', dst: '10.244.2.0/24', flags: []}])
    const lost = run(hole(withoutPodRoute(snap, true)), 'web-1-1', 'web-2-2')
    expect([lost.verdict, lost.reason?.code]).toEqual(['dropped', 'route-missing'])
    expect(lost.reason?.message).toMatch(/^node-2 has no route to its own pod default\/web-2-2 \(10\.244\.2\.3\) \(its veth veth2, named by elimination/)
    expect(failing(lost).map((h) => [h.node, h.code, h.action])).toEqual([['node-2', 'route-missing', "the route to 10.244.2.3 is the blackhole for node-2's own block"]])
    expect(failing(lost)[0]?.evidence.map((e) => e.text)).toContain('32766: from all lookup main: blackhole 10.244.2.0/24')
    const downed = editJson<LinkJson>(hole(withoutPodRoute(snap)), 'node-2', 'links', (links) => links.map((l) => (l.ifname === 'veth2' ? {...l, flags: ['BROADCAST', 'MULTICAST'], operstate: 'DOWN'} : l)))
    const down = run(downed, 'web-1-1', 'web-2-2')
    expect([down.verdict, down.reason?.code, down.reason?.message]).toEqual(['dropped', 'link-down', "node-2: veth2, the host side of pod default/web-2-2 (named by the neighbour entry for 10.244.2.3), is down, and the node's route to 10.244.2.3 went with it"])
    // An address of the block that no pod has (a deleted pod) is said so, as without the blackhole.
    const cluster = structuredClone(hole(withoutPodRoute(snap, true)))
    ;(cluster.cluster?.objects as {pods: {metadata: {name: string}}[]}).pods = (cluster.cluster?.objects.pods as {metadata: {name: string}}[]).filter((p) => p.metadata.name !== 'web-2-2')
    expect(run(cluster, 'web-1-1', '10.244.2.3:8080').reason?.code).toBe('address-unowned')
    // Another node's blackhole over the block stays route-blackhole.
    const foreign = editJson<RouteJson>(snap, 'node-1', 'routes4', (routes) => [...routes.filter((x) => x.dst !== '10.244.2.0/24'), {type: 'blackhole', dst: '10.244.2.0/24', flags: []}])
    expect(run(foreign, 'web-1-1', 'web-2-2').reason?.code).toBe('route-blackhole')
  })

  it('an address in the node’s pod CIDR that no pod has (a deleted pod) is address-unowned, not a wrong next hop', () => {
    const s = withoutPodRoute(snap, true)
    const cluster = s.cluster as NonNullable<Snapshot['cluster']>
    const pods = cluster.objects.pods as {metadata: {name: string}}[]
    ;(cluster.objects as {pods: unknown[]}).pods = pods.filter((p) => p.metadata.name !== 'web-2-2')
    const r = run(s, 'web-1-1', '10.244.2.3:8080')
    expect([r.verdict, r.reason?.code]).toEqual(['dropped', 'address-unowned'])
  })
})

describe('trace: CNI records name a bridged pod’s veth when neighbour and FDB entries do not', () => {
  it('host-gw: the cached result names the port, so the hop is the veth, not "veth?"', async () => {
    const hg = await readSnapshot(fixture('lab-host-gw.json.gz'))
    const s0 = editJson<NeighJson>(hg, 'node-2', 'neigh', (n) => n.filter((x) => x.dst !== '10.244.2.3'))
    expect(run(s0, 'web-1-1', 'web-2-2').hops.map((h) => h.label)).toContain('veth?')
    // The bridge plugin lists its bridge as a host interface too: the veth among them is the pod's.
    const one = withRecords(s0, 'node-2', 'cni-results', `/var/lib/cni/results/cbr0-ccc3-eth0:${JSON.stringify({kind: 'cniCacheV1', containerId: 'ccc3', ifName: 'eth0', result: {interfaces: [{name: 'cbr0'}, {name: 'veth2'}, {name: 'eth0', sandbox: '/x'}], ips: [{address: '10.244.2.3/24'}]}})}\n`)
    const r = run(one, 'web-1-1', 'web-2-2')
    expect(summary(r)).toMatch(/→ cbr0 → veth2 → web-2-2 eth0$/)
    expect(r.hops.find((h) => h.label === 'veth2')?.action).toBe("10.244.2.3 is behind veth2 (named by the CNI's record), an up port of cbr0")
  })
})
