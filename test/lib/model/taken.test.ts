import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, test} from 'vitest'
import {resolveAnalysisModel} from '../../../src/lib/gather/analysis-source.js'
import {modelTaker} from '../../../src/lib/model/cluster/taken.js'
import {buildModel, type AnalysisModel} from '../../../src/lib/model/model.js'
import {readSnapshot, type ObjectList} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {encodeSnapshot} from '../../../src/lib/snapshot/write.js'
import {snapshotOf} from '../checks/fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'knet-taken-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** The fixture cluster plus objects the model can only partly read, so problems are part of what is compared. */
function oddSnapshot(): Snapshot {
  const snapshot = snapshotOf()
  const o = snapshot.cluster?.objects
  if (!o) throw new Error('no cluster')
  o.pods.push({metadata: {}}, 5, null, {metadata: {name: 'a-pod]"{', namespace: 'aa'}, spec: {containers: [{name: 'c', ports: [{containerPort: 'http'}, {containerPort: 80}]}]}, status: {podIP: '10.0.0.9'}})
  o.pods.unshift({metadata: {name: 'zz', namespace: 'zz'}, status: {podIPs: [{ip: ''}, {ip: '10.9.9.9'}]}})
  o.services.push({metadata: {name: 'odd', namespace: 'default'}, spec: {type: 'Weird', ports: [{}, {port: 53, protocol: 'UDP'}], clusterIP: '10.96.0.99'}})
  o.endpointSlices.push({}, {metadata: {name: 'odd-x', namespace: 'default', labels: {'kubernetes.io/service-name': 'odd'}}, endpoints: [{addresses: ['10.0.0.1', 7]}]})
  return snapshot
}

function file(name: string, snapshot: Snapshot, edit: (text: string) => string = (t) => t): string {
  const path = join(dir, name)
  writeFileSync(path, name.endsWith('.gz') ? encodeSnapshot(snapshot, true) : edit(encodeSnapshot(snapshot, false).toString('utf8')))
  return path
}

const source = (snapshot: string) => ({snapshot, timeoutMs: 1000, parallel: 1, knetVersion: 'test', command: 'test'})
const view = (m: AnalysisModel) => ({cluster: m.cluster, nodes: m.nodes.map((n) => n.name), collectionErrors: m.collectionErrors})

describe('modelling objects as the snapshot is read', () => {
  test('doctor\'s model (objects taken while parsing) equals the model of the snapshot read whole, problems included', async () => {
    for (const path of [file('odd.json', oddSnapshot()), file('odd.json.gz', oddSnapshot()), file('pretty.json', oddSnapshot(), (t) => JSON.stringify(JSON.parse(t), null, 2))]) {
      const expected = buildModel(await readSnapshot(path))
      expect(expected.cluster?.problems.length).toBeGreaterThan(5)
      expect(view(await resolveAnalysisModel(source(path)))).toEqual(view(expected))
    }
  })

  test('a document the scan does not read (a duplicate key) is parsed whole, with the same result', async () => {
    const path = file('dup.json', oddSnapshot(), (t) => t.replace('"pods":[', '"pods":[{"metadata":{"name":"dropped"}}],"pods":['))
    const taker = modelTaker()
    const starts: number[] = []
    const counting = {...taker, start: () => (starts.push(1), taker.start())}
    const snapshot = await readSnapshot(path, counting)
    expect(starts).toHaveLength(2)
    expect(snapshot.cluster?.objects.pods).toEqual([])
    expect(taker.taken()?.pods.items.map((p) => p.name)).not.toContain('dropped')
    expect(view(await resolveAnalysisModel(source(path)))).toEqual(view(buildModel(await readSnapshot(path))))
  })

  test('each taken object is handed over once, in file order, and its list comes back empty', async () => {
    const path = file('order.json', oddSnapshot())
    const seen: [ObjectList, number][] = []
    const snapshot = await readSnapshot(path, {lists: ['pods', 'endpointSlices'], start: () => undefined, take: (list, _o, i) => void seen.push([list, i])})
    const whole = await readSnapshot(path)
    expect(seen).toEqual([...(whole.cluster?.objects.pods ?? []).map((_, i) => ['pods', i]), ...(whole.cluster?.objects.endpointSlices ?? []).map((_, i) => ['endpointSlices', i])])
    expect(snapshot.cluster?.objects.pods).toEqual([])
    expect(snapshot.cluster?.objects.endpointSlices).toEqual([])
    expect(snapshot.cluster?.objects.services).toEqual(whole.cluster?.objects.services)
  })

  test('invalid JSON reads as the same one-line error with or without a taker', async () => {
    const path = file('bad.json', oddSnapshot(), (t) => t.slice(0, -5))
    const plain = await readSnapshot(path).catch((e: Error) => e.message)
    expect(plain).toMatch(/is not a knet snapshot: invalid JSON/)
    expect(await readSnapshot(path, modelTaker()).catch((e: Error) => e.message)).toBe(plain)
  })

  test('a corrupt gzip file reads as the same one-line error with or without a taker', async () => {
    const whole = encodeSnapshot(oddSnapshot(), true)
    const path = join(dir, 'cut.json.gz')
    writeFileSync(path, whole.subarray(0, whole.length - 20))
    const plain = await readSnapshot(path).catch((e: Error) => e.message)
    expect(plain).toMatch(/cut\.json\.gz is not a knet snapshot: corrupt gzip data/)
    expect(await readSnapshot(path, modelTaker()).catch((e: Error) => e.message)).toBe(plain)
  })

  test('a live source takes nothing: the taker reports undefined and the model is built from the objects', () => {
    expect(modelTaker().taken()).toBeUndefined()
  })

  test('release empties the object lists as they are modelled, and builds the same model', () => {
    const kept = buildModel(oddSnapshot())
    const snapshot = oddSnapshot()
    const released = buildModel(snapshot, {release: true})
    expect(view(released)).toEqual(view(kept))
    const o = snapshot.cluster?.objects
    expect([o?.nodes, o?.pods, o?.services, o?.endpointSlices, o?.networkPolicies]).toEqual([[], [], [], [], []])
  })
})
