import {describe, expect, test} from 'vitest'
import {serviceSelectorMatchesNothing} from '../../../src/lib/checks/service-selector-matches-nothing.js'
import {run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('service-selector-matches-nothing', () => {
  test('reports a misspelt selector', () => {
    expect(run(serviceSelectorMatchesNothing, (SCENARIOS['service-selector-matches-nothing'] as () => never)())).toEqual({
      findings: [
        {
          "check": "service-selector-matches-nothing",
          "severity": "warn",
          "subject": {
            "kind": "service",
            "namespace": "default",
            "name": "web"
          },
          "message": "selector app=wbe matches none of the 2 pods in namespace default",
          "evidence": [
            {
              "source": "api: Service default/web spec.selector",
              "text": "app=wbe"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(serviceSelectorMatchesNothing, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(serviceSelectorMatchesNothing, snapshotOf({cluster: null}))).toEqual({findings: [], skipped: [{check: 'service-selector-matches-nothing', reason: "no cluster state in the snapshot (no --objects, no kubeconfig, or --no-cluster)"}]})
  })
})
