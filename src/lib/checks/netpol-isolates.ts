import type {LabelSelector, PodModel} from '../model/cluster.js'
import {selectorMatches} from '../model/cluster/netpol.js'
import type {Finding} from '../report/finding.js'
import {api} from './evidence.js'
import type {Check} from './types.js'

export const netpolIsolates: Check = {
  id: 'netpol-isolates',
  title: 'Pods under a default-deny NetworkPolicy',
  severity: 'info',
  requires: ['cluster:networkpolicies', 'cluster:pods'],
  remediation: 'if these pods should accept (or send) traffic, add a NetworkPolicy that allows it; default deny is often intended',
  explanation:
    'A NetworkPolicy that selects pods for Ingress (or Egress) with no rules denies all such traffic to them except what another policy allows. Connections that "just time out" to these pods are usually this.',
  run(ctx) {
    const findings: Finding[] = []
    for (const np of ctx.cluster().networkPolicies ?? []) {
      const denies = np.policyTypes.filter((t) => (t === 'Ingress' ? np.ingress.length === 0 : np.egress.length === 0))
      if (denies.length === 0) continue
      const pods = matchSelector(ctx.model.index.podsInNamespace(np.namespace), np.podSelector, (l) => ctx.model.index.selectPods(np.namespace, l)).filter(
        (p) => p.phase !== 'Succeeded' && p.phase !== 'Failed',
      )
      if (pods.length === 0) continue
      const names = pods.slice(0, 5).map((p) => p.name)
      const key = `${np.namespace}/${np.name}`
      findings.push(
        ctx.finding({
          subject: {kind: 'networkpolicy', namespace: np.namespace, name: np.name},
          message: `default-deny ${denies.join(' and ').toLowerCase()} for ${pods.length} pod(s) in ${np.namespace}: ${names.join(', ')}${pods.length > names.length ? ', …' : ''}`,
          evidence: [
            api('NetworkPolicy', key, 'spec.podSelector', selectorDescription(np.podSelector)),
            api('NetworkPolicy', key, 'spec.policyTypes', np.policyTypes.join(',')),
            ...denies.map((t) => api('NetworkPolicy', key, t === 'Ingress' ? 'spec.ingress' : 'spec.egress', '[]')),
          ],
        }),
      )
    }
    return findings
  },
}

function selectorDescription(s: LabelSelector): string {
  const parts = [
    ...Object.entries(s.matchLabels).map(([k, v]) => `${k}=${v}`),
    ...s.matchExpressions.map((e) => `${e.key} ${e.operator}${e.values.length ? ` (${e.values.join(',')})` : ''}`),
  ]
  return parts.length === 0 ? '{} (all pods in the namespace)' : parts.join(',')
}

function matchSelector(all: PodModel[], s: LabelSelector, byLabels: (l: Record<string, string>) => PodModel[]): PodModel[] {
  // The label index narrows the candidates; the full selector semantics decide.
  const base = Object.keys(s.matchLabels).length > 0 ? byLabels(s.matchLabels) : all
  return base.filter((p) => selectorMatches(s, p.labels))
}
