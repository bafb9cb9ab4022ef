import type {IptablesDump} from '../parse/iptables-save.js'
import type {Finding} from '../report/finding.js'
import {nodeEvidence} from './evidence.js'
import type {Check} from './types.js'

export const iptablesBackendMixed: Check = {
  id: 'iptables-backend-mixed',
  title: 'iptables rules live in one backend only',
  severity: 'warn',
  requires: ['node:iptables-save', 'node:iptables-legacy-save'],
  remediation: 'pick one backend (update-alternatives --set iptables /usr/sbin/iptables-nft), flush the other (iptables-legacy -F; -t nat -F) and restart kube-proxy and the CNI so they write to the one in use',
  explanation:
    'iptables-legacy and iptables-nft are two separate rule sets that the kernel both applies. When kube-proxy writes one and the CNI or an old install the other, rules shadow each other and the packet path depends on which one drops first.',
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const nft = rules(node.iptables4)
      const legacy = rules(node.iptablesLegacy)
      if (nft.size === 0 || legacy.size === 0) continue
      const onlyLegacy = [...legacy].find((r) => !nft.has(r))
      const onlyNft = [...nft].find((r) => !legacy.has(r))
      // Identical dumps: iptables-save itself is the legacy tool, so there is one backend.
      if (!onlyLegacy && !onlyNft) continue
      findings.push(
        ctx.finding({
          subject: {kind: 'node', name: node.name},
          node: node.name,
          message: `rules in both backends: ${legacy.size} in iptables-legacy and ${nft.size} in iptables-nft`,
          evidence: [nodeEvidence(node, 'iptables-legacy-save', onlyLegacy ?? [...legacy][0] ?? ''), nodeEvidence(node, 'iptables-save', onlyNft ?? [...nft][0] ?? '')],
        }),
      )
    }
    return findings
  },
}

function rules(dump: IptablesDump | undefined): Set<string> {
  const out = new Set<string>()
  for (const t of dump?.tables ?? []) for (const c of t.chains) for (const r of c.rules) out.add(r.raw.replace(/^\[\d+:\d+\]\s*/, ''))
  return out
}
