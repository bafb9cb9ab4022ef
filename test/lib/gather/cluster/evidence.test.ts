import {describe, expect, it} from 'vitest'
import {clusterEvidenceSchema, emptyObjects, slimObject} from '../../../../src/lib/gather/cluster/evidence.js'

describe('clusterEvidenceSchema', () => {
  it('accepts evidence with arbitrary objects and rejects a wrong shape', () => {
    const good = {
      source: 'api',
      server: 'https://x',
      objects: {...emptyObjects(), pods: [{anything: true}, 42], kubeProxyConfigMap: {data: {}}},
      ignoredKinds: {Secret: 1},
      errors: [{source: 'networkpolicies', kind: 'forbidden', message: 'm'}],
    }
    expect(clusterEvidenceSchema.parse(good)).toEqual(good)
    expect(clusterEvidenceSchema.safeParse({...good, source: 'ssh'}).success).toBe(false)
    expect(clusterEvidenceSchema.safeParse({...good, errors: [{source: 'x', kind: 'oops', message: 'm'}]}).success).toBe(false)
    expect(clusterEvidenceSchema.safeParse({...good, objects: {...good.objects, nodes: undefined}}).success).toBe(false)
  })
})

describe('slimObject', () => {
  it('drops managedFields and only the last-applied annotation', () => {
    const obj = {
      metadata: {
        name: 'x',
        managedFields: [{manager: 'kubectl'}],
        annotations: {'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me'},
      },
    }
    expect(slimObject(obj)).toEqual({metadata: {name: 'x', annotations: {keep: 'me'}}})
    expect(slimObject({metadata: {annotations: {'kubectl.kubernetes.io/last-applied-configuration': '{}'}}})).toEqual({metadata: {}})
    expect(slimObject(null)).toBeNull()
  })
})
