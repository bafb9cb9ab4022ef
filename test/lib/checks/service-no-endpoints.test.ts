import {describe, expect, test} from 'vitest'
import {serviceNoEndpoints} from '../../../src/lib/checks/service-no-endpoints.js'
import {run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('service-no-endpoints', () => {
  test('reports selected pods that are all not ready', () => {
    expect(run(serviceNoEndpoints, (SCENARIOS['service-no-endpoints'] as () => never)())).toEqual({
      findings: [
        {
          "check": "service-no-endpoints",
          "severity": "warn",
          "subject": {
            "kind": "service",
            "namespace": "default",
            "name": "web"
          },
          "message": "no ready endpoints although 2 pod(s) match the selector (2 not ready)",
          "evidence": [
            {
              "source": "api: Service default/web spec.selector",
              "text": "app=web"
            },
            {
              "source": "api: EndpointSlice default/web-abcde endpoints[0]",
              "text": "10.244.1.5 ready=false"
            },
            {
              "source": "api: EndpointSlice default/web-abcde endpoints[1]",
              "text": "10.244.2.7 ready=false"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(serviceNoEndpoints, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(serviceNoEndpoints, snapshotOf({cluster: null}))).toEqual({findings: [], skipped: [{check: 'service-no-endpoints', reason: "no cluster state in the snapshot (no --objects, no kubeconfig, or --no-cluster)"}]})
  })
})
