import {describe, expect, test} from 'vitest'
import {kubeProxyMode} from '../../../src/lib/checks/kube-proxy-mode.js'
import {fixtureText, flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

function withoutKubeProxyConfig() {
  const s = snapshotOf()
  if (s.cluster) s.cluster.objects.kubeProxyConfigMap = null
  return s
}

describe('kube-proxy-mode', () => {
  test('reports nodes in iptables mode while the ConfigMap says ipvs', () => {
    expect(run(kubeProxyMode, (SCENARIOS['kube-proxy-mode'] as () => never)())).toEqual({
      findings: [
        {
          "check": "kube-proxy-mode",
          "severity": "warn",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "kube-proxy runs in iptables mode on node-1, but its ConfigMap says ipvs",
          "evidence": [
            {
              "source": "node-1: iptables-save",
              "text": "-A KUBE-SERVICES -d 172.20.0.1/32 -p tcp -m comment --comment \"default/kubernetes:https cluster IP\" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y"
            },
            {
              "source": "api: ConfigMap kube-system/kube-proxy config.conf mode",
              "text": "ipvs"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(kubeProxyMode, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(kubeProxyMode, withoutKubeProxyConfig())).toEqual({findings: [], skipped: [{check: 'kube-proxy-mode', reason: "kube-proxy mode unknown: no readable kube-system/kube-proxy ConfigMap"}]})
  })

  test('a node in nftables mode (captured nft ruleset, no KUBE-SVC chains) against an iptables ConfigMap', () => {
    const outputs = {...flannelNode(), 'iptables-save': '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n', nft: fixtureText('netfilter/nft-list-ruleset.kube-proxy.json')}
    const {findings} = run(kubeProxyMode, snapshotOf({nodes: [nodeEvidence('node-1', outputs)]}))
    expect(findings.map((f) => [f.node, f.message, f.evidence])).toEqual([
      [
        'node-1',
        'kube-proxy runs in nftables mode on node-1, but its ConfigMap says iptables',
        [
          {source: 'node-1: nft -j list ruleset', text: 'table ip kube-proxy'},
          {source: 'api: ConfigMap kube-system/kube-proxy config.conf mode', text: 'iptables'},
        ],
      ],
    ])
  })

  test("an IPv6-only node's kube-proxy rules, in ip6tables alone, are read and judged", () => {
    const empty = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'
    const rule = '-A KUBE-SERVICES -d fd00:10:96::a/128 -p udp -m comment --comment "default/dns cluster IP" -m udp --dport 53 -j KUBE-SVC-DNS'
    const six = `*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-DNS - [0:0]\n${rule}\nCOMMIT\n`
    const outputs = {...flannelNode(), 'iptables-save': empty, 'ip6tables-save': six}
    expect(run(kubeProxyMode, snapshotOf({nodes: [nodeEvidence('node-1', outputs)]}))).toEqual({findings: [], skipped: []})
  })

  test('a node showing no kube-proxy rules at all is skipped with the reason, not judged', () => {
    const bare = {...flannelNode(), 'iptables-save': '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'}
    expect(run(kubeProxyMode, snapshotOf({nodes: [nodeEvidence('node-1', bare)]}))).toEqual({
      findings: [],
      skipped: [{check: 'kube-proxy-mode', reason: 'no kube-proxy rules visible on node-1 (no KUBE-SERVICES chain in iptables or ip6tables, kube-ipvs0 or nft table kube-proxy)'}],
    })
  })
})
