import type {Evidence, Finding} from '../report/finding.js'
import {api, selectorText} from './evidence.js'
import type {Check} from './types.js'

export const serviceNoEndpoints: Check = {
  id: 'service-no-endpoints',
  title: 'Services with matching pods have ready endpoints',
  severity: 'warn',
  requires: ['cluster:services', 'cluster:pods', 'cluster:endpointslices'],
  remediation: 'make the selected pods pass their readiness probes (kubectl describe pod), or check the EndpointSlice controller if the pods are ready',
  explanation:
    'kube-proxy only sends Service traffic to ready endpoints. When the selected pods exist but none is ready, the ClusterIP rejects connections ("has no endpoints") although the pods are there.',
  run(ctx) {
    const index = ctx.model.index
    const findings: Finding[] = []
    for (const svc of ctx.cluster().services) {
      // Selector-less Services have hand-managed endpoints; no selected pod is service-selector-matches-nothing's finding.
      if (!svc.selector || svc.type === 'ExternalName') continue
      const pods = index.selectPods(svc.namespace, svc.selector)
      if (pods.length === 0) continue
      const key = `${svc.namespace}/${svc.name}`
      const slices = index.slicesByService().get(key) ?? []
      const ready = slices.some((s) => s.endpoints.some((e) => e.ready !== false && e.addresses.length > 0))
      if (ready) continue
      const evidence: Evidence[] = [api('Service', key, 'spec.selector', selectorText(svc.selector))]
      if (slices.length === 0) evidence.push({source: `api: EndpointSlices in ${svc.namespace}`, text: `none labelled kubernetes.io/service-name=${svc.name}`})
      for (const s of slices) {
        s.endpoints.slice(0, 3).forEach((e, i) =>
          evidence.push(api('EndpointSlice', `${s.namespace}/${s.name}`, `endpoints[${i}]`, `${e.addresses.join(',')} ready=${String(e.ready ?? 'unknown')}${e.targetRef ? ` (${e.targetRef.kind} ${e.targetRef.name})` : ''}`)),
        )
        if (s.endpoints.length === 0) evidence.push(api('EndpointSlice', `${s.namespace}/${s.name}`, 'endpoints', '[]'))
      }
      const notReady = pods.filter((p) => p.ready !== true).length
      findings.push(
        ctx.finding({
          subject: {kind: 'service', namespace: svc.namespace, name: svc.name},
          message: `no ready endpoints although ${pods.length} pod(s) match the selector (${notReady} not ready)`,
          evidence,
        }),
      )
    }
    return findings
  },
}
