/**
 * The NAT checks per family in kube-proxy's nftables and IPVS modes: a dual-stack Service (web,
 * 172.20.0.50 and fd00:10:96::50) is judged in each family against that family's EndpointSlice.
 * nftables: real `nft -j list ruleset` output of an `ip kube-proxy` and an `ip6 kube-proxy` table
 * (test/fixtures/netfilter/capture-nft-dualstack.ts; ipv6-nat-nftables.kernel.test.ts loads the same
 * tables into a namespace). IPVS: `ipvsadm -S -n` written by hand in kube-proxy's layout (the
 * kernel here has no IPVS; test/fixtures/ipvs/README.md).
 */
import {describe, expect, test} from 'vitest'
import {natMissingService} from '../../../src/lib/checks/nat-missing-service.js'
import {natOrphanService} from '../../../src/lib/checks/nat-orphan-service.js'
import {natStaleEndpoint} from '../../../src/lib/checks/nat-stale-endpoint.js'
import {kubeProxyView6} from '../../../src/lib/checks/kube-proxy-ipv6.js'
import {buildModel} from '../../../src/lib/model/model.js'
import type {Finding} from '../../../src/lib/report/finding.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {fixtureText, flannelNode, nodeEvidence, run, SERVICES, snapshotOf, webDualStack} from './fixtures.js'

const NO_KUBE_PROXY_IPTABLES = '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'
const NFT = fixtureText('netfilter/nft-list-ruleset.kube-proxy-dualstack.json')
const IPVS = fixtureText('ipvs/ipvsadm-save.dualstack.txt')
const KUBE_IPVS0 = {ifindex: 10, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP'], mtu: 1500, operstate: 'DOWN', linkinfo: {info_kind: 'dummy'}}

function dualStackSnapshot(mode: 'nftables' | 'ipvs', evidence: Record<string, string>, v6Ready?: [boolean, boolean]): Snapshot {
  return snapshotOf({
    cluster: {kubeProxyMode: mode, services: SERVICES.filter((s) => s.name !== 'web'), extra: webDualStack(v6Ready)},
    nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-save': NO_KUBE_PROXY_IPTABLES, ...evidence})],
  })
}

/** The ruleset without the ip6 kube-proxy table: the IPv6 proxier wrote nothing. */
function withoutIp6Table(json: string): string {
  const doc = JSON.parse(json) as {nftables: Record<string, {family?: string}>[]}
  return JSON.stringify({nftables: doc.nftables.filter((e) => Object.values(e)[0]?.family !== 'ip6')})
}

const brief = (f: Finding) => [f.check, f.node, f.family ?? 4, f.message]
const natChecks = (snapshot: Snapshot) => [natMissingService, natStaleEndpoint, natOrphanService].flatMap((c) => run(c, snapshot).findings)

describe('kube-proxy nftables mode, dual-stack (real nft output)', () => {
  const nft = (json = NFT, v6Ready?: [boolean, boolean]) => dualStackSnapshot('nftables', {nft: json}, v6Ready)

  test("the ip6 kube-proxy table is the node's IPv6 view: web's IPv6 ClusterIP DNATs to its IPv6 endpoints", () => {
    const model = buildModel(nft())
    const node = model.nodes[0] as (typeof model.nodes)[number]
    expect(model.index.kubeProxyView(node)?.ports.map((p) => [p.portName, p.clusterIP, p.targets.map((t) => `${t.ip} ${t.port ?? ''}`)])).toEqual([
      ['kube-system/kube-dns:dns', '172.20.0.10', ['10.244.2.3 53']],
      ['default/web:http', '172.20.0.50', ['10.244.1.5 8080', '10.244.2.7 8080']],
      ['default/kubernetes:https', '172.20.0.1', ['10.100.0.2 6443']],
    ])
    const v6 = kubeProxyView6(model, node)
    expect([v6?.mode, v6?.source]).toEqual(['nftables', 'node-1: nft -j list ruleset'])
    expect(v6?.ports.map((p) => [p.portName, p.protocol, p.clusterIP, p.targets.map((t) => `${t.ip} ${t.port ?? ''}`)])).toEqual([
      ['default/web:http', 'tcp', 'fd00:10:96::50', ['fd00:10:244:1::5 8080', 'fd00:10:244:2::7 8080']],
    ])
  })

  test('healthy: no NAT finding in either family', () => {
    expect(natChecks(nft()).map(brief)).toEqual([])
  })

  test('no ip6 kube-proxy table: web has no IPv6 rules on node-1 (its IPv4 family has them)', () => {
    const findings = natChecks(nft(withoutIp6Table(NFT)))
    expect(findings.map(brief)).toEqual([
      ['nat-missing-service', 'node-1', 6, 'default/web:http (tcp) has 2 ready IPv6 endpoint(s) but no kube-proxy ip6 kube-proxy nftables rules on node-1 (its IPv4 family has them): IPv6 clients of [fd00:10:96::50]:80 get nowhere'],
    ])
    expect(findings[0]?.evidence).toEqual([
      {source: 'api: EndpointSlice default/web-v6xyz endpoints[0].addresses[0]', text: '[fd00:10:244:1::5]:8080 ready'},
      {source: 'node-1: nft -j list ruleset', text: 'no element { fd00:10:96::50 . tcp . 80 } in map ip6 kube-proxy service-ips (default/web:http)'},
    ])
  })

  test('an IPv6 endpoint no longer ready but still a DNAT target: nat-stale-endpoint for IPv6 only', () => {
    const findings = natChecks(nft(NFT, [true, false]))
    expect(findings.map(brief)).toEqual([
      ['nat-stale-endpoint', 'node-1', 6, 'default/web:http (tcp) DNATs to [fd00:10:244:2::7]:8080, which is not a ready endpoint'],
    ])
    expect(findings[0]?.evidence[0]?.text).toMatch(/^ip6 kube-proxy service-[A-Z2-7]{8}-default\/web\/tcp\/http handle \d+: meta l4proto tcp dnat ip6 addr \. port to numgen random mod 2 map \{ …, 1 : fd00:10:244:2::7 \. 8080, … \}$/)
  })

  test('a deleted Service left only in the ip6 table: nat-orphan-service for IPv6', () => {
    // The cluster without web: its IPv4 rules are orphans too, reported once, from the IPv4 table.
    const gone = snapshotOf({
      cluster: {kubeProxyMode: 'nftables', services: SERVICES.filter((s) => s.name !== 'web')},
      nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-save': NO_KUBE_PROXY_IPTABLES, nft: NFT})],
    })
    expect(run(natOrphanService, gone).findings.map(brief)).toEqual([
      ['nat-orphan-service', 'node-1', 4, 'node-1 still has kube-proxy rules for default/web:http, but Service default/web does not exist'],
    ])
    // Only the IPv6 table keeps it: an IPv6 finding quoting the ip6 map element.
    const v4Cleaned = (JSON.parse(NFT) as {nftables: Record<string, Record<string, unknown>>[]}).nftables.map((e) => {
      const map = e.map
      if (map?.family !== 'ip' || map.name !== 'service-ips' || !Array.isArray(map.elem)) return e
      return {map: {...map, elem: (map.elem as unknown[][]).filter((el) => !JSON.stringify(el).includes('default/web/'))}}
    })
    const only6 = snapshotOf({
      cluster: {kubeProxyMode: 'nftables', services: SERVICES.filter((s) => s.name !== 'web')},
      nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-save': NO_KUBE_PROXY_IPTABLES, nft: JSON.stringify({nftables: v4Cleaned})})],
    })
    const findings = run(natOrphanService, only6).findings
    expect(findings.map(brief)).toEqual([
      ['nat-orphan-service', 'node-1', 6, 'node-1 still has kube-proxy rules for default/web:http, but Service default/web does not exist'],
    ])
    expect(findings[0]?.evidence[0]?.text).toMatch(/^ip6 kube-proxy map service-ips: element \{ fd00:10:96::50 \. tcp \. 80 : goto service-[A-Z2-7]{8}-default\/web\/tcp\/http \}$/)
  })

  test('gathered table by table (nft-chains, then each table): the IPv6 view quotes the ip6 table; an ip6 listing that failed is not judged', () => {
    const all = (JSON.parse(NFT) as {nftables: Record<string, {family?: string}>[]}).nftables
    const kindOf = (e: Record<string, unknown>) => Object.keys(e)[0] as string
    const meta = all.filter((e) => kindOf(e) === 'metainfo')
    const table = (family: string) => JSON.stringify({nftables: [...meta, ...all.filter((e) => kindOf(e) !== 'metainfo' && Object.values(e)[0]?.family === family)]})
    const layout = (ip6: string | {status: 'failed'; reason: string}) => {
      const snapshot = dualStackSnapshot('nftables', {'nft-chains': JSON.stringify({nftables: [...meta, ...all.filter((e) => kindOf(e) === 'chain')]}), 'nft-table:ip:kube-proxy': table('ip')})
      const node = snapshot.nodes[0] as Snapshot['nodes'][number]
      node.results.push(nodeEvidence('node-1', {'nft-table:ip6:kube-proxy': ip6}).results[0] as Snapshot['nodes'][number]['results'][number])
      for (const r of node.results) if (r.id.startsWith('nft-table:')) r.argv = ['nft', '-j', 'list', 'table', ...r.id.split(':').slice(1)]
      return snapshot
    }
    const listed = buildModel(layout(table('ip6')))
    const node = listed.nodes[0] as (typeof listed.nodes)[number]
    expect([listed.index.kubeProxyView(node)?.source, kubeProxyView6(listed, node)?.source]).toEqual(['node-1: nft -j list table ip kube-proxy', 'node-1: nft -j list table ip6 kube-proxy'])
    expect(natChecks(layout(table('ip6'))).map(brief)).toEqual([])
    // Without its listing the ip6 table's rules are unknown, not absent: no IPv6 NAT finding.
    const failed = layout({status: 'failed', reason: 'nft: timed out'})
    expect(kubeProxyView6(buildModel(failed), buildModel(failed).nodes[0] as (typeof listed.nodes)[number])).toBeUndefined()
    expect(natChecks(failed).map(brief)).toEqual([])
  })

  test('an IPv6-only node (only the ip6 table): read as nftables mode, its IPv6 Services judged', () => {
    const only6 = (JSON.parse(NFT) as {nftables: Record<string, {family?: string}>[]}).nftables.filter((e) => Object.values(e)[0]?.family !== 'ip')
    const model = buildModel(nft(JSON.stringify({nftables: only6})))
    const node = model.nodes[0] as (typeof model.nodes)[number]
    expect(model.index.observedKubeProxyMode(node)?.mode).toBe('nftables')
    expect(kubeProxyView6(model, node)?.ports.map((p) => p.clusterIP)).toEqual(['fd00:10:96::50'])
  })
})

describe('kube-proxy IPVS mode, dual-stack (hand-written ipvsadm -S -n: no IPVS in this kernel)', () => {
  const ipvs = (text = IPVS, v6Ready?: [boolean, boolean]) =>
    dualStackSnapshot('ipvs', {ipvsadm: text, links: JSON.stringify([...(JSON.parse(flannelNode().links ?? '[]') as unknown[]), KUBE_IPVS0])}, v6Ready)

  test('each family has its own view: IPv4 virtual services in one, [addr]:port ones in the other', () => {
    const model = buildModel(ipvs())
    const node = model.nodes[0] as (typeof model.nodes)[number]
    const v4 = model.index.kubeProxyView(node)
    expect([v4?.mode, v4?.ports.map((p) => p.chain), v4?.orphans]).toEqual(['ipvs', ['TCP 172.20.0.1:443', 'TCP 172.20.0.50:80', 'UDP 172.20.0.10:53'], []])
    const v6 = kubeProxyView6(model, node)
    expect(v6?.ports.map((p) => [p.portName, p.clusterIP, p.chain, p.targets.map((t) => t.rule.text)])).toEqual([
      ['default/web:http', 'fd00:10:96::50', 'TCP [fd00:10:96::50]:80', ['-a -t [fd00:10:96::50]:80 -r [fd00:10:244:1::5]:8080 -m -w 1', '-a -t [fd00:10:96::50]:80 -r [fd00:10:244:2::7]:8080 -m -w 1']],
    ])
  })

  test('healthy: no NAT finding in either family', () => {
    expect(natChecks(ipvs()).map(brief)).toEqual([])
  })

  test("web's IPv6 virtual service missing: nat-missing-service for IPv6, its IPv4 one intact", () => {
    const findings = natChecks(ipvs(IPVS.split('\n').filter((l) => !l.includes('[fd00:10:96::50]:80')).join('\n')))
    expect(findings.map(brief)).toEqual([
      ['nat-missing-service', 'node-1', 6, 'default/web:http (tcp) has 2 ready IPv6 endpoint(s) but no kube-proxy IPv6 IPVS virtual services on node-1 (its IPv4 family has them): IPv6 clients of [fd00:10:96::50]:80 get nowhere'],
    ])
    expect(findings[0]?.evidence[1]).toEqual({source: 'node-1: ipvsadm -S -n', text: 'no virtual service TCP [fd00:10:96::50]:80 in ipvsadm (default/web:http)'})
  })

  test('a stale IPv6 real server and an orphan IPv6 virtual service, each tagged IPv6', () => {
    const text = `${IPVS.trimEnd()}\n-A -t [fd00:10:96::77]:80 -s rr\n-a -t [fd00:10:96::77]:80 -r [fd00:10:244:1::9]:8080 -m -w 1\n`
    const findings = natChecks(ipvs(text, [false, true]))
    expect(findings.map(brief)).toEqual([
      ['nat-stale-endpoint', 'node-1', 6, 'default/web:http (tcp) DNATs to [fd00:10:244:1::5]:8080, which is not a ready endpoint'],
      ['nat-orphan-service', 'node-1', 6, "node-1 still has kube-proxy's IPVS virtual service TCP [fd00:10:96::77]:80, but no Service has that address and port"],
    ])
    expect(findings.map((f) => f.evidence[0]?.text)).toEqual(['-a -t [fd00:10:96::50]:80 -r [fd00:10:244:1::5]:8080 -m -w 1', '-A -t [fd00:10:96::77]:80 -s rr'])
  })
})
