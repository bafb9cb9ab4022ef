import type {Finding} from '../report/finding.js'
import {api, selectorText} from './evidence.js'
import type {Check} from './types.js'

export const serviceSelectorMatchesNothing: Check = {
  id: 'service-selector-matches-nothing',
  title: "Each Service's selector matches at least one pod",
  severity: 'warn',
  requires: ['cluster:services', 'cluster:pods'],
  remediation: "fix the Service's spec.selector (or the pods' labels) so they agree; labels are case-sensitive and every selector key must match",
  explanation: 'A Service whose selector matches no pod gets no endpoints, so its ClusterIP refuses or drops every connection even though the pods it was meant for are running.',
  run(ctx) {
    const findings: Finding[] = []
    for (const svc of ctx.cluster().services) {
      if (!svc.selector || svc.type === 'ExternalName') continue
      if (ctx.model.index.selectPods(svc.namespace, svc.selector).length > 0) continue
      const inNamespace = ctx.model.index.podsInNamespace(svc.namespace).length
      findings.push(
        ctx.finding({
          subject: {kind: 'service', namespace: svc.namespace, name: svc.name},
          message: `selector ${selectorText(svc.selector)} matches none of the ${inNamespace} pods in namespace ${svc.namespace}`,
          evidence: [api('Service', `${svc.namespace}/${svc.name}`, 'spec.selector', selectorText(svc.selector))],
        }),
      )
    }
    return findings
  },
}
