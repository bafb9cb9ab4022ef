/**
 * trace over real lab snapshots (fixtures/README.md): every kind of pair, both topologies, with the
 * exact path; Services with their DNAT branches; and the evidence-driven unknowns, made by editing
 * a copy of the captured snapshot (a command that failed, a Cilium DaemonSet).
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

function summary(r: TraceResult): string {
  const reason = r.reason ? ` ${r.reason.code}@${r.reason.hop ?? '-'}` : ''
  if (r.branches.length === 0) return `${r.verdict}${reason}: ${pathLine(r.hops)}`
  return `${r.verdict}${reason}: ${r.branches.map((b) => `${b.endpoint.replace('pod/default/', '')}=${b.verdict}`).join(' ')}`
}

function edit(snapshot: Snapshot, node: string, id: string, change: (r: Snapshot['nodes'][number]['results'][number]) => void): Snapshot {
  const copy = structuredClone(snapshot)
  const result = copy.nodes.find((n) => n.name === node)?.results.find((r) => r.id === id)
  if (!result) throw new Error(`no ${id} on ${node}`)
  change(result)
  return copy
}

const ALL = 'web-1-1=delivered web-1-2=delivered web-2-1=delivered web-2-2=delivered'

for (const topology of ['host-gw', 'vxlan'] as const) {
  describe(`trace over a captured ${topology} lab`, () => {
    let snap: Snapshot
    beforeAll(async () => {
      snap = await readSnapshot(fixture(`lab-${topology}.json.gz`))
    })
    const cross = (a: string, b: string) => (topology === 'vxlan' ? `${a} flannel.1 → ${b === 'node-2' ? '10.100.0.3' : '10.100.0.2'} → ${b} flannel.1` : `${a} eth0 → ${b === 'node-2' ? '10.100.0.3' : '10.100.0.2'} → ${b} eth0`)

    it('pod to pod, same node and across nodes, in the seeds’ notation', () => {
      expect(summary(run(snap, 'web-1-1', 'web-1-2'))).toBe('delivered: web-1-1 eth0 → veth1 → cbr0 → veth2 → web-1-2 eth0')
      expect(summary(run(snap, 'web-2-2', 'web-2-2'))).toBe('delivered: web-2-2 eth0 → veth2 → cbr0 → veth2 → web-2-2 eth0')
      expect(summary(run(snap, 'web-1-1', 'web-2-2'))).toBe(`delivered: web-1-1 eth0 → veth1 → cbr0 → ${cross('node-1', 'node-2')} → cbr0 → veth2 → web-2-2 eth0`)
      expect(summary(run(snap, 'pod/default/web-2-1', '10.244.1.3', {protocol: 'udp', port: 5353}))).toBe(`delivered: web-2-1 eth0 → veth1 → cbr0 → ${cross('node-2', 'node-1')} → cbr0 → veth2 → web-1-2 eth0`)
    })

    it('node to pod is locally generated (nat OUTPUT)', () => {
      const r = run(snap, 'node/node-1', 'web-2-1')
      expect(summary(r)).toBe(`delivered: node-1 → ${cross('node-1', 'node-2')} → cbr0 → veth1 → web-2-1 eth0`)
      expect(r.hops[0]?.action).toMatch(/^generated on node-1 \(nat OUTPUT, not PREROUTING\)/)
      expect(summary(run(snap, '10.100.0.3', 'web-2-2', {protocol: 'icmp'}))).toBe('delivered: node-2 → cbr0 → veth2 → web-2-2 eth0')
    })

    it('pod to ClusterIP: one branch per endpoint, each traced to its end', () => {
      const r = run(snap, 'web-1-1', 'svc/default/web')
      expect(summary(r)).toBe(`delivered: ${ALL}`)
      expect([r.protocol, r.port, r.destination.ip]).toEqual(['tcp', 80, '10.96.0.80'])
      expect(r.nat).toEqual({
        dnat: [
          {ip: '10.244.1.2', port: 8080, probability: 0.25, endpoint: 'pod/default/web-1-1'},
          {ip: '10.244.1.3', port: 8080, probability: 0.25, endpoint: 'pod/default/web-1-2'},
          {ip: '10.244.2.2', port: 8080, probability: 0.25, endpoint: 'pod/default/web-2-1'},
          {ip: '10.244.2.3', port: 8080, probability: 0.25, endpoint: 'pod/default/web-2-2'},
        ],
        masquerade: true,
      })
      expect(r.hops.map((h) => h.index)).toEqual([1, 2])
      expect(pathLine([...r.hops, ...(r.branches[3]?.hops ?? [])])).toBe(`web-1-1 eth0 → veth1 → cbr0 → ${cross('node-1', 'node-2')} → cbr0 → veth2 → web-2-2 eth0`)
      expect(r.branches[3]?.hops[0]?.index).toBe(3)
      // A UDP Service: the protocol comes from the Service port.
      const dns = run(snap, 'web-2-2', '10.96.0.53')
      expect([dns.protocol, dns.port, summary(dns)]).toEqual(['udp', 53, 'delivered: web-1-1=delivered web-2-1=delivered'])
    })

    it('pod to NodePort through a node IP: DNAT on the node that owns the IP', () => {
      const r = run(snap, 'web-1-2', '10.100.0.3:30080')
      expect([r.destination.kind, r.destination.name, summary(r)]).toEqual(['node', 'node/node-2', `delivered: ${ALL}`])
      expect(pathLine(r.hops)).toBe('web-1-2 eth0 → veth2 → cbr0 → node-1 eth0 → 10.100.0.3')
      expect(r.branches[2]?.hops.map((h) => h.label)).toEqual(['node-2 eth0', 'cbr0', 'veth1', 'web-2-1 eth0'])
      expect(r.branches[0]?.hops.map((h) => h.label)[0]).toBe('node-2 eth0')
    })

    it('a Service without endpoints is rejected by kube-proxy’s rule (netfilter-reject)', () => {
      const r = run(snap, 'web-2-1', 'svc/default/empty')
      expect(summary(r)).toBe('dropped netfilter-reject@3: web-2-1 eth0 → veth1 → ✗ cbr0')
      expect(r.reason?.message).toBe('node-2 rejects it in filter FORWARD (default/empty:http has no endpoints)')
      expect(r.hops[2]?.evidence.some((e) => e.source === 'node-2: iptables-save' && e.text.includes('has no endpoints'))).toBe(true)
    })

    it('with --size, a packet larger than the path MTU is mtu-exceeded', () => {
      const mtu = topology === 'vxlan' ? 1450 : 1500
      expect(run(snap, 'web-1-1', 'web-2-1', {protocol: 'icmp', size: mtu - 28}).verdict).toBe('delivered')
      const r = run(snap, 'web-1-1', 'web-2-1', {protocol: 'icmp', size: mtu - 27})
      expect([r.verdict, r.reason?.code]).toEqual(['dropped', 'mtu-exceeded'])
    })

    it('ip_forward 0 in the evidence is ip-forward-off on the forwarding node', () => {
      const off = edit(snap, 'node-2', 'sysctls', (res) => (res.stdout = res.stdout.replace('/proc/sys/net/ipv4/ip_forward:1', '/proc/sys/net/ipv4/ip_forward:0')))
      const r = run(off, 'web-1-1', 'web-2-1')
      expect(summary(r)).toBe(`dropped ip-forward-off@6: web-1-1 eth0 → veth1 → cbr0 → ${cross('node-1', 'node-2').replace(/(node-2 \S+)$/, '✗ $1')}`)
      expect(r.hops[5]?.evidence.at(-1)).toEqual({source: expect.stringMatching(/^node-2: grep -H \./), text: '/proc/sys/net/ipv4/ip_forward:0'})
      // Switched on one bridge, the packet is not routed: ip_forward does not matter.
      expect(run(off, 'web-2-1', 'web-2-2').verdict).toBe('delivered')
    })

    it('evidence that was not gathered gives unknown (evidence-missing), never a guess', () => {
      const failed = edit(snap, 'node-2', 'iptables-save', (res) => {
        res.status = 'failed'
        res.stdout = ''
      })
      const r = run(failed, 'web-1-1', 'web-2-1')
      expect([r.verdict, r.reason?.code, r.reason?.hop]).toEqual(['unknown', 'evidence-missing', 6])
      expect(r.hops[5]).toMatchObject({node: 'node-2', status: 'unknown', code: 'evidence-missing'})
      // No neighbour entries: the pod's veth is not named, but every pod veth is on cbr0 and up.
      const noNeigh = edit(snap, 'node-1', 'neigh', (res) => (res.stdout = '[]'))
      const n = run(noNeigh, 'web-1-1', 'web-1-2')
      expect(summary(n)).toBe('delivered: web-1-1 eth0 → veth? → cbr0 → veth? → web-1-2 eth0')
      expect(n.hops[1]?.action).toBe("no neighbour entry for 10.244.1.2 on cbr0, so the pod's veth is not named; every pod-facing veth (veth1, veth2) is an up port of cbr0")
      // …and without the node's addresses too, its own uplink veth cannot be told from a pod's: nothing is claimed of either.
      const noAddrs = edit(noNeigh, 'node-1', 'addrs', (res) => Object.assign(res, {status: 'timeout', stdout: '', reason: 'timed out after 10000 ms'}))
      const u = run(noAddrs, 'web-1-1', 'web-1-2')
      expect([u.verdict, u.reason?.code, u.reason?.message]).toEqual(['unknown', 'evidence-missing', 'node-1: no neighbour entry for 10.244.1.2 on cbr0, and the addresses of node-1 were not gathered, so its pod-facing veths are not known'])
      expect(u.hops[1]?.evidence).toEqual([{source: 'node-1: ip -j addr show', text: 'timeout: timed out after 10000 ms'}])
    })

    it('Cilium with kube-proxy replacement is an unknown datapath', () => {
      const cilium = structuredClone(snap)
      if (!cilium.cluster) throw new Error('no cluster')
      cilium.cluster.objects.daemonSets = [{metadata: {name: 'cilium', namespace: 'kube-system'}, spec: {template: {spec: {containers: [{image: 'quay.io/cilium/cilium:v1.15.0'}]}}}}]
      const r = run(cilium, 'web-1-1', 'web-2-1')
      expect([r.verdict, r.reason?.code, r.hops.length]).toEqual(['unknown', 'unknown-datapath', 1])
    })

    it('a Service on a node whose kube-proxy runs in IPVS mode without ipvsadm evidence is unknown (evidence-missing), naming the mode and the missing command; pod to pod is still traced', () => {
      // IPVS mode is traced from its evidence (test/lib/trace/ipvs-mode.test.ts); here kube-ipvs0 shows the mode but ipvsadm was not gathered.
      const ipvs = structuredClone(snap)
      const node1 = ipvs.nodes.find((n) => n.name === 'node-1')
      const result = (id: string) => node1?.results.find((r) => r.id === id)
      const save = result('iptables-save')
      const links = result('links')
      if (!save || !links) throw new Error('fixture lacks iptables-save or links')
      // IPVS mode: no KUBE-SVC/KUBE-SEP DNAT chains in iptables; the virtual servers live in IPVS.
      save.stdout = save.stdout.split('\n').filter((l) => !/KUBE-(SERVICES|SVC|SEP|EXT|NODEPORTS)/.test(l)).join('\n')
      links.stdout = JSON.stringify([...(JSON.parse(links.stdout) as unknown[]), {ifindex: 6, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP'], mtu: 1500, operstate: 'DOWN', link_type: 'ether', linkinfo: {info_kind: 'dummy'}}])
      const r = run(ipvs, 'web-1-1', 'svc/default/web:80')
      expect([r.verdict, r.reason?.code]).toEqual(['unknown', 'evidence-missing'])
      expect(r.reason?.message).toBe('node-1: kube-proxy ipvs mode, whose translation is not in evidence (ipvsadm not gathered)')
      expect(r.hops[0]?.evidence.map((e) => e.text)).toEqual(['6: kube-ipvs0 dummy', expect.stringMatching(/^(absent|unavailable|failed|timeout)/)])
      // From node-2, whose rules are iptables-mode, the same Service is traced as before.
      expect(run(ipvs, 'web-2-1', 'svc/default/web:80').verdict).toBe('delivered')
      expect(run(ipvs, 'web-1-1', 'web-2-1').verdict).toBe('delivered')
    })

    it('resolves raw IPs to their owners and refuses what cannot be traced', () => {
      expect(run(snap, '10.244.1.2', '10.244.2.3').source.name).toBe('pod/default/web-1-1')
      expect(run(snap, '10.244.1.2', '10.96.0.80:80').destination).toMatchObject({kind: 'service', name: 'svc/default/web', port: 80})
      expect(() => run(snap, '192.0.2.9', 'web-1-1')).toThrow(expect.objectContaining({kind: 'bad-input', suggestion: expect.stringContaining('--entry-node')}))
      expect(() => run(snap, 'svc/default/web', 'web-1-1')).toThrow(/a Service cannot be a source/)
      expect(() => run(snap, 'web-1-1', 'nosuch')).toThrow(/no pod default\/nosuch/)
      expect(() => run(snap, 'web-1-1', 'svc/default/web:81')).toThrow(/has no port 81/)
      expect(() => run(snap, 'web-1-1', 'node/node-2')).toThrow(expect.objectContaining({message: 'no port for node/node-2', suggestion: 'give DST:PORT or --port'}))
    })

    it('external traffic enters at --entry-node', () => {
      const r = run(snap, '192.0.2.9', '10.100.0.3:30080', {entryNode: 'node-2'})
      expect(r.source).toMatchObject({kind: 'external', name: null, ip: '192.0.2.9'})
      expect(summary(r)).toBe(`delivered: ${ALL}`)
      expect(r.hops.map((h) => h.label)).toEqual(['192.0.2.9'])
    })

    it('the JSON has exactly the contract’s fields', () => {
      const r = JSON.parse(JSON.stringify(run(snap, 'web-1-1', 'svc/default/web'))) as Record<string, unknown>
      expect(Object.keys(r)).toEqual(['schemaVersion', 'source', 'destination', 'protocol', 'port', 'family', 'verdict', 'reason', 'hops', 'nat', 'branches'])
      expect(r.schemaVersion).toBe(1)
      const b = (r.branches as Record<string, unknown>[])[0] as Record<string, unknown>
      expect(Object.keys(b)).toEqual(['endpoint', 'verdict', 'reason', 'hops'])
      const h = (r.hops as Record<string, unknown>[])[0] as Record<string, unknown>
      expect(Object.keys(h)).toEqual(['index', 'node', 'device', 'action', 'status', 'evidence', 'label'])
    })
  })
}
