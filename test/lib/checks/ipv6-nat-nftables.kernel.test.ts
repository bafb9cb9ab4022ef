/**
 * The NAT checks on a dual-stack node's live nftables state (root): kube-proxy's `ip kube-proxy` and
 * `ip6 kube-proxy` tables (test/fixtures/netfilter/capture-nft-dualstack.ts) loaded with `nft -f`
 * into a namespace and read back with `nft -j list ruleset`, as knet reads a node. Healthy: nothing;
 * the ip6 table deleted: web's IPv6 family has no rules, the IPv4 family still judged healthy;
 * the IPv6 Service's chain rewritten to an address no longer an endpoint: a stale IPv6 DNAT.
 */
import {afterAll, beforeAll, expect, it} from 'vitest'
import {natMissingService} from '../../../src/lib/checks/nat-missing-service.js'
import {natOrphanService} from '../../../src/lib/checks/nat-orphan-service.js'
import {natStaleEndpoint} from '../../../src/lib/checks/nat-stale-endpoint.js'
import type {Finding} from '../../../src/lib/report/finding.js'
import {describeNetns, TestNetns} from '../../helpers/netns.js'
import {dualStackNft, WEB6} from '../../fixtures/netfilter/capture-nft-dualstack.js'
import {DNS, flannelNode, KUBERNETES, nodeEvidence, run, SERVICES, snapshotOf, WEB, webDualStack} from './fixtures.js'

const brief = (f: Finding) => [f.check, f.node, f.family ?? 4, f.message]

describeNetns('NAT checks on live nftables state: ip and ip6 kube-proxy tables', () => {
  let node: TestNetns
  const findings = () => {
    const snapshot = snapshotOf({
      cluster: {kubeProxyMode: 'nftables', services: SERVICES.filter((s) => s.name !== 'web'), extra: webDualStack()},
      nodes: [nodeEvidence('node-1', {...flannelNode(), 'iptables-save': '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n', nft: node.run(['nft', '-j', 'list', 'ruleset'])})],
    })
    return [natMissingService, natStaleEndpoint, natOrphanService].flatMap((c) => run(c, snapshot).findings)
  }
  const load = (v6: typeof WEB6 | undefined) => {
    node.run(['nft', 'flush', 'ruleset'])
    node.run(['nft', '-f', '-'], dualStackNft([KUBERNETES, WEB, DNS], v6 ? [v6] : undefined))
  }

  beforeAll(() => {
    node = TestNetns.create('v6xnft')
  })
  afterAll(() => node?.destroy())

  it('healthy: both tables loaded, no finding in either family', () => {
    load(WEB6)
    expect(findings().map(brief)).toEqual([])
  })

  it('the ip6 kube-proxy table deleted: an IPv6 nat-missing-service, nothing for IPv4', () => {
    load(WEB6)
    node.run(['nft', 'delete', 'table', 'ip6', 'kube-proxy'])
    const found = findings()
    expect(found.map(brief)).toEqual([
      ['nat-missing-service', 'node-1', 6, 'default/web:http (tcp) has 2 ready IPv6 endpoint(s) but no kube-proxy ip6 kube-proxy nftables rules on node-1 (its IPv4 family has them): IPv6 clients of [fd00:10:96::50]:80 get nowhere'],
    ])
  })

  it('the IPv6 chain DNATs to an address that is not an endpoint: stale and missing, both IPv6', () => {
    load({...WEB6, endpoints: [{ip: 'fd00:10:244:1::5', nodeName: 'node-1'}, {ip: 'fd00:10:244:2::99', nodeName: 'node-2'}]})
    expect(findings().map(brief)).toEqual([
      ['nat-missing-service', 'node-1', 6, "default/web:http (tcp): 1 ready IPv6 endpoint(s) absent from node-1's ip6 kube-proxy nftables rules: fd00:10:244:2::7"],
      ['nat-stale-endpoint', 'node-1', 6, 'default/web:http (tcp) DNATs to [fd00:10:244:2::99]:8080, which is not a ready endpoint'],
    ])
  })
}, ['nft'])
