/**
 * trace and doctor on a node whose kube-proxy runs in nftables mode: the host-gw lab snapshot with
 * node-1's kube-proxy iptables rules replaced by a real `nft -j list ruleset` capture of kube-proxy's
 * v1.36 layout for the same Services, next to the remaining iptables-nft tables
 * (test/fixtures/netfilter/capture-nft-mode.ts). The answers must have the iptables answer's shape.
 */
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {CHECKS as REGISTRY} from '../../../src/lib/checks/registry.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot, type TraceRequest} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const netfilter = (name: string) => fileURLToPath(new URL(`../../fixtures/netfilter/${name}`, import.meta.url))

function run(snapshot: Snapshot, src: string, dst: string, extra: Omit<TraceRequest, 'source' | 'destination'> = {}): TraceResult {
  return traceSnapshot(snapshot, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...extra})
}

function summary(r: TraceResult): string {
  const reason = r.reason ? ` ${r.reason.code}@${r.reason.hop ?? '-'}` : ''
  return `${r.verdict}${reason}: ${r.branches.map((b) => `${b.endpoint.replace('pod/default/', '')}=${b.verdict}`).join(' ')}`
}

/** node-1 in nftables mode: iptables-save without kube-proxy's chains, nft with kube-proxy's table. */
export function nftablesMode(snap: Snapshot, nft = readFileSync(netfilter('nft-list-ruleset.lab-node-1.nftables-mode.json'), 'utf8')): Snapshot {
  const copy = structuredClone(snap)
  const node = copy.nodes.find((n) => n.name === 'node-1')
  const result = (id: string) => {
    const r = node?.results.find((x) => x.id === id)
    if (!r) throw new Error(`no ${id}`)
    return r
  }
  result('iptables-save').stdout = readFileSync(netfilter('iptables-save.lab-node-1.nftables-mode.txt'), 'utf8')
  Object.assign(result('nft'), {status: 'ok', exitCode: 0, stdout: nft, stderr: ''})
  return copy
}

const ALL = 'web-1-1=delivered web-1-2=delivered web-2-1=delivered web-2-2=delivered'

describe('trace through kube-proxy nftables mode (captured ruleset)', () => {
  let snap: Snapshot
  beforeAll(async () => {
    snap = nftablesMode(await readSnapshot(fileURLToPath(new URL('fixtures/lab-host-gw.json.gz', import.meta.url))))
  })

  it('pod to ClusterIP: a branch per endpoint with its probability, the nft DNAT rule as evidence', () => {
    const r = run(snap, 'web-1-1', 'svc/default/web')
    expect(summary(r)).toBe(`delivered: ${ALL}`)
    expect(r.nat.dnat.map((d) => [d.ip, d.port, d.probability])).toEqual([
      ['10.244.1.2', 8080, 0.25], ['10.244.1.3', 8080, 0.25], ['10.244.2.2', 8080, 0.25], ['10.244.2.3', 8080, 0.25],
    ])
    // The node-1 hop of each branch quotes the nft rules the packet went through, with table, chain and handle.
    const evidence = (r.branches[0]?.hops ?? []).flatMap((h) => h.evidence).map((e) => `${e.source} | ${e.text}`)
    expect(evidence).toContainEqual(expect.stringMatching(/^node-1: nft -j list ruleset \| ip kube-proxy services handle \d+: ip daddr \. meta l4proto \. th dport vmap @service-ips \(@service-ips → goto service-[A-Z2-7]{8}-default\/web\/tcp\/http\)$/))
    expect(evidence.join('\n')).toMatch(/ip kube-proxy service-[A-Z2-7]{8}-default\/web\/tcp\/http handle \d+: meta l4proto tcp dnat ip addr \. port to numgen random mod 4 map \{ 0 : 10\.244\.1\.2 \. 8080, .* \} \(DNAT → 10\.244\.\d\.\d:8080\)/)
  })

  it('the same Service from node-2 (iptables mode) has the same answer', () => {
    const a = run(snap, 'web-1-1', 'svc/default/web')
    const b = run(snap, 'web-2-1', 'svc/default/web')
    expect(summary(b)).toBe(summary(a))
    expect(b.nat.dnat.map((d) => [d.ip, d.probability])).toEqual(a.nat.dnat.map((d) => [d.ip, d.probability]))
  })

  it('a Service without endpoints is rejected by reject-chain, through the no-endpoint-services map', () => {
    const r = run(snap, 'web-1-1', 'svc/default/empty')
    expect([r.verdict, r.reason?.code]).toEqual(['dropped', 'netfilter-reject'])
    expect(r.reason?.message).toBe('node-1 rejects it in kube-proxy FORWARD')
    expect(r.hops.flatMap((h) => h.evidence).map((e) => e.text)).toContainEqual(expect.stringMatching(/^ip kube-proxy service-endpoints-check handle \d+: .* vmap @no-endpoint-services \(@no-endpoint-services → goto reject-chain \(default\/empty:http\)\)$/))
  })

  it('a NodePort of node-1 from a pod on node-2 is DNATed on node-1 and masqueraded', () => {
    const r = run(snap, 'web-2-1', '10.100.0.2:30080')
    expect(summary(r)).toBe(`delivered: ${ALL}`)
    expect(r.nat.masquerade).toBe(true)
  })

  it('the node itself to the ClusterIP (nat output chain)', () => {
    const r = run(snap, 'node/node-1', 'svc/default/web')
    expect(summary(r)).toBe(`delivered: ${ALL}`)
  })

  it('a rule the evaluator cannot read makes the verdict unknown, naming the rule', () => {
    const text = readFileSync(netfilter('nft-list-ruleset.lab-node-1.nftables-mode.json'), 'utf8')
    // A rate limit in front of the dispatch map: whether it matches depends on traffic, not on evidence.
    const doc = JSON.parse(text) as {nftables: Record<string, {chain?: string; expr?: unknown[]}>[]}
    const services = doc.nftables.find((e) => e.rule?.chain === 'services')?.rule
    services?.expr?.unshift({limit: {rate: 10, per: 'second'}})
    const r = run(nftablesMode(snap, JSON.stringify(doc)), 'web-1-1', 'svc/default/web')
    expect([r.verdict, r.reason?.code]).toEqual(['unknown', 'unknown-datapath'])
    expect(r.reason?.message).toMatch(/ip kube-proxy services handle \d+ \(.*\): statement "limit" is not evaluated/)
  })
})

describe('doctor on a kube-proxy nftables-mode node', () => {
  let snap: Snapshot
  beforeAll(async () => {
    snap = nftablesMode(await readSnapshot(fileURLToPath(new URL('fixtures/lab-host-gw.json.gz', import.meta.url))))
  })
  const nat = REGISTRY.filter((c) => ['nat-stale-endpoint', 'nat-missing-service', 'nat-orphan-service', 'conntrack-stale', 'kube-proxy-mode'].includes(c.id))

  it('a healthy node: the NAT checks run on node-1 (not skipped) and find nothing', () => {
    const report = runDoctor(snap, nat)
    expect(report.findings.filter((f) => f.check !== 'kube-proxy-mode')).toEqual([])
    expect(report.skipped.filter((s) => /node-1/.test(s.reason))).toEqual([])
  })

  it('a stale endpoint, a missing Service and an orphan in the nft table are found, quoting the nft evidence', () => {
    const text = readFileSync(netfilter('nft-list-ruleset.lab-node-1.nftables-mode.json'), 'utf8')
      .replaceAll('10.244.2.3', '10.244.2.99')
      .replace(/\[\{"concat": \["10\.96\.0\.53", "udp", 53\]\}, \{"goto": \{"target": "[^"]+"\}\}\],? ?/, '')
      .replaceAll('default/empty:http', 'gone/old:http')
    const report = runDoctor(nftablesMode(snap, text), nat)
    const byCheck = (id: string) => report.findings.filter((f) => f.check === id && f.node === 'node-1')
    expect(byCheck('nat-stale-endpoint').map((f) => f.message)).toEqual(['default/web:http (tcp) DNATs to 10.244.2.99:8080, which is not a ready endpoint', 'default/web-np:http (tcp) DNATs to 10.244.2.99:8080, which is not a ready endpoint'])
    expect(byCheck('nat-stale-endpoint')[0]?.evidence[0]).toEqual({source: 'node-1: nft -j list ruleset', text: expect.stringMatching(/^ip kube-proxy service-[A-Z2-7]{8}-default\/web\/tcp\/http handle \d+: meta l4proto tcp dnat ip addr \. port to numgen random mod 4 map \{ …, 3 : 10\.244\.2\.99 \. 8080, … \}$/)})
    expect(byCheck('nat-missing-service').map((f) => [f.message, f.evidence[1]?.text])).toEqual([
      ['default/dns:dns (udp) has 2 ready endpoint(s) but no kube-proxy rules on node-1', 'no element { 10.96.0.53 . udp . 53 } in map ip kube-proxy service-ips (default/dns:dns)'],
      ["default/web:http (tcp): 1 ready endpoint(s) absent from node-1's rules: 10.244.2.3", expect.stringMatching(/^ip kube-proxy map service-ips: element \{ 10\.96\.0\.80 \. tcp \. 80 : goto service-[A-Z2-7]{8}-default\/web\/tcp\/http \}$/)],
      ["default/web-np:http (tcp): 1 ready endpoint(s) absent from node-1's rules: 10.244.2.3", expect.stringMatching(/^ip kube-proxy map service-ips: element \{ 10\.96\.0\.81 \. tcp \. 80 : goto service-[A-Z2-7]{8}-default\/web-np\/tcp\/http \}$/)],
    ])
    expect(byCheck('nat-orphan-service').map((f) => [f.message, f.evidence[0]?.text])).toEqual([
      ['node-1 still has kube-proxy rules for gone/old:http, but Service gone/old does not exist', 'ip kube-proxy map no-endpoint-services: element { 10.96.0.99 . tcp . 80 comment "gone/old:http" : goto reject-chain }'],
    ])
  })

  it('kube-proxy-mode reports node-1 in nftables mode against an iptables ConfigMap', () => {
    const report = runDoctor(snap, nat.filter((c) => c.id === 'kube-proxy-mode'))
    expect(report.findings.map((f) => [f.node, f.evidence[0]?.text])).toEqual([['node-1', 'table ip kube-proxy']])
  })
})
