/**
 * A real nftables-mode lab with a Service one node's kube-proxy never programmed (`knet lab up
 * --kubernetes … --proxy-mode nftables`, then `knet lab break missing-nat`: fixtures/README.md).
 * In nftables mode kube-proxy's own table drops a ClusterIP it has no Service for ("Drop traffic to
 * unallocated ClusterIPs"), so the untranslated packet dies on node-1 instead of being routed on as
 * in iptables mode; trace must still name the cause (nat-missing-service, with that rule as the
 * deciding line), as doctor does with the absent map element.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {decidingEvidence} from '../../../src/lib/render/trace-summary.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const FIXTURE = fileURLToPath(new URL('fixtures/real-nft-missing-nat.json.gz', import.meta.url))

let snapshot: Snapshot
beforeAll(async () => {
  snapshot = await readSnapshot(FIXTURE)
})

const trace = (src: string, dst: string): TraceResult => traceSnapshot(snapshot, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default')})

describe('kube-proxy nftables mode: a Service node-1 never programmed', () => {
  it("trace: node-1's pods → the Service are dropped by kube-proxy's unallocated-ClusterIP rule, reported as nat-missing-service", () => {
    const r = trace('web-1-1', 'svc/default/web-new')
    expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual(['dropped', 'nat-missing-service', 'node-1 has no NAT rule for svc/default/web-new although it has 4 ready endpoint(s) (kube-proxy FORWARD drops it)'])
    const failing = r.hops.at(-1)
    expect(failing && decidingEvidence(failing)?.text).toMatch(/^ip kube-proxy cluster-ips-check handle \d+: ip daddr 10\.96\.0\.0\/16 drop comment "Drop traffic to unallocated ClusterIPs" \(DROP\)$/)
  })

  it("node-2's pods reach it; a Service without endpoints is still kube-proxy's reject, not a missing Service", () => {
    expect(trace('web-2-1', 'svc/default/web-new').verdict).toBe('delivered')
    const empty = trace('web-1-1', 'svc/default/empty')
    expect([empty.verdict, empty.reason?.code]).toEqual(['dropped', 'netfilter-reject'])
  })

  it("kube-proxy's table whose listing timed out is unknown (evidence-missing), never an empty table: trace names the command, doctor skips the node's NAT checks", () => {
    const partial = structuredClone(snapshot)
    const table = partial.nodes.find((n) => n.name === 'node-2')?.results.find((r) => r.id === 'nft-table:ip:kube-proxy')
    Object.assign(table as object, {status: 'timeout', stdout: '', reason: 'timed out after 10000 ms'})
    const r = traceSnapshot(partial, {source: parseEndpoint('web-2-1', 'default'), destination: parseEndpoint('svc/default/web', 'default')})
    expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual([
      'unknown', 'evidence-missing', 'node-2: the rules of table ip kube-proxy (base chain filter-prerouting-pre-dnat, hook prerouting) are not in evidence: nft -j list table ip kube-proxy: timed out after 10000 ms',
    ])
    expect(r.hops.at(-1)?.evidence).toEqual([{source: 'node-2: nft -j list table ip kube-proxy', text: 'timeout: timed out after 10000 ms'}])
    const report = runDoctor(partial, CHECKS)
    expect(report.findings.filter((f) => f.node === 'node-2' && (f.severity === 'error' || f.severity === 'warn'))).toEqual([])
    expect(report.skipped.filter((s) => s.check === 'nat-missing-service')).toEqual([{check: 'nat-missing-service', reason: 'nft timeout on node-2 (timed out after 10000 ms) (kube-proxy nftables mode)'}])
  })

  it("another table whose listing timed out (a firewall's forward chain): the packet reaching it is unknown; kube-proxy's rules are still read", () => {
    const partial = structuredClone(snapshot)
    const node1 = partial.nodes.find((n) => n.name === 'node-1')
    const chains = node1?.results.find((r) => r.id === 'nft-chains')
    if (!node1 || !chains) throw new Error('the fixture has no nft-chains on node-1')
    const doc = JSON.parse(chains.stdout) as {nftables: unknown[]}
    doc.nftables.push({chain: {family: 'inet', table: 'fw', name: 'forward', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'accept'}})
    chains.stdout = JSON.stringify(doc)
    node1.results.push({...chains, id: 'nft-table:inet:fw', argv: ['nft', '-j', 'list', 'table', 'inet', 'fw'], status: 'timeout', stdout: '', stderr: '', exitCode: null, reason: 'timed out after 60000 ms'})
    const r = trace('web-1-1', 'web-2-1')
    expect(r.verdict).toBe('delivered')
    const p = traceSnapshot(partial, {source: parseEndpoint('web-1-1', 'default'), destination: parseEndpoint('web-2-1', 'default')})
    expect([p.verdict, p.reason?.code, p.reason?.message]).toEqual([
      'unknown', 'evidence-missing', 'node-1: the rules of table inet fw (base chain forward, hook forward) are not in evidence: nft -j list table inet fw: timed out after 60000 ms',
    ])
    expect(p.hops.find((h) => h.status === 'unknown')?.evidence.at(-1)).toEqual({source: 'node-1: nft -j list table inet fw', text: 'timeout: timed out after 60000 ms'})
    // The NAT checks read kube-proxy's table, which was listed: node-1's missing Service is still found.
    expect(runDoctor(partial, CHECKS).findings.filter((f) => f.check === 'nat-missing-service').map((f) => f.node)).toEqual(['node-1'])
  })

  it("doctor: nat-missing-service on node-1 only, with the absent element of kube-proxy's service-ips map as evidence", () => {
    const found = runDoctor(snapshot, CHECKS).findings.filter((f) => f.severity === 'error' || f.severity === 'warn')
    expect(found.map((f) => [f.check, f.node, f.evidence.map((e) => e.text)])).toEqual([
      ['nat-missing-service', 'node-1', [expect.stringMatching(/^10\.244\.\d+\.\d+:8080 ready$/), expect.stringMatching(/^no element \{ 10\.96\.\d+\.\d+ \. tcp \. 80 \} in map ip kube-proxy service-ips \(default\/web-new:http\)$/)]],
    ])
  })
})
