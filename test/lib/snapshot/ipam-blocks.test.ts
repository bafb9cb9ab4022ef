import {describe, expect, it} from 'vitest'
import {buildModel} from '../../../src/lib/model/model.js'
import {podRanges} from '../../../src/lib/model/pod-ranges.js'
import {decodeSnapshot} from '../../../src/lib/snapshot/read.js'
import {encodeSnapshot} from '../../../src/lib/snapshot/write.js'
import {snapshotOf} from '../checks/fixtures.js'
import {calicoNode, withCniDaemonSet} from '../checks/scenarios.js'

const BLOCK = {metadata: {name: '10-244-3-64-26'}, spec: {cidr: '10.244.3.64/26', affinity: 'host:node-3', allocations: [null], unallocated: [0], attributes: [], strictAffinity: false, deleted: false}}

function calicoSnapshot() {
  return withCniDaemonSet(snapshotOf({nodes: [calicoNode()]}), 'calico')
}

describe("a snapshot's IPAMBlocks (cluster.objects.ipamBlocks)", () => {
  for (const gzip of [false, true]) {
    it(`round-trip as the server returned them${gzip ? ' (gzip)' : ''}, and still give node-3 its block`, () => {
      const snapshot = calicoSnapshot()
      snapshot.cluster!.objects.ipamBlocks = [BLOCK]
      const read = decodeSnapshot(encodeSnapshot(snapshot, gzip), 'snap.json')
      expect(read).toEqual(snapshot)
      expect(read.cluster?.objects.ipamBlocks).toEqual([BLOCK])
      const held = podRanges(buildModel(read)).ranges.filter((r) => r.origin?.source.startsWith('api: IPAMBlock'))
      expect(held.map((r) => [r.owner.name, r.cidr.text])).toEqual([['node-3', '10.244.3.64/26']])
    })
  }

  it('an older snapshot without the key still loads, and its blocks come from the routes', () => {
    const snapshot = calicoSnapshot()
    const doc = JSON.parse(encodeSnapshot(snapshot, false).toString('utf8')) as {cluster: {objects: Record<string, unknown>}}
    expect('ipamBlocks' in doc.cluster.objects).toBe(false)
    const read = decodeSnapshot(Buffer.from(JSON.stringify(doc)), 'old.json')
    expect(read.cluster?.objects.ipamBlocks).toBeUndefined()
    const model = buildModel(read)
    expect(model.cluster?.ipamBlocks).toBeUndefined()
    expect(podRanges(model).ranges.map((r) => [r.owner.name, r.cidr.text, r.origin?.source])).toEqual([
      ['node-1', '10.244.1.0/26', 'node-1: ip -j route show table all'],
      ['node-2', '10.244.2.0/26', 'node-1: ip -j route show table all'],
      ['node-3', '10.244.3.0/26', 'node-1: ip -j route show table all'],
    ])
  })

  it('a non-array ipamBlocks is refused like any malformed snapshot field', () => {
    const doc = JSON.parse(encodeSnapshot(calicoSnapshot(), false).toString('utf8')) as {cluster: {objects: Record<string, unknown>}}
    doc.cluster.objects.ipamBlocks = {cidr: '10.244.0.0/26'}
    expect(() => decodeSnapshot(Buffer.from(JSON.stringify(doc)), 'bad.json')).toThrow(/bad\.json/)
  })
})
