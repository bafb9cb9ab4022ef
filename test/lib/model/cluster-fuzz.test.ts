import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {objectsFromYamlFile} from '../../../src/lib/apiserver/load.js'
import {emptyObjects, type ClusterEvidence} from '../../../src/lib/gather/cluster/evidence.js'
import {objectsFromText} from '../../../src/lib/gather/cluster/objects-file.js'
import {buildClusterModel} from '../../../src/lib/model/cluster.js'
import {breather, mutate} from '../../helpers/fuzz.js'

const runs = Math.min(Number(process.env.FUZZ_RUNS ?? 300), 3000)
const real = objectsFromYamlFile(new URL('../../fixtures/cluster/kubeadm-3node.yaml', import.meta.url).pathname)

describe('the cluster model never throws', () => {
  it('on real objects with one value anywhere replaced by arbitrary JSON', async () => {
    const breathe = breather()
    await fc.assert(
      fc.asyncProperty(fc.nat(real.length - 1), fc.array(fc.nat(), {maxLength: 6}), fc.jsonValue(), async (index, path, value) => {
        await breathe()
        const objects = real.map((o, i) => (i === index ? mutate(o, path, value) : o))
        const evidence = objectsFromText(JSON.stringify(objects), 'fuzz.json')
        const model = buildClusterModel(evidence)
        expect(Array.isArray(model.problems)).toBe(true)
      }),
      {numRuns: runs},
    )
  })

  it('on evidence whose object lists hold anything at all', async () => {
    const breathe = breather()
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue(), {maxLength: 5}), fc.jsonValue(), async (junk, cm) => {
        await breathe()
        const evidence: ClusterEvidence = {
          source: 'api',
          objects: {...emptyObjects(), nodes: junk, pods: junk, services: junk, endpointSlices: junk, networkPolicies: junk, daemonSets: junk, namespaces: junk, kubeProxyConfigMap: cm},
          ignoredKinds: {},
          errors: [],
        }
        expect(() => buildClusterModel(evidence)).not.toThrow()
      }),
      {numRuns: runs},
    )
  })
})
