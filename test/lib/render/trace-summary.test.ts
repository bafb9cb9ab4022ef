/**
 * trace's default view on real lab snapshots (3 nodes, a Service with six endpoints): the verdict
 * first, the endpoint branches collapsed, and only what failed hop by hop with its deciding line.
 */
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {renderTraceJson} from '../../../src/lib/render/trace-json.js'
import {renderTraceOutput} from '../../../src/lib/render/trace-output.js'
import {decidingEvidence, endpointCounts, groupBranches, renderTraceSummary} from '../../../src/lib/render/trace-summary.js'
import {renderTraceTable} from '../../../src/lib/render/trace-table.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'

const fixture = (name: string) => fileURLToPath(new URL(name, import.meta.url))
const HEALTHY = fixture('fixtures/svc-healthy.json.gz')
const STALE = fixture('fixtures/svc-stale-nat.json.gz')
const VXLAN = fixture('../trace/fixtures/lab-vxlan.json.gz')

async function trace(file: string, src: string, dst: string) {
  return traceSnapshot(await readSnapshot(file), {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default')})
}

const plain = (width: number) => ({width, color: false})

describe('trace default view', () => {
  it('a Service with six healthy endpoints: the verdict, the counts and three grouped ways, in a screen', async () => {
    const r = await trace(HEALTHY, 'web-1-1', 'svc/default/web:80')
    const text = renderTraceSummary(r, plain(80))
    expect(text).toBe(HEALTHY_80)
    expect(text.split('\n').length).toBeLessThanOrEqual(25)
    // The full view of the same trace, for scale.
    expect(renderTraceTable(r, plain(80)).split('\n').length).toBeGreaterThan(250)
  })

  it('a stale endpoint: the verdict names the code, hop and endpoint; only the failing way is shown hop by hop', async () => {
    const r = await trace(STALE, 'web-1-1', 'svc/default/web:80')
    const text = renderTraceSummary(r, plain(80))
    expect(text).toBe(STALE_80)
    expect(text.split('\n')[0]).toBe('verdict: PARTIAL — nat-stale-endpoint at hop 3 (cbr0 on node-1, to 10.244.2.3)')
    expect(endpointCounts(r.branches)).toBe('6 endpoints: 5 delivered, 1 dropped: nat-stale-endpoint → 10.244.2.3')
    expect(groupBranches(r.branches).map((g) => [g.verdict, g.branches.map((b) => b.endpoint)])).toEqual([
      ['delivered', ['pod/default/web-1-1', 'pod/default/web-1-2']],
      ['delivered', ['pod/default/web-2-1']],
      ['dropped', ['10.244.2.3']],
      ['delivered', ['pod/default/web-3-1', 'pod/default/web-3-2']],
    ])
  })

  it('a drop without branches: the hops, each with the line that decided it', async () => {
    const text = renderTraceSummary(await trace(VXLAN, 'web-1-1', 'svc/default/empty'), plain(120))
    expect(text).toBe(`verdict: DROPPED — netfilter-reject at hop 3 (cbr0 on node-1)
  node-1 rejects it in filter FORWARD (default/empty:http has no endpoints)
pod/default/web-1-1 (10.244.1.2) → svc/default/empty (10.96.0.99:80) tcp
path: web-1-1 eth0 → veth1 → ✗ cbr0

  1 ok   web-1-1 eth0 on node-1: leaves pod pod/default/web-1-1 by eth0 from 10.244.1.2
         └ api Pod default/web-1-1: status.podIPs[0].ip: 10.244.1.2; spec.nodeName: node-1
  2 ok   veth1 on node-1: 10.244.1.2 (0a:58:0a:f4:01:02) is behind veth1, a forwarding port of cbr0
         └ node-1 bridge fdb: 0a:58:0a:f4:01:02 dev veth1 master cbr0
  3 FAIL cbr0 on node-1 [netfilter-reject]: rejected (icmp-port-unreachable) in filter FORWARD
         └ node-1 iptables filter: -A KUBE-SERVICES -d 10.96.0.99/32 -p tcp -m comment --comment "default/empty:http has
           no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable

every hop with all its evidence: -v`)
  })

  it('delivered pod to pod: the verdict and the path, nothing else', async () => {
    const text = renderTraceSummary(await trace(VXLAN, 'web-1-1', 'web-2-2'), plain(120))
    expect(text).toBe(`verdict: DELIVERED
pod/default/web-1-1 (10.244.1.2) → pod/default/web-2-2 (10.244.2.3:8080) tcp
path: web-1-1 eth0 → veth1 → cbr0 → node-1 flannel.1 → 10.100.0.3 → node-2 flannel.1 → cbr0 → veth2 → web-2-2 eth0

every hop with all its evidence: -v`)
  })

  it('the deciding line: the DNAT for a stale endpoint, the FDB entry for VXLAN, the route a hop took', async () => {
    const r = await trace(STALE, 'web-1-1', 'svc/default/web:80')
    const stale = r.branches.find((b) => b.endpoint === '10.244.2.3')?.hops[0]
    expect(stale && decidingEvidence(stale)?.text).toMatch(/^nat line \d+: -A KUBE-SEP-\w+ .* -j DNAT --to-destination 10\.244\.2\.3:8080 /)
    const remote = r.branches.find((b) => b.endpoint === 'pod/default/web-2-1')?.hops ?? []
    expect(remote.map((h) => (decidingEvidence(h)?.source ?? '').replace(/^node-\d: /, ''))).toEqual([
      'iptables-save',
      'bridge -j fdb show',
      'Node node-2',
      'ip -j rule show / node-2: ip -j route show table all',
      'ip -j -d link show',
      'bridge -j fdb show',
      'Pod default/web-2-1',
    ])
  })

  it("the deciding line in kube-proxy's nftables mode: the nft rule that rejected, dropped or DNATed, not the last sysctl or route", () => {
    // As a real nftables-mode lab gives them (test/commands/lab-faults-real-nftables.test.ts).
    const nft = 'node-1: nft -j list table ip kube-proxy'
    const common = [
      {source: nft, text: 'ip kube-proxy filter-forward handle 21: ct state new jump service-endpoints-check (jump service-endpoints-check)'},
      {source: 'node-1: iptables-save', text: 'filter line 8: -A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT (ACCEPT)'},
    ]
    const tail = [
      {source: 'node-1: ip -j rule show / node-1: ip -j route show table all', text: '32766: from all lookup main: default via 10.100.0.1 dev eth0'},
      {source: 'node-1: grep -H . /proc/sys/net/ipv4/ip_forward', text: '/proc/sys/net/ipv4/ip_forward:1'},
    ]
    const reject = {source: nft, text: 'ip kube-proxy reject-chain handle 44: reject (REJECT (icmp-port-unreachable))'}
    const drop = {source: nft, text: 'ip kube-proxy cluster-ips-check handle 39: ip daddr 10.96.0.0/16 drop comment "Drop traffic to unallocated ClusterIPs" (DROP)'}
    const dnat = {source: nft, text: 'ip kube-proxy service-ULMVA6XW-default/web/tcp/http handle 60: meta l4proto tcp dnat ip addr . port to numgen random mod 4 map { …, 3 : 10.244.1.3 . 8080, … }'}
    const hop = (code: string, evidence: {source: string; text: string}[]) => ({code, action: '', evidence}) as never
    expect(decidingEvidence(hop('netfilter-reject', [...common, reject, ...tail]))).toEqual(reject)
    expect(decidingEvidence(hop('netfilter-drop', [...common, drop, ...tail]))).toEqual(drop)
    expect(decidingEvidence(hop('nat-missing-service', [...common, drop, ...tail]))).toEqual(drop)
    expect(decidingEvidence(hop('nat-stale-endpoint', [...common, dnat, ...tail]))).toEqual(dnat)
    // iptables mode: the route an untranslated ClusterIP took.
    expect(decidingEvidence(hop('nat-missing-service', [...common, ...tail]))).toEqual(tail[0])
  })

  it('colour only when asked; -v is the full view; JSON is the contract, byte for byte', async () => {
    const r = await trace(STALE, 'web-1-1', 'svc/default/web:80')
    const ESC = '\u001B['
    expect(renderTraceSummary(r, {width: 80, color: true})).toContain(`${ESC}31mPARTIAL`)
    expect(renderTraceSummary(r, plain(80))).not.toContain(ESC)
    expect(renderTraceOutput(r, 'table', {...plain(80), verbose: true})).toBe(`${renderTraceTable(r, plain(80))}\n`)
    expect(renderTraceOutput(r, 'table', {...plain(80), verbose: false})).toBe(`${renderTraceSummary(r, plain(80))}\n`)
    expect(renderTraceOutput(r, 'json', {...plain(80), verbose: false})).toBe(renderTraceJson(r))
    expect(renderTraceOutput(r, 'json', {...plain(80), verbose: true})).toBe(renderTraceJson(r))
  })
})

const HEALTHY_80 = `verdict: DELIVERED
pod/default/web-1-1 (10.244.1.2) → svc/default/web (10.96.0.80:80) tcp
6 endpoints: 6 delivered

path: web-1-1 eth0 → veth1 → cbr0 ⇒ DNAT (masqueraded) to 1 of 6 endpoints:
  ✓ web-1-1, web-1-2: veth → pod eth0
  ✓ web-2-1, web-2-2: node-1 flannel.1 → 10.100.0.3 → node-2 flannel.1 → cbr0 →
      veth → pod eth0
  ✓ web-3-1, web-3-2: node-1 flannel.1 → 10.100.0.4 → node-3 flannel.1 → cbr0 →
      veth → pod eth0

every hop with all its evidence: -v`
const STALE_80 = `verdict: PARTIAL — nat-stale-endpoint at hop 3 (cbr0 on node-1, to 10.244.2.3)
  node-1 DNATs default/web:http to 10.244.2.3, which is not a ready endpoint in
  its EndpointSlices
pod/default/web-1-1 (10.244.1.2) → svc/default/web (10.96.0.80:80) tcp
6 endpoints: 5 delivered, 1 dropped: nat-stale-endpoint → 10.244.2.3

path: web-1-1 eth0 → veth1 → cbr0 ⇒ DNAT (masqueraded) to 1 of 6 endpoints:
  ✓ web-1-1, web-1-2: veth → pod eth0
  ✓ web-2-1: node-1 flannel.1 → 10.100.0.3 → node-2 flannel.1 → cbr0 → veth1 →
      web-2-1 eth0
  ✗ 10.244.2.3 (nat-stale-endpoint): ✗ cbr0
  ✓ web-3-1, web-3-2: node-1 flannel.1 → 10.100.0.4 → node-3 flannel.1 → cbr0 →
      veth → pod eth0

  1 ok   web-1-1 eth0 on node-1: leaves pod pod/default/web-1-1 by eth0 from
           10.244.1.2
         └ api Pod default/web-1-1: status.podIPs[0].ip: 10.244.1.2;
           spec.nodeName: node-1
  2 ok   veth1 on node-1: 10.244.1.2 (0a:58:0a:f4:01:02) is behind veth1, a
           forwarding port of cbr0
         └ node-1 bridge fdb: 0a:58:0a:f4:01:02 dev veth1 master cbr0
  ⇒ to 10.244.2.3: DROPPED (nat-stale-endpoint)
  3 FAIL cbr0 on node-1 [nat-stale-endpoint]: DNAT to 10.244.2.3:8080 (16.7%);
           DNAT to 10.244.2.3, which no ready endpoint of default/web:http has
         └ node-1 iptables nat: -A KUBE-SEP-VQGOCFX4X6FWJPNR -p tcp -m comment
           --comment "default/web:http" -m tcp -j DNAT --to-destination
           10.244.2.3:8080

every hop with all its evidence: -v`
