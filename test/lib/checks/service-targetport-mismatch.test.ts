import {describe, expect, test} from 'vitest'
import {serviceTargetportMismatch} from '../../../src/lib/checks/service-targetport-mismatch.js'
import {run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('service-targetport-mismatch', () => {
  test('reports a named targetPort no pod declares', () => {
    expect(run(serviceTargetportMismatch, (SCENARIOS['service-targetport-mismatch'] as () => never)())).toEqual({
      findings: [
        {
          "check": "service-targetport-mismatch",
          "severity": "error",
          "subject": {
            "kind": "service",
            "namespace": "default",
            "name": "web"
          },
          "message": "port http: targetPort web/TCP is not declared by any of the 2 selected pod(s)",
          "evidence": [
            {
              "source": "api: Service default/web spec.ports[0].targetPort",
              "text": "web"
            },
            {
              "source": "api: Pod default/web-1 spec.containers[*].ports",
              "text": "main: http=8080/TCP"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(serviceTargetportMismatch, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(serviceTargetportMismatch, snapshotOf({cluster: null}))).toEqual({findings: [], skipped: [{check: 'service-targetport-mismatch', reason: "no cluster state in the snapshot (no --objects, no kubeconfig, or --no-cluster)"}]})
  })
})
