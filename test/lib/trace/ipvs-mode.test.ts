/**
 * trace and doctor on nodes whose kube-proxy runs in IPVS mode: the host-gw lab snapshot with both
 * nodes' kube-proxy state replaced by kube-proxy's IPVS layout (test/fixtures/ipvs: its iptables
 * chains and ipsets captured from iptables-save and ipset save, virtual services and kube-ipvs0
 * hand-written since the kernel here has no IPVS). The
 * answers must have the iptables answer's shape.
 */
import {describe, expect, it} from 'vitest'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {CHECKS as REGISTRY} from '../../../src/lib/checks/registry.js'
import {buildModel} from '../../../src/lib/model/model.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot, type TraceRequest} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'
import {ipvsSnapshot} from '../../fixtures/ipvs/snapshot.js'

function run(snapshot: Snapshot, src: string, dst: string, extra: Omit<TraceRequest, 'source' | 'destination'> = {}): TraceResult {
  return traceSnapshot(snapshot, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...extra})
}

function summary(r: TraceResult): string {
  const reason = r.reason ? ` ${r.reason.code}` : ''
  return `${r.verdict}${reason}: ${r.branches.map((b) => `${b.endpoint.replace('pod/default/', '')}=${b.verdict}`).join(' ')}`
}

const ALL = 'web-1-1=delivered web-1-2=delivered web-2-1=delivered web-2-2=delivered'
const snap = ipvsSnapshot()

/** The faults doctor and trace must name, on node-2 only. */
const broken = ipvsSnapshot({
  'node-2': {
    ipvsadm: (t) => t
      // A stale real server: an endpoint gone from the EndpointSlice still has weight 1 (kube-proxy stopped syncing).
      .replace('-a -t 10.96.0.80:80 -r 10.244.2.3:8080 -m -w 1', '-a -t 10.96.0.80:80 -r 10.244.2.99:8080 -m -w 1')
      // A Service missing its virtual service.
      .replace(/^-A -u 10\.96\.0\.53:53 -s rr\n(-a -u 10\.96\.0\.53:53 .*\n)*/m, '')
      // An orphan virtual service: a deleted Service's ClusterIP.
      .concat('-A -t 10.96.0.77:80 -s rr\n-a -t 10.96.0.77:80 -r 10.244.1.9:8080 -m -w 1\n'),
    // A UDP flow still pinned to a pod that is gone.
    conntrack: (t) => `${t}udp      17 29 src=10.244.2.2 dst=10.96.0.53 sport=40000 dport=53 src=10.244.9.9 dst=10.244.2.2 sport=5353 dport=40000 mark=0 use=1\n`,
  },
})

describe('the kube-proxy view of an IPVS-mode node', () => {
  it('ties each virtual service to its Service by address and port; weight 0 is no target; an unknown one is an orphan', () => {
    const model = buildModel(broken)
    const node = (name: string) => model.nodes.find((n) => n.name === name) as (typeof model.nodes)[number]
    const view = model.index.kubeProxyView(node('node-1'))
    expect(view?.mode).toBe('ipvs')
    expect(view?.source).toBe('node-1: ipvsadm -S -n')
    expect(view?.ports.map((p) => [p.chain, p.portName, p.clusterIP ?? '-', p.targets.map((t) => `${t.ip}:${t.port ?? ''}`).join(',')])).toEqual([
      ['UDP 10.96.0.53:53', 'default/dns:dns', '10.96.0.53', '10.244.1.2:5353,10.244.2.2:5353'],
      ['TCP 10.96.0.80:80', 'default/web:http', '10.96.0.80', '10.244.1.2:8080,10.244.1.3:8080,10.244.2.2:8080,10.244.2.3:8080'],
      ['TCP 10.96.0.81:80', 'default/web-np:http', '10.96.0.81', '10.244.1.2:8080,10.244.1.3:8080,10.244.2.2:8080,10.244.2.3:8080'],
      ['TCP 10.96.0.82:80', 'default/web-local:http', '10.96.0.82', '10.244.1.2:8080,10.244.1.3:8080,10.244.2.2:8080,10.244.2.3:8080'],
      ['TCP 10.96.0.99:80', 'default/empty:http', '10.96.0.99', ''],
      ['TCP 10.100.0.2:30080', 'default/web-np:http', '-', '10.244.1.2:8080,10.244.1.3:8080,10.244.2.2:8080,10.244.2.3:8080'],
      ['TCP 10.100.0.2:30082', 'default/web-local:http', '-', '10.244.1.2:8080,10.244.1.3:8080'],
      ['TCP 10.244.1.1:30080', 'default/web-np:http', '-', '10.244.1.2:8080,10.244.1.3:8080,10.244.2.2:8080,10.244.2.3:8080'],
      ['TCP 10.244.1.1:30082', 'default/web-local:http', '-', '10.244.1.2:8080,10.244.1.3:8080'],
    ])
    expect([...(view?.byKey.keys() ?? [])]).toEqual(['default/dns:dns|udp', 'default/web:http|tcp', 'default/web-np:http|tcp', 'default/web-local:http|tcp', 'default/empty:http|tcp'])
    expect(view?.ports[1]?.targets[0]).toEqual({ip: '10.244.1.2', port: 8080, chain: 'TCP 10.96.0.80:80', rule: {text: '-a -t 10.96.0.80:80 -r 10.244.1.2:8080 -m -w 1', line: 5}})
    expect(view?.orphans).toEqual([])
    expect(model.index.kubeProxyView(node('node-2'))?.orphans).toEqual([{what: 'IPVS virtual service TCP 10.96.0.77:80', rule: {text: '-A -t 10.96.0.77:80 -s rr', line: 33}}])
    expect(model.index.observedKubeProxyMode(node('node-1'))).toEqual({mode: 'ipvs', evidence: {source: 'node-1: ip -j -d link show', text: '6: kube-ipvs0 dummy'}})
  })
})

describe('trace through kube-proxy IPVS mode', () => {
  it('pod to ClusterIP: a branch per real server with its probability, the virtual service and real server as evidence', () => {
    const r = run(snap, 'web-1-1', 'svc/default/web')
    expect(summary(r)).toBe(`delivered: ${ALL}`)
    expect(r.nat.dnat.map((d) => [d.ip, d.port, d.probability])).toEqual([
      ['10.244.1.2', 8080, 0.25], ['10.244.1.3', 8080, 0.25], ['10.244.2.2', 8080, 0.25], ['10.244.2.3', 8080, 0.25],
    ])
    const evidence = (r.branches[2]?.hops ?? []).flatMap((h) => h.evidence).map((e) => `${e.source} | ${e.text}`)
    expect(evidence).toEqual(expect.arrayContaining([
      'node-1: iptables-save | nat line 59: -A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT (ACCEPT)',
      'node-1: iptables-save | filter line 25: -A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN (RETURN)',
      'node-1: ipvsadm -S -n | line 4: -A -t 10.96.0.80:80 -s rr (virtual service (rr))',
      'node-1: ipvsadm -S -n | line 7: -a -t 10.96.0.80:80 -r 10.244.2.2:8080 -m -w 1 (DNAT → 10.244.2.2:8080 (rr: 25%))',
    ]))
    // From a pod (inside the cluster CIDR) nothing is masqueraded, except the pod reaching itself (KUBE-LOOP-BACK).
    expect(r.branches.map((b) => b.hops.some((h) => /masqueraded/.test(h.action)))).toEqual([true, false, false, false])
  })

  it('the same Service traced from node-2 has the same answer', () => {
    const a = run(snap, 'web-1-1', 'svc/default/web')
    const b = run(snap, 'web-2-1', 'svc/default/web')
    expect(summary(b)).toBe(summary(a))
    expect(b.nat.dnat.map((d) => [d.ip, d.probability])).toEqual(a.nat.dnat.map((d) => [d.ip, d.probability]))
  })

  it('a Service without endpoints: its virtual service has no real server, and IPVS rejects (ICMP port unreachable)', () => {
    const r = run(snap, 'web-1-1', 'svc/default/empty')
    expect([r.verdict, r.reason?.code]).toEqual(['dropped', 'netfilter-reject'])
    expect(r.reason?.message).toBe('node-1 rejects it: IPVS virtual service TCP 10.96.0.99:80 (default/empty:http) has no real server (no endpoints)')
    expect(r.hops.flatMap((h) => h.evidence)).toContainEqual({source: 'node-1: ipvsadm -S -n', text: 'line 20: -A -t 10.96.0.99:80 -s rr (no real server: IPVS answers ICMP port unreachable and drops it)'})
  })

  it('a NodePort of node-1 from a pod on node-2 is scheduled on node-1 and masqueraded (KUBE-NODE-PORT-TCP marks it)', () => {
    const r = run(snap, 'web-2-1', '10.100.0.2:30080')
    expect(summary(r)).toBe(`delivered: ${ALL}`)
    expect(r.nat.masquerade).toBe(true)
    expect(r.branches[0]?.hops.flatMap((h) => h.evidence).map((e) => e.text)).toContainEqual(
      'nat line 55: -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully (MASQUERADE → 10.244.1.1)',
    )
  })

  it('externalTrafficPolicy Local: an external client reaches only the entry node\'s endpoints, unmasqueraded', () => {
    const r = run(snap, '192.0.2.9', '10.100.0.2:30082', {entryNode: 'node-1'})
    expect(summary(r)).toBe('delivered: web-1-1=delivered web-1-2=delivered')
    expect(r.nat.dnat.map((d) => [d.ip, d.probability])).toEqual([['10.244.1.2', 0.5], ['10.244.1.3', 0.5]])
    expect(r.nat.masquerade).toBe(false)
    const other = run(snap, '192.0.2.9', '10.100.0.3:30082', {entryNode: 'node-2'})
    expect(summary(other)).toBe('delivered: web-2-1=delivered web-2-2=delivered')
  })

  it('the node itself to the ClusterIP: IPVS schedules at LOCAL_OUT, the VIP source is masqueraded', () => {
    const r = run(snap, 'node/node-1', 'svc/default/web')
    expect(summary(r)).toBe(`delivered: ${ALL}`)
    expect(r.nat.masquerade).toBe(true)
  })

  it('a stale real server, a missing virtual service: the trace names them', () => {
    const stale = run(broken, 'web-2-1', 'svc/default/web')
    expect(summary(stale)).toBe('partial nat-stale-endpoint: web-1-1=delivered web-1-2=delivered web-2-1=delivered 10.244.2.99=dropped')
    expect(stale.branches[3]?.reason?.message).toBe('node-2 DNATs default/web:http to 10.244.2.99, which is not a ready endpoint in its EndpointSlices')
    const missing = run(broken, 'web-2-1', 'svc/default/dns')
    expect([missing.verdict, missing.reason?.code, missing.reason?.message]).toEqual([
      'dropped', 'nat-missing-service', 'node-2 has no NAT rule for svc/default/dns although it has 2 ready endpoint(s) (no IPVS virtual service UDP 10.96.0.53:53)',
    ])
    // From node-1, whose kube-proxy is in sync, both work.
    expect(run(broken, 'web-1-1', 'svc/default/dns').verdict).toBe('delivered')
  })

  it("ipset save timed out: KUBE-SERVICES' set matches are followed both ways, and the way that fails is unproven (evidence-missing), not a fault", () => {
    const noSets = structuredClone(snap)
    const ipset = noSets.nodes.find((n) => n.name === 'node-1')?.results.find((r) => r.id === 'ipset')
    Object.assign(ipset as object, {status: 'timeout', stdout: '', reason: 'timed out after 10000 ms'})
    const r = run(noSets, 'web-1-1', 'svc/default/web')
    expect(summary(r)).toBe(`unknown evidence-missing: no DNAT=unknown ${ALL}`)
    expect(r.reason?.message).toMatch(/^node-1 has no NAT rule for svc\/default\/web .* — not proven: node-1's iptables-save line \d+ assumed to match: ipset "KUBE-[A-Z-]+" members are not in the evidence$/)
    // With the sets, the same packet is translated on every branch.
    expect(summary(run(snap, 'web-1-1', 'svc/default/web'))).toBe(`delivered: ${ALL}`)
  })

  it('a ClusterIP missing from kube-ipvs0: its virtual service never sees the packet, which is routed on untranslated', () => {
    const unbound = structuredClone(snap)
    const node1 = unbound.nodes.find((n) => n.name === 'node-1')
    const result = (id: string) => node1?.results.find((r) => r.id === id) as {stdout: string}
    const addrs = JSON.parse(result('addrs').stdout) as {ifname: string; addr_info: {local: string}[]}[]
    for (const i of addrs) if (i.ifname === 'kube-ipvs0') i.addr_info = i.addr_info.filter((a) => a.local !== '10.96.0.80')
    result('addrs').stdout = JSON.stringify(addrs)
    result('routes4').stdout = JSON.stringify((JSON.parse(result('routes4').stdout) as {dst: string; dev?: string}[]).filter((r) => !(r.dst === '10.96.0.80' && r.dev === 'kube-ipvs0')))
    const r = run(unbound, 'web-1-1', 'svc/default/web')
    expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual([
      'dropped', 'nat-missing-service', 'node-1 does not translate svc/default/web: its IPVS virtual service TCP 10.96.0.80:80 is unused, 10.96.0.80 not being bound to kube-ipvs0',
    ])
  })
})

describe('doctor on kube-proxy IPVS-mode nodes', () => {
  const nat = REGISTRY.filter((c) => ['nat-stale-endpoint', 'nat-missing-service', 'nat-orphan-service', 'conntrack-stale', 'kube-proxy-mode'].includes(c.id))

  it('healthy nodes: the NAT checks run on both (not skipped) and find nothing; the draining real server is no fault', () => {
    const report = runDoctor(snap, nat)
    expect(report.findings).toEqual([])
    expect(report.skipped).toEqual([])
  })

  it('a stale real server, a missing virtual service, an orphan one and a stale conntrack entry are found on node-2, quoting ipvsadm', () => {
    const report = runDoctor(broken, nat)
    expect(report.skipped).toEqual([])
    const byCheck = (id: string) => report.findings.filter((f) => f.check === id).map((f) => [f.node, f.message, f.evidence.map((e) => `${e.source} | ${e.text}`)])
    expect(byCheck('nat-stale-endpoint')).toEqual([
      ['node-2', 'default/web:http (tcp) DNATs to 10.244.2.99:8080, which is not a ready endpoint', [
        'node-2: ipvsadm -S -n | -a -t 10.96.0.80:80 -r 10.244.2.99:8080 -m -w 1',
        'api: EndpointSlices of Service default/web | ready: 10.244.1.2:8080, 10.244.1.3:8080, 10.244.2.2:8080, 10.244.2.3:8080',
      ]],
    ])
    expect(byCheck('nat-missing-service')).toEqual([
      ['node-2', 'default/dns:dns (udp) has 2 ready endpoint(s) but no kube-proxy rules on node-2', [
        'api: EndpointSlice default/dns-lab endpoints[0].addresses[0] | 10.244.1.2:5353 ready',
        'node-2: ipvsadm -S -n | no virtual service UDP 10.96.0.53:53 in ipvsadm (default/dns:dns)',
      ]],
      ['node-2', "default/web:http (tcp): 1 ready endpoint(s) absent from node-2's rules: 10.244.2.3", [
        'api: EndpointSlice default/web-lab endpoints[3].addresses[0] | 10.244.2.3:8080 ready',
        'node-2: ipvsadm -S -n | -A -t 10.96.0.80:80 -s rr',
      ]],
    ])
    expect(byCheck('nat-orphan-service')).toEqual([
      ['node-2', "node-2 still has kube-proxy's IPVS virtual service TCP 10.96.0.77:80, but no Service has that address and port", ['node-2: ipvsadm -S -n | -A -t 10.96.0.77:80 -s rr']],
    ])
    expect(byCheck('conntrack-stale').map(([node, message]) => [node, message])).toEqual([
      ['node-2', '1 udp (DNS) conntrack entry to 10.96.0.53:53 still reply from 10.244.9.9, which no pod owns'],
    ])
  })

  it('kube-proxy-mode: IPVS nodes against an iptables ConfigMap are reported; ipvsadm not gathered skips the NAT checks with the reason', () => {
    const iptablesCm = structuredClone(snap)
    const cm = iptablesCm.cluster?.objects.kubeProxyConfigMap as {data: Record<string, string>}
    cm.data['config.conf'] = (cm.data['config.conf'] ?? '').replace('mode: ipvs', 'mode: iptables')
    const report = runDoctor(iptablesCm, nat)
    expect(report.findings.map((f) => [f.check, f.node, f.message])).toEqual([
      ['kube-proxy-mode', 'node-1', 'kube-proxy runs in ipvs mode on node-1, but its ConfigMap says iptables'],
      ['kube-proxy-mode', 'node-2', 'kube-proxy runs in ipvs mode on node-2, but its ConfigMap says iptables'],
    ])
    const blind = structuredClone(snap)
    const result = blind.nodes[0]?.results.find((r) => r.id === 'ipvsadm')
    Object.assign(result ?? {}, {status: 'unavailable', stdout: '', reason: "Can't initialize ipvs: Protocol not available"})
    expect(runDoctor(blind, nat).skipped.map((s) => `${s.check}: ${s.reason}`)).toEqual([
      "nat-stale-endpoint: ipvsadm unavailable on node-1 (Can't initialize ipvs: Protocol not available) (kube-proxy ipvs mode)",
      "nat-missing-service: ipvsadm unavailable on node-1 (Can't initialize ipvs: Protocol not available) (kube-proxy ipvs mode)",
      "nat-orphan-service: ipvsadm unavailable on node-1 (Can't initialize ipvs: Protocol not available) (kube-proxy ipvs mode)",
    ])
  })
})
